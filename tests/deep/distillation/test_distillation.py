"""DistillationClassifier: the loss against a hand computation, the teacher's checks, scikit-learn's API."""

from __future__ import annotations

import ast
import inspect
import pickle
import re

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.datasets import make_domain_shift
from sktransfer.deep import DistillationClassifier, FineTuneClassifier

torch = pytest.importorskip("torch")

from sktransfer.deep._distillation._loss import DistillationLoss, distillation_loss  # noqa: E402
from sktransfer.deep._distillation._teacher import check_teacher, teacher_logits  # noqa: E402

SMALL = dict(backbone=None, head=(8,), max_epochs=3, batch_size=16, random_state=0)


def _data(n=80):
    X, y, sd = make_domain_shift(n_samples=n, n_features=3, random_state=0)
    X = X.astype(np.float32)
    teacher = LogisticRegression().fit(X[y != -1], y[y != -1])
    return X, y, teacher


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _numpy_loss(s, t, labels, T, alpha, w=None):
    p, q = _softmax(t / T), _softmax(s / T)
    kl = np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))
    known = labels >= 0
    if not known.any():
        ce = 0.0
    else:
        logq = np.log(_softmax(s[known]))
        nll = -logq[np.arange(known.sum()), labels[known]]
        wr = np.ones(known.sum()) if w is None else w[labels[known]]
        ce = np.sum(wr * nll) / np.sum(wr)
    return alpha * T**2 * kl + (1 - alpha) * ce


@pytest.mark.parametrize("T, alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 0.0), (0.5, 1.0)])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_is_hintons_by_hand(T, alpha, weighted):
    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(6, 3)) * 2, rng.normal(size=(6, 3)) * 2
    labels = np.array([0, 2, -1, 1, -1, 2])
    w = np.array([1.0, 2.0, 0.5]) if weighted else None
    got = distillation_loss(torch.tensor(s), torch.tensor(t), torch.tensor(labels), temperature=T, alpha=alpha,
                            class_weight=None if w is None else torch.tensor(w))
    np.testing.assert_allclose(float(got), _numpy_loss(s, t, labels, T, alpha, w), rtol=1e-10)
    # The packed form the training loop calls: the teacher's logits, then the labels as a float column.
    packed = torch.tensor(np.column_stack([t, labels]))
    loss_fn = DistillationLoss(T, alpha, None if w is None else torch.tensor(w))
    np.testing.assert_allclose(float(loss_fn(torch.tensor(s), packed)), float(got), rtol=1e-12)


def test_unlabelled_rows_get_only_the_distillation_term():
    rng = np.random.default_rng(1)
    s = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    t = torch.tensor(rng.normal(size=(4, 3)))
    unlabelled = torch.tensor([-1, -1, -1, -1])
    loss = distillation_loss(s, t, unlabelled, temperature=3.0, alpha=0.3)
    # alpha * T^2 * KL: the numpy loss with alpha=1 is T^2 * KL.
    expected = 0.3 * _numpy_loss(s.detach().numpy(), t.numpy(), np.full(4, -1), 3.0, 1.0)
    np.testing.assert_allclose(float(loss.detach()), expected, rtol=1e-10)
    loss.backward()
    assert torch.isfinite(s.grad).all()
    # A labelled row's cross-entropy does not reach the unlabelled rows' gradients.
    s2 = s.detach().clone().requires_grad_(True)
    distillation_loss(s2, t, torch.tensor([0, -1, -1, -1]), temperature=3.0, alpha=0.3).backward()
    np.testing.assert_allclose(s2.grad[1:].numpy(), s.grad[1:].numpy() * 1.0, rtol=1e-10)


def test_a_logistic_regression_teaches_and_the_fit_is_deterministic():
    X, y, teacher = _data()
    a = DistillationClassifier(teacher, **SMALL).fit(X, y)
    b = DistillationClassifier(teacher, **SMALL).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.classes_.tolist() == [0, 1] and a.n_epochs_ == 3
    c = DistillationClassifier(teacher, **{**SMALL, "random_state": 1}).fit(X, y)
    assert np.abs(c.predict_proba(X) - a.predict_proba(X)).max() > 1e-6


def test_a_student_learns_the_teacher_from_unlabelled_rows_alone():
    X, y, teacher = _data(200)
    student = DistillationClassifier(teacher, alpha=1.0, backbone=None, head=(16,), max_epochs=40, lr=0.02,
                                     random_state=0).fit(X)  # y=None: every row unlabelled
    assert np.mean(student.predict(X) == teacher.predict(X)) > 0.9


def test_alpha_zero_is_the_supervised_student_on_the_labelled_rows():
    X, y, teacher = _data()
    hard = DistillationClassifier(teacher, alpha=0.0, **SMALL).fit(X, y)
    other_teacher = LogisticRegression(C=1e-3).fit(X[y != -1], y[y != -1])
    same = DistillationClassifier(other_teacher, alpha=0.0, **SMALL).fit(X, y)
    np.testing.assert_allclose(hard.predict_proba(X), same.predict_proba(X), atol=1e-6)


def test_teacher_logits_are_log_proba_in_sorted_class_order():
    X, y, _ = _data()
    labels = np.where(y == 1, "b", "a")
    teacher = LogisticRegression().fit(X[y != -1], labels[y != -1])
    np.testing.assert_allclose(teacher_logits(teacher, X, "T"), np.log(teacher.predict_proba(X)), rtol=1e-5)
    assert check_teacher(teacher, "T").tolist() == ["a", "b"]
    # A teacher whose classes_ are not sorted: its columns follow the sorted classes.
    teacher.classes_ = teacher.classes_[::-1]
    np.testing.assert_allclose(teacher_logits(teacher, X, "T"), np.log(teacher.predict_proba(X))[:, ::-1],
                               rtol=1e-5)
    student = DistillationClassifier(teacher, **SMALL).fit(X[y != -1], labels[y != -1])  # strings: never masked
    assert student.classes_.tolist() == ["a", "b"] and set(student.predict(X)) <= {"a", "b"}


