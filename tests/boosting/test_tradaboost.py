"""TrAdaBoostClassifier: the paper's formulas, transfer on a task built for it, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from sktransfer import make_da_pipeline, stack_domains
from sktransfer.boosting import TrAdaBoostClassifier
from sktransfer.datasets import make_domain_shift


def partly_wrong_source(
    seed: int,
    *,
    task: str = "classification",
    n_source: int = 150,
    frac_wrong: float = 0.25,
    n_target: int = 10,
    n_test: int = 1000,
    n_features: int = 2,
    angle: float = 135.0,
    noise: float = 0.1,
):
    """A linear target concept; most source rows follow it, a fraction follows it turned by ``angle``.

    Returns the stacked training rows (source, then ``n_target`` labelled
    target rows), ``sample_domain``, and target test rows.
    """
    rng = np.random.RandomState(seed)
    w_target = np.eye(n_features)[0]
    turn = np.deg2rad(angle)
    w_wrong = np.cos(turn) * np.eye(n_features)[0] + np.sin(turn) * np.eye(n_features)[1]

    def draw(n, w):
        X = rng.standard_normal((n, n_features))
        score = X @ w
        if task == "regression":
            return X, score + noise * rng.standard_normal(n)
        return X, (score > 0).astype(int)

    n_wrong = int(frac_wrong * n_source)
    Xg, yg = draw(n_source - n_wrong, w_target)
    Xw, yw = draw(n_wrong, w_wrong)
    Xt, yt = draw(n_target, w_target)
    X_test, y_test = draw(n_test, w_target)
    X, y, sd = stack_domains(source=(np.vstack([Xg, Xw]), np.r_[yg, yw]), target=(Xt, yt))
    return X, y, sd, X_test, y_test


@pytest.fixture(scope="module")
def labelled_target():
    """make_domain_shift with the labels of the first 15 target rows kept."""
    X, y, sd = make_domain_shift(n_samples=60, shift="concept", mask_target=False, random_state=0)
    y = y.copy()
    y[75:] = -1
    return X, y, sd


# ------------------------------------------------------------ the formulas


@pytest.mark.parametrize("base", [DecisionTreeClassifier(max_depth=3), LogisticRegression()])
def test_first_round_is_the_plain_estimator_on_uniform_weights(base):
    """Round 1 trains on uniform weights: it must equal the base estimator fitted unweighted."""
    X, y, sd = make_domain_shift(
        n_samples=50, shift="concept", shift_strength=0.0, mask_target=False, random_state=1
    )
    clf = TrAdaBoostClassifier(base, n_estimators=3, random_state=0).fit(X, y, sample_domain=sd)
    first = clf.estimators_[0]
    plain = clone(base).set_params(random_state=first.random_state).fit(X, y)
    np.testing.assert_array_equal(first.predict(X), plain.predict(X))
    if hasattr(plain, "coef_"):
        np.testing.assert_allclose(first.coef_, plain.coef_, rtol=1e-6)


@pytest.mark.parametrize("drift_correction", [True, False])
@pytest.mark.parametrize("n_classes, learning_rate", [(2, 1.0), (2, 0.5), (3, 1.0), (3, 0.7)])
def test_one_round_by_hand(n_classes, learning_rate, drift_correction):
    """Dai et al. (2007) Algorithm 1 with Al-Stouhi & Reddy's C_t and SAMME, written out.

    eps  = sum_target w l / sum_target w          (l = 1 when misclassified)
    alpha = lr (ln((1 - eps) / eps) + ln(K - 1))
    target: w exp(alpha l); source: C_t w beta^(lr l), beta = 1 / (1 + sqrt(2 ln n / N)),
    C_t = growth of the target total = (1 - eps) + eps exp(alpha)  (= 2 (1 - eps) for K=2, lr=1);
    C_t = 1 without the drift correction (Dai et al.'s own update).
    """
    X, y, sd = make_domain_shift(
        n_samples=60, shift="concept", n_classes=n_classes, mask_target=False, random_state=3
    )
    N = 2
    clf = TrAdaBoostClassifier(
        DecisionTreeClassifier(max_depth=2), n_estimators=N, learning_rate=learning_rate,
        drift_correction=drift_correction, random_state=0,
    ).fit(X, y, sample_domain=sd)
    source, target = sd > 0, sd < 0
    w = np.full(len(y), 1 / len(y))
    miss = (clf.classes_[clf.estimators_[0].predict(X)] != y).astype(float)
    eps = np.sum(w[target] * miss[target]) / np.sum(w[target])
    alpha = learning_rate * (math.log((1 - eps) / eps) + math.log(n_classes - 1))
    beta = 1 / (1 + math.sqrt(2 * math.log(source.sum()) / N))
    C = (1 - eps) + eps * math.exp(alpha) if drift_correction else 1.0
    if n_classes == 2 and learning_rate == 1.0 and drift_correction:
        assert C == pytest.approx(2 * (1 - eps))
    new = np.where(target, w * np.exp(alpha * miss), C * w * beta ** (learning_rate * miss))
    assert clf.estimator_errors_[0] == pytest.approx(eps)
    assert clf.estimator_weights_[0] == pytest.approx(alpha)
    assert clf.source_beta_ == pytest.approx(beta)
    np.testing.assert_allclose(clf.sample_weight_, new / new.sum())
    # What the update means: misclassified target rows gain weight, misclassified
    # source rows lose weight against the correct ones, by exactly beta^lr.
    got = clf.sample_weight_
    assert np.all(got[target & (miss == 1)] > w[target & (miss == 1)])
    ok_s, bad_s = np.flatnonzero(source & (miss == 0))[0], np.flatnonzero(source & (miss == 1))[0]
    assert got[bad_s] / got[ok_s] == pytest.approx(beta**learning_rate)
    # ... and the source never gains total weight (the drift correction keeps it level at best).
    assert got[source].sum() <= w[source].sum()


@pytest.mark.parametrize("drift_correction", [True, False])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_one_round_by_hand_with_the_probability_loss(n_classes, drift_correction):
    """The same round with l = 1 - p(true class) from the learner's predict_proba.

    C_t is the growth of the target total, sum_target w exp(alpha l) / sum_target w,
    which no longer has the closed form of the 0/1 loss.
    """
    X, y, sd = make_domain_shift(
        n_samples=60, shift="concept", n_classes=n_classes, mask_target=False, random_state=3
    )
    N = 2
    clf = TrAdaBoostClassifier(LogisticRegression(C=0.1), n_estimators=N, loss="probability",
                               drift_correction=drift_correction, random_state=0)
    clf.fit(X, y, sample_domain=sd)
    source, target = sd > 0, sd < 0
    w = np.full(len(y), 1 / len(y))
    first = LogisticRegression(C=0.1).fit(X, y)  # round 1: uniform weights (rescaled to mean 1)
    loss = 1 - first.predict_proba(X)[np.arange(len(y)), np.searchsorted(first.classes_, y)]
    eps = np.sum(w[target] * loss[target]) / np.sum(w[target])
    alpha = math.log((1 - eps) / eps) + math.log(n_classes - 1)
    beta = 1 / (1 + math.sqrt(2 * math.log(source.sum()) / N))
    C = np.sum(w[target] * np.exp(alpha * loss[target])) / np.sum(w[target]) if drift_correction else 1.0
    new = np.where(target, w * np.exp(alpha * loss), C * w * beta**loss)
    assert clf.estimator_errors_[0] == pytest.approx(eps)
    assert clf.estimator_weights_[0] == pytest.approx(alpha)
    np.testing.assert_allclose(clf.sample_weight_, new / new.sum(), rtol=1e-6)


def test_probability_loss_moves_the_weights_where_the_zero_one_loss_cannot():
    # 160 rows in 200 dimensions: the logistic regression separates every
    # labelled row, so the 0/1 error is 0 in every round and no weight ever
    # moves (TrAdaBoost is the pooled fit); 1 - p(true class) stays positive.
    X, y, sd, _, _ = partly_wrong_source(0, n_features=200, frac_wrong=0.25, n_target=10)
    target = sd < 0
    assert LogisticRegression().fit(X, y).score(X, y) == 1.0
    hard = TrAdaBoostClassifier(LogisticRegression(), n_estimators=4, random_state=0).fit(X, y, sample_domain=sd)
    soft = TrAdaBoostClassifier(LogisticRegression(), n_estimators=4, loss="probability", random_state=0)
    soft.fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(hard.estimator_errors_, 0.0)
    assert np.all(soft.estimator_errors_ > 0.0)
    np.testing.assert_allclose(hard.sample_weight_, 1 / len(y))  # still uniform
    w_soft = soft.sample_weight_[target]
    assert w_soft.max() / w_soft.min() > 1.5


def test_probability_loss_transfers_better_with_many_features_and_few_target_rows():
    """Half the source follows a concept turned by 135 degrees, 50 features, 20 labelled target rows.

    Over five seeds: target-only 0.668, pooled 0.599, TrAdaBoost with the 0/1
    loss 0.624, with the probability loss 0.647 (better on every seed).
    """
    scores = []
    for seed in range(5):
        X, y, sd, X_test, y_test = partly_wrong_source(seed, n_features=50, frac_wrong=0.5, n_target=20)
        pooled = LogisticRegression().fit(X, y).score(X_test, y_test)
        hard, soft = (
            TrAdaBoostClassifier(LogisticRegression(), loss=loss, random_state=seed)
            .fit(X, y, sample_domain=sd).score(X_test, y_test)
            for loss in ("zero_one", "probability")
        )
        scores.append((pooled, hard, soft))
    pooled, hard, soft = np.mean(scores, axis=0)
    assert soft > hard + 0.01 and soft > pooled + 0.03, scores


def test_chance_level_learner_gets_no_vote_and_leaves_target_weights_alone():
    """eps >= 1/2 is clipped just below 1/2: alpha ~ 0, target unchanged, source still cleaned."""
    X = np.arange(20, dtype=float).reshape(-1, 1)
    y = np.array([0, 1] * 10)
    sd = np.array([1] * 12 + [-1] * 8)
    clf = TrAdaBoostClassifier(DummyClassifier(strategy="constant", constant=0), n_estimators=2)
    clf.fit(X, y, sample_domain=sd)
    assert clf.estimator_errors_[0] == 0.5
    assert 0 < clf.estimator_weights_[0] < 1e-8
    w = clf.sample_weight_
    np.testing.assert_allclose(w[sd < 0], w[sd < 0][0])  # targets still equal
    beta = clf.source_beta_
    assert w[1] / w[0] == pytest.approx(beta)  # the misclassified source row shrank
    np.testing.assert_array_equal(clf.predict(X), 0)


def test_perfect_learner_gets_a_finite_weight():
    """eps = 0 is clipped to 1e-10: alpha = ln((1 - 1e-10) / 1e-10), and boosting goes on."""
    X = np.arange(12, dtype=float).reshape(-1, 1)
    y = np.array([0, 1] * 3 + [0] * 6)
    sd = np.array([1] * 6 + [-1] * 6)
    clf = TrAdaBoostClassifier(DummyClassifier(strategy="constant", constant=0), n_estimators=3)
    clf.fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(clf.estimator_errors_, 0.0)
    np.testing.assert_allclose(clf.estimator_weights_, math.log((1 - 1e-10) / 1e-10))
    assert len(clf.estimators_) == 3


# -------------------------------------------------------------- transfer


def test_beats_target_only_and_pooled_when_part_of_the_source_is_wrong():
    """A quarter of the source follows a concept turned by 135 degrees; 10 labelled target rows.

    Averaged over five seeds, TrAdaBoost must beat both the same estimator on
    the 10 target rows alone and on all rows pooled, by 2 points of accuracy.
    (Over these seeds: target-only 0.80, pooled 0.89, TrAdaBoost 0.95.)
    """
    scores = []
    for seed in range(5):
        X, y, sd, X_test, y_test = partly_wrong_source(seed)
        target = sd < 0
        base = LogisticRegression()
        only = clone(base).fit(X[target], y[target]).score(X_test, y_test)
        pooled = clone(base).fit(X, y).score(X_test, y_test)
        clf = TrAdaBoostClassifier(base, n_estimators=10, random_state=seed)
        scores.append((only, pooled, clf.fit(X, y, sample_domain=sd).score(X_test, y_test)))
    only, pooled, ours = np.mean(scores, axis=0)
    assert ours > max(only, pooled) + 0.02, scores


def test_masked_rows_are_ignored(labelled_target):
    X, y, sd = labelled_target
    keep = y != -1
    full = TrAdaBoostClassifier(random_state=0).fit(X, y, sample_domain=sd)
    part = TrAdaBoostClassifier(random_state=0).fit(X[keep], y[keep], sample_domain=sd[keep])
    np.testing.assert_array_equal(full.predict(X), part.predict(X))
    assert np.all(full.sample_weight_[~keep] == 0)
    np.testing.assert_allclose(full.sample_weight_[keep], part.sample_weight_)


def test_string_labels_and_three_classes():
    X, y, sd = make_domain_shift(n_samples=40, n_classes=3, mask_target=False, random_state=0)
    names = np.array(["a", "b", "c"])[y]
    clf = TrAdaBoostClassifier(random_state=0).fit(X, names, sample_domain=sd)
    assert set(clf.predict(X)) <= {"a", "b", "c"}
    assert clf.decision_function(X).shape == (80, 3)


# ---------------------------------------------------------------- methods


def test_staged_methods_end_at_the_final_vote(labelled_target):
    X, y, sd = labelled_target
    clf = TrAdaBoostClassifier(n_estimators=7, random_state=0).fit(X, y, sample_domain=sd)
    staged = list(clf.staged_predict(X))
    assert len(staged) == 7
    np.testing.assert_array_equal(staged[-1], clf.predict(X))
    np.testing.assert_array_equal(staged[0], clf.classes_[clf.estimators_[0].predict(X)])
    np.testing.assert_allclose(list(clf.staged_predict_proba(X))[-1], clf.predict_proba(X))
    np.testing.assert_allclose(list(clf.staged_decision_function(X))[-1], clf.decision_function(X))


def test_only_the_second_half_votes(labelled_target):
    """Rounds ceil(N/2) .. N vote: with N=5, rounds 3, 4, 5 (0-based 2, 3, 4)."""
    X, y, sd = labelled_target
    clf = TrAdaBoostClassifier(n_estimators=5, random_state=0).fit(X, y, sample_domain=sd)
    a = clf.estimator_weights_
    signs = np.array([np.where(e.predict(X) == 1, 1.0, -1.0) for e in clf.estimators_])
    expected = 2 * (a[2:] @ signs[2:]) / a[2:].sum()  # SAMME's binary decision
    np.testing.assert_allclose(clf.decision_function(X), expected)


def test_probabilities(labelled_target):
    X, y, sd = labelled_target
    clf = TrAdaBoostClassifier(random_state=0).fit(X, y, sample_domain=sd)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_predict_accepts_and_ignores_sample_domain(labelled_target):
    X, y, sd = labelled_target
    clf = TrAdaBoostClassifier(random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(clf.predict(X, sample_domain=sd), clf.predict(X))


@pytest.mark.parametrize("routing", [False, True])
def test_final_step_of_a_da_pipeline_gets_every_row_and_the_domains(labelled_target, routing):
    X, y, sd = labelled_target
    with config_context(enable_metadata_routing=routing):
        pipe = make_da_pipeline(StandardScaler(), TrAdaBoostClassifier(random_state=0))
        pipe.fit(X, y, sample_domain=sd)
        pred = pipe.predict(X)
    direct = TrAdaBoostClassifier(random_state=0).fit(
        StandardScaler().fit_transform(X), y, sample_domain=sd
    )
    assert pipe[-1].sample_weight_.shape == (len(y),)  # masked rows reached it too
    np.testing.assert_array_equal(pred, direct.predict(StandardScaler().fit(X).transform(X)))


# ----------------------------------------------------------------- errors


def test_needs_labelled_target_rows(labelled_target):
    X, y, sd = labelled_target
    y = y.copy()
    y[sd < 0] = -1
    with pytest.raises(ValueError, match="needs some labelled target rows"):
        TrAdaBoostClassifier().fit(X, y, sample_domain=sd)


def test_needs_sample_domain(labelled_target):
    X, y, _ = labelled_target
    with pytest.raises(ValueError, match="needs sample_domain"):
        TrAdaBoostClassifier().fit(X, y)


def test_base_estimator_must_take_sample_weight(labelled_target):
    X, y, sd = labelled_target
    with pytest.raises(TypeError, match="KNeighborsClassifier.fit does not"):
        TrAdaBoostClassifier(KNeighborsClassifier()).fit(X, y, sample_domain=sd)


def test_regression_targets_are_refused(labelled_target):
    X, _, sd = labelled_target
    y = np.linspace(0.1, 5.3, len(sd))
    with pytest.raises(ValueError, match="Unknown label type"):
        TrAdaBoostClassifier().fit(X, y, sample_domain=sd)


def test_one_class_is_refused(labelled_target):
    X, _, sd = labelled_target
    with pytest.raises(ValueError, match="at least 2 classes"):
        TrAdaBoostClassifier().fit(X, np.zeros(len(sd), dtype=int), sample_domain=sd)


def test_y_is_required(labelled_target):
    X, _, sd = labelled_target
    with pytest.raises(ValueError, match="requires y"):
        TrAdaBoostClassifier().fit(X, None, sample_domain=sd)


@pytest.mark.parametrize(
    "params, match",
    [({"n_estimators": 0}, "n_estimators"), ({"learning_rate": 0.0}, "learning_rate"), ({"loss": "hinge"}, "loss")],
)
def test_bad_parameters(labelled_target, params, match):
    X, y, sd = labelled_target
    with pytest.raises(ValueError, match=match):
        TrAdaBoostClassifier(**params).fit(X, y, sample_domain=sd)


def test_probability_loss_needs_predict_proba(labelled_target):
    from sklearn.linear_model import RidgeClassifier

    X, y, sd = labelled_target
    with pytest.raises(TypeError, match="predict_proba"):
        TrAdaBoostClassifier(RidgeClassifier(), loss="probability").fit(X, y, sample_domain=sd)
    TrAdaBoostClassifier(RidgeClassifier(), n_estimators=2).fit(X, y, sample_domain=sd)  # the 0/1 loss needs none
