"""RegularTransferClassifier: its objective's gradient, its limits, binary and multiclass."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier
from sklearn.model_selection import GridSearchCV, KFold

from sktransfer.parameter import RegularTransferClassifier
from sktransfer.parameter._penalised_logistic import penalised_logistic_loss


def _data(n_classes=2, n_source=100, n_target=60, n_features=3, random_state=0):
    """Multinomial logistic source and target models with close weights, noisy labels."""
    rng = np.random.RandomState(random_state)
    W_source = rng.normal(size=(n_classes, n_features))
    W_target = W_source + 0.5 * rng.normal(size=(n_classes, n_features))

    def draw(W, n):
        X = rng.normal(size=(n, n_features))
        P = np.exp(X @ W.T)
        P /= P.sum(axis=1, keepdims=True)
        y = np.array([rng.choice(n_classes, p=p) for p in P])
        return X, y

    Xs, ys = draw(W_source, n_source)
    Xt, yt = draw(W_target, n_target)
    sd = np.r_[np.ones(n_source, int), -np.ones(n_target, int)]
    return np.vstack([Xs, Xt]), np.r_[ys, yt], sd


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fitted_parameters_are_a_stationary_point(n_classes):
    X, y, sd = _data(n_classes)
    model = RegularTransferClassifier(alpha=2.0, tol=1e-10, max_iter=1000).fit(X, y, sample_domain=sd)
    Xt = np.hstack([X[sd < 0], np.ones(((sd < 0).sum(), 1))])
    yt = y[sd < 0]
    Y = (yt == 1).astype(float) if n_classes == 2 else np.eye(n_classes)[yt]
    theta = np.hstack([model.coef_, model.intercept_[:, None]])
    theta_s = np.hstack([model.source_coef_, model.source_intercept_[:, None]])
    _, grad = penalised_logistic_loss(theta.ravel(), Xt, Y, np.ones(len(yt)), theta_s, 2.0)
    assert np.abs(grad).max() < 1e-6


@pytest.mark.parametrize("n_classes", [2, 3])
def test_large_alpha_keeps_the_source_model(n_classes):
    X, y, sd = _data(n_classes)
    model = RegularTransferClassifier(alpha=1e9).fit(X, y, sample_domain=sd)
    source = LogisticRegression().fit(X[sd > 0], y[sd > 0])
    np.testing.assert_allclose(model.source_coef_, source.coef_, rtol=1e-10)
    np.testing.assert_allclose(model.coef_, source.coef_, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, source.intercept_, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_tiny_alpha_is_an_unpenalised_logistic_regression_on_the_target(n_classes):
    """Reference: LogisticRegression(C=1e8) fitted on the labelled target rows alone."""
    X, y, sd = _data(n_classes)
    model = RegularTransferClassifier(alpha=1e-8, tol=1e-10, max_iter=2000).fit(X, y, sample_domain=sd)
    ref = LogisticRegression(C=1e8, tol=1e-12, max_iter=10000).fit(X[sd < 0], y[sd < 0])
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    if n_classes == 2:  # the softmax parameters are only defined up to a shift
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-4)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_prediction_methods_agree(n_classes):
    X, y, sd = _data(n_classes)
    model = RegularTransferClassifier().fit(X, y, sample_domain=sd)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])
    scores = model.decision_function(X)
    assert scores.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    assert model.coef_.shape == (1 if n_classes == 2 else n_classes, 3)


def test_a_class_without_target_labels_keeps_finite_parameters():
    X, y, sd = _data(3)
    y = y.copy()
    y[(sd < 0) & (y == 2)] = -1  # no labelled target row of class 2
    model = RegularTransferClassifier(alpha=0.1).fit(X, y, sample_domain=sd)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.abs(model.intercept_) < 50)


def test_sample_weight_equals_repeated_rows():
    X, y, sd = _data()
    w = np.random.RandomState(1).randint(1, 4, size=len(y)).astype(float)
    a = RegularTransferClassifier(tol=1e-10).fit(X, y, sample_domain=sd, sample_weight=w)
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    b = RegularTransferClassifier(tol=1e-10).fit(X[rows], y[rows], sample_domain=sd[rows])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-5)


def test_one_vs_rest_source_coefficients_are_the_prior_of_a_multinomial_model():
    X, y, sd = _data(3)
    source = SGDClassifier(random_state=0)
    model = RegularTransferClassifier(alpha=1e9, source_estimator=source).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(model.coef_, model.source_estimator_.coef_, atol=1e-6)


def test_string_labels():
    X, y, sd = _data()
    names = np.array(["no", "yes"], dtype=object)[y]
    model = RegularTransferClassifier().fit(X, names, sample_domain=sd)
    assert set(model.predict(X)) <= {"no", "yes"}
    np.testing.assert_array_equal(model.classes_, ["no", "yes"])


def test_convergence_warning():
    X, y, sd = _data(3)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        RegularTransferClassifier(alpha=1e-3, max_iter=1).fit(X, y, sample_domain=sd)



def test_a_failed_line_search_warns():
    """On X * 1e150 the gradient is too large to step along: L-BFGS-B stops at once with
    status 2 (ABNORMAL) and the source parameters came back without a word."""
    X, y, sd = _data()
    source = LogisticRegression(max_iter=1000)
    with pytest.warns(ConvergenceWarning, match="RegularTransferClassifier: L-BFGS-B stopped after 0 iteration"):
        RegularTransferClassifier(source_estimator=source).fit(X * 1e150, y, sample_domain=sd)


class _OneRowSource(ClassifierMixin, BaseEstimator):
    """Three classes but a single row of coefficients."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.coef_ = np.zeros((1, X.shape[1]))
        self.intercept_ = np.zeros(1)
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_errors():
    X, y, sd = _data(3)
    y_new = y.copy()
    y_new[np.flatnonzero(sd < 0)[0]] = 7
    with pytest.raises(ValueError, match=r"target labels \[7\] are not among the source"):
        RegularTransferClassifier().fit(X, y_new, sample_domain=sd)
    with pytest.raises(TypeError, match="needs a classifier as source_estimator"):
        RegularTransferClassifier(source_estimator=Ridge()).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match=r"1 row\(s\) for 3 classes; expected 3"):
        RegularTransferClassifier(source_estimator=_OneRowSource()).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="Unknown label type"):
        RegularTransferClassifier().fit(X, X[:, 0], sample_domain=sd)
    with pytest.raises(ValueError, match="RegularTransferClassifier needs sample_domain"):
        RegularTransferClassifier().fit(X, y)


def test_score_is_accuracy_on_the_labelled_rows():
    X, y, sd = _data()
    model = RegularTransferClassifier().fit(X, y, sample_domain=sd)
    y_masked = y.copy()
    y_masked[:20] = -1
    assert model.score(X, y_masked) == np.mean(model.predict(X[20:]) == y[20:])


@pytest.mark.parametrize("routing", [False, True], ids=["routing_off", "routing_on"])
def test_grid_search_over_alpha(routing):
    """sample_domain reaches fit through GridSearchCV, sliced per fold, routing on or off."""
    X, y, sd = _data(n_target=40)
    y = y.copy()
    y[np.flatnonzero(sd < 0)[20:]] = -1
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(RegularTransferClassifier(), {"alpha": [0.1, 10.0]}, cv=cv)
    with config_context(enable_metadata_routing=routing):
        search.fit(X, y, sample_domain=sd)
    assert search.best_params_["alpha"] in (0.1, 10.0)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