def test_a_finetune_network_teaches_on_other_inputs_than_the_student():
    X, y, _ = _data()
    Xt = np.column_stack([X, X ** 2]).astype(np.float32)  # the teacher reads other features
    net = FineTuneClassifier(backbone=None, max_epochs=3, random_state=0).fit(Xt, y)
    student = DistillationClassifier(net, **SMALL).fit(X, y, teacher_X=Xt)
    assert student.predict(X).shape == (len(X),)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        DistillationClassifier(net, **SMALL).fit(X, y, teacher_X=Xt[:10])


def test_bad_teachers_and_labels_are_refused_clearly():
    X, y, teacher = _data()
    with pytest.raises(TypeError, match="needs a fitted classifier with predict_proba as teacher; got a "
                                        "LinearRegression"):
        DistillationClassifier(LinearRegression().fit(X, y), **SMALL).fit(X, y)
    with pytest.raises(NotFittedError, match="the teacher LogisticRegression is not fitted. Fit it first"):
        DistillationClassifier(LogisticRegression(), **SMALL).fit(X, y)
    three = np.where(y == -1, -1, y + 5 * (np.arange(len(y)) % 3 == 0))
    with pytest.raises(ValueError, match=r"labels \[5, 6\] that are not among the teacher's classes \[0, 1\]"):
        DistillationClassifier(teacher, **SMALL).fit(X, three)
    pm = LogisticRegression().fit(X[y != -1], 2 * y[y != -1] - 1)
    with pytest.raises(ValueError, match=r"include -1, which marks an unlabelled row"):
        DistillationClassifier(pm, **SMALL).fit(X, y)

    class NoClasses:
        def fit(self, X, y):
            self.coef_ = 1
            return self

        def predict_proba(self, X):
            return np.full((len(X), 3), 0.5)

    with pytest.raises(ValueError, match="needs a teacher with classes_"):
        DistillationClassifier(NoClasses().fit(X, y), **SMALL).fit(X, y)
    wrong = NoClasses().fit(X, y)
    wrong.classes_ = np.array([0, 1])
    with pytest.raises(ValueError, match=r"returned shape \(\d+, 3\), not \(n_samples, 2\)"):
        DistillationClassifier(wrong, **SMALL).fit(X, y)
    wrong.predict_proba = lambda X: np.full((len(X), 2), np.nan)
    with pytest.raises(ValueError, match="non-finite or negative"):
        DistillationClassifier(wrong, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="'temperature' parameter"):
        DistillationClassifier(teacher, temperature=0.0, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="'alpha' parameter"):
        DistillationClassifier(teacher, alpha=1.5, **SMALL).fit(X, y)
    assert not hasattr(DistillationClassifier(teacher), "partial_fit")


def test_warm_start_refuses_a_teacher_with_other_classes():
    X, y, teacher = _data()
    student = DistillationClassifier(teacher, warm_start=True, **SMALL).fit(X, y)
    three = LogisticRegression().fit(X[:60], np.arange(60) % 3)
    with pytest.raises(ValueError, match=r"\(warm start\): the teacher's classes \[0, 1, 2\]"):
        student.set_params(teacher=three).fit(X, y)


def test_clone_keeps_the_fitted_teacher_and_pickle_round_trips():
    X, y, teacher = _data()
    student = DistillationClassifier(teacher, temperature=2.0, **SMALL)
    copy = clone(student)
    assert copy.teacher is teacher and copy.get_params()["temperature"] == 2.0
    assert clone(student).get_params().keys() == student.get_params().keys()
    student.fit(X, y)
    back = pickle.loads(pickle.dumps(student))
    np.testing.assert_array_equal(back.predict_proba(X), student.predict_proba(X))
    np.testing.assert_array_equal(back.teacher.coef_, teacher.coef_)


def test_signature_and_documented_parameters():
    params = list(inspect.signature(DistillationClassifier).parameters.values())
    assert params[0].name == "teacher" and params[0].default is inspect.Parameter.empty
    assert [p.name for p in params[1:5]] == ["temperature", "alpha", "student", "backbone"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:])
    section = DistillationClassifier.__doc__.split("Parameters\n    ----------\n")[1].split("\n    Attributes\n")[0]
    documented = {}
    for names, default in re.findall(r"^    (\w[\w, ]*) : .*default=(.+)$", section, flags=re.M):
        for name in names.split(", "):
            documented[name] = ast.literal_eval(default)
    assert list(documented) == [p.name for p in params[1:]]
    assert documented == {p.name: p.default for p in params[1:]}


def test_early_stopping_validates_on_the_distillation_loss():
    X, y, teacher = _data()
    student = DistillationClassifier(teacher, early_stopping=True, **{**SMALL, "max_epochs": 4}).fit(X, y)
    assert {"val_loss", "val_score"} <= set(student.history_[0]) and 0 <= student.history_[0]["val_score"] <= 1


def test_in_a_pipeline_and_a_grid_search_over_temperature():
    X, y, teacher = _data()
    pipe = make_pipeline(StandardScaler(), DistillationClassifier(teacher, **SMALL))
    assert pipe.fit(X, y).predict(X).shape == (len(X),)
    labelled = y != -1
    grid = GridSearchCV(DistillationClassifier(teacher, **SMALL), {"temperature": [1.0, 4.0]}, cv=2)
    grid.fit(X[labelled], y[labelled])
    assert grid.best_params_["temperature"] in (1.0, 4.0)
    assert grid.best_estimator_.teacher is teacher
