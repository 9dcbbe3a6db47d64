"""DistillationClassifier with a scikit-learn student: the weighted label copies are the soft cross-entropy."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

pytest.importorskip("torch")

from sktransfer.deep import DistillationClassifier  # noqa: E402
from sktransfer.deep._distillation._sklearn_student import soft_targets  # noqa: E402


def _data(n=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.7 * rng.normal(size=n) > 0).astype(int)
    return X, y


def _soft_lr_reference(X, p, C):
    """argmin 0.5 |w|^2 - C sum_i [p_i log s(x_i w + b) + (1 - p_i) log(1 - s(x_i w + b))], by BFGS."""
    def objective(theta):
        z = X @ theta[:-1] + theta[-1]
        loss = -np.sum(p * log_expit(z) + (1 - p) * log_expit(-z))
        grad_z = expit(z) - p
        grad = np.r_[theta[:-1] + C * X.T @ grad_z, C * grad_z.sum()]
        return 0.5 * theta[:-1] @ theta[:-1] + C * loss, grad

    return minimize(objective, np.zeros(X.shape[1] + 1), jac=True, method="BFGS", options={"gtol": 1e-10}).x


@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_a_logistic_student_minimises_the_soft_cross_entropy_of_the_teacher(temperature):
    X, y = _data()
    teacher = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    student = DistillationClassifier(teacher, student=LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000),
                                     temperature=temperature, alpha=1.0).fit(X, None)
    # the reference: a logistic regression on soft labels, minimised directly (scipy), independent of the copies
    p = soft_targets(np.log(np.clip(teacher.predict_proba(X), 1e-300, None)), temperature)[:, 1]
    theta = _soft_lr_reference(X, p, C=1.0)
    np.testing.assert_allclose(student.student_.coef_.ravel(), theta[:-1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(student.student_.intercept_, theta[-1:], rtol=1e-5, atol=1e-6)
    # a higher temperature means softer targets: smaller weights
    assert temperature == 1.0 or np.abs(theta[:-1]).sum() < np.abs(_soft_lr_reference(X, soft_targets(
        np.log(np.clip(teacher.predict_proba(X), 1e-300, None)), 1.0)[:, 1], 1.0)[:-1]).sum()


def test_alpha_zero_is_the_labelled_rows_alone_and_unlabelled_rows_then_do_nothing():
    X, y = _data()
    y_masked = y.copy()
    y_masked[100:] = -1
    teacher = LogisticRegression().fit(X[:50], y[:50])
    student = DistillationClassifier(teacher, student=LogisticRegression(tol=1e-10), alpha=0.0).fit(X, y_masked)
    # weights rescaled to sum to the 200 rows: C scales by 200 / 100
    plain = LogisticRegression(C=2.0, tol=1e-10).fit(X[:100], y[:100])
    np.testing.assert_allclose(student.student_.coef_, plain.coef_, rtol=1e-5)


def test_unlabelled_target_rows_carry_the_teachers_knowledge():
    X, y = _data(400)
    teacher = HistGradientBoostingClassifier(max_iter=50, random_state=0).fit(X, y)
    few = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
    labels = np.full(len(y), -1)
    labels[few] = y[few]  # six labels: alone they teach little, the teacher covers the rest
    student = DistillationClassifier(teacher, student=LogisticRegression(), temperature=1.0).fit(X, labels)
    alone = LogisticRegression().fit(X[few], y[few])
    agree, agree_alone = (np.mean(m.predict(X) == teacher.predict(X)) for m in (student, alone))
    assert agree > 0.85 and agree > agree_alone + 0.02
    proba = student.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert student.score(X, y) == pytest.approx(np.mean(student.predict(X) == y))
    assert not hasattr(student, "net_")


def test_string_classes_teacher_inputs_clone_pickle_and_grid_search():
    X, y = _data()
    names = np.array(["neg", "pos"], dtype=object)[y]
    teacher = LogisticRegression().fit(2 * X, names)
    est = DistillationClassifier(teacher, student=LogisticRegression(), temperature=2.0)
    est.fit(X, None, teacher_X=2 * X)  # the teacher reads its own inputs
    assert set(est.predict(X)) <= {"neg", "pos"} and list(est.classes_) == ["neg", "pos"]
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict_proba(X), est.predict_proba(X))
    copy = clone(est)
    assert copy.teacher is teacher and not hasattr(copy, "student_")
    search = GridSearchCV(DistillationClassifier(teacher, student=LogisticRegression()),
                          {"temperature": [1.0, 4.0], "alpha": [0.5, 1.0]}, cv=3).fit(2 * X, names)
    assert search.best_params_["temperature"] in (1.0, 4.0)


def test_a_class_the_student_never_sees_gets_probability_zero():
    X, y = _data()
    y3 = np.where(X[:, 2] > 2.2, 2, y)  # a rare third class
    teacher = LogisticRegression().fit(X, y3)
    student = DistillationClassifier(teacher, student=HistGradientBoostingClassifier(max_iter=5), alpha=0.0)
    student.fit(X, np.where(y3 == 2, -1, y3))  # alpha=0: only the labels, which never show class 2
    proba = student.predict_proba(X)
    assert proba.shape == (len(X), 3) and np.all(proba[:, 2] == 0) and np.allclose(proba.sum(axis=1), 1.0)


def test_bad_students_are_refused_clearly():
    X, y = _data()
    teacher = LogisticRegression().fit(X, y)
    with pytest.raises(TypeError, match="sample_weight"):
        DistillationClassifier(teacher, student=KNeighborsClassifier()).fit(X, y)
    with pytest.raises(TypeError, match="predict_proba"):
        DistillationClassifier(teacher, student=StandardScaler()).fit(X, y)
    with pytest.raises(ValueError, match="not among the teacher's classes"):
        DistillationClassifier(teacher, student=LogisticRegression()).fit(X, np.where(y == 1, 5, y))
    with pytest.raises(ValueError, match="inconsistent|samples"):
        DistillationClassifier(teacher, student=LogisticRegression()).fit(X, y, teacher_X=X[:-1])
