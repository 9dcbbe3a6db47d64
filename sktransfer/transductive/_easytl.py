"""EasyTL: Easy Transfer Learning (Wang, Chen, Yu, Huang & Yang, 2019)."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from sklearn.metrics import pairwise_distances

from .._compat import StrOptions
from ..alignment import CORAL
from ..domain import Domains
from ._base import BaseTransductiveClassifier

__all__ = ["EasyTL"]


def intra_domain_program(costs: np.ndarray) -> np.ndarray:
    """Solve EasyTL's linear program for the ``(n_target, n_classes)`` cost matrix ``D``.

    ``min sum_jc D_jc M_jc`` subject to ``0 <= M <= 1``, ``sum_c M_jc = 1``
    for every target row ``j`` and ``sum_j M_jc >= 1`` for every class ``c``
    (``label_prop.m``), with HiGHS. ``M`` is returned. The costs are divided
    by a power of two near their largest value first (the minimiser is
    unchanged): HiGHS reads costs above 1e20 as infinite.
    """
    n, c = costs.shape
    exponent = np.frexp(np.max(np.abs(costs), initial=0.0))[1]
    objective = np.ldexp(costs, -exponent).ravel()  # variable j * c + k is M[j, k]
    rows_sum = sparse.kron(sparse.eye(n), np.ones((1, c)), format="csr")
    class_sum = -sparse.kron(np.ones((1, n)), sparse.eye(c), format="csr")
    result = linprog(
        objective, A_ub=class_sum, b_ub=-np.ones(c), A_eq=rows_sum, b_eq=np.ones(n),
        bounds=(0.0, 1.0), method="highs",
    )
    if result.status != 0:  # the program is feasible and bounded: a solver failure
        raise RuntimeError(f"EasyTL: HiGHS did not solve the intra-domain program ({result.message}).")
    return result.x.reshape(n, c)


class EasyTL(BaseTransductiveClassifier):
    """Easy Transfer Learning: CORAL, then a linear program that labels the target rows.

    Intra-domain alignment maps the source rows with CORAL (the target rows
    stay as they are). Each class then has a centre, the mean of its mapped
    source rows, and each target row ``j`` a distance ``D_jc`` to each centre.
    Intra-domain programming labels the target rows together by solving the
    linear program ``min sum_jc D_jc M_jc`` over ``0 <= M <= 1``, each target
    row's ``M_j`` summing to 1 and each class receiving at least one target
    row (``sum_j M_jc >= 1``), and gives row ``j`` the class ``argmax_c
    M_jc``. There are no hyperparameters to tune.

    Parameters
    ----------
    alignment : "coral" or None, default="coral"
        Intra-domain alignment: CORAL with ``reg=1`` (the authors' covariance
        plus identity), or None for the raw features (EasyTL(c) in the
        paper).
    metric : {"euclidean", "sqeuclidean", "cosine"}, default="euclidean"
        Distance between a target row and a class centre.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, those of the source rows.
    transduction_ : ndarray of shape (n_samples,)
        Label of each training row: its own for source rows, the program's
        for target rows.
    assignment_ : ndarray of shape (n_target_rows, n_classes)
        ``M``, the program's solution for the training target rows, in the
        order they appear in ``X``.
    centers_ : ndarray of shape (n_classes, n_features)
        Class centres: means of the aligned source rows of each class.
    alignment_ : CORAL or None
        The fitted intra-domain alignment.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MEDA : Kernel classifier with dynamic distribution alignment.
    sktransfer.alignment.CORAL : The intra-domain alignment alone.

    Notes
    -----
    Follows the authors' code (``EasyTL.m``, ``CORAL_map.m`` and
    ``label_prop.m``), solving the program with scipy's HiGHS where they use
    MATLAB's ``linprog``. The constraint matrix is that of a bipartite
    graph, totally unimodular, so the vertex HiGHS returns has 0/1 entries:
    one class per target row. Without the
    class-size constraints each row would simply take its nearest centre;
    they only change the labels when a class would otherwise receive no
    target row, so the program needs at least as many target rows as
    classes. CORAL here also moves the source mean onto the target mean
    (``CORAL(center=True)``), which the authors' data, z-scored per domain,
    makes no difference to. ``predict`` on new rows gives each row its
    nearest centre (the program for that row alone, without the class-size
    constraints one row cannot meet), so on the training target rows it agrees with
    ``transduction_`` except where a class-size constraint moved a row; new
    rows are target rows unless ``sample_domain`` marks them as source rows,
    which are mapped with CORAL first. ``decision_function`` is minus the
    distances to the centres. Labels of target rows are ignored, and all
    source (target) domains are pooled. On Office-Caltech10 SURF (each
    domain L1-normalised then z-scored) the target accuracy equals, on all
    12 tasks, the one reported for the authors' Python port (its
    ``results.txt``; mean 50.5, and 45.4 without alignment).

    References
    ----------
    .. [1] J. Wang, Y. Chen, H. Yu, M. Huang and Q. Yang, "Easy Transfer
       Learning by Exploiting Intra-domain Structures", IEEE International
       Conference on Multimedia and Expo (ICME) 2019.
    .. [2] B. Sun, J. Feng and K. Saenko, "Return of Frustratingly Easy Domain
       Adaptation", AAAI 2016.

    Examples
    --------
    >>> from sktransfer import mask_target_labels
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.transductive import EasyTL
    >>> X, y_true, sd = make_domain_shift(
    ...     n_samples=60, shift="subspace", mask_target=False, random_state=0)
    >>> model = EasyTL().fit(X, mask_target_labels(y_true, sd), sample_domain=sd)
    >>> model.assignment_.shape  # the program's solution, one row per target row
    (60, 2)
    >>> round(model.score(X[sd < 0], y_true[sd < 0]), 2)
    0.78
    """

    _parameter_constraints: dict = {
        "alignment": [StrOptions({"coral"}), None],
        "metric": [StrOptions({"euclidean", "sqeuclidean", "cosine"})],
    }

    def __init__(self, *, alignment: str | None = "coral", metric: str = "euclidean"):
        self.alignment = alignment
        self.metric = metric

    def _fit(self, X: np.ndarray, codes: np.ndarray, domains: Domains) -> np.ndarray:
        n_classes, n_target = self.classes_.shape[0], int(domains.target.sum())
        if n_target < n_classes:
            raise ValueError(
                f"EasyTL gives each of the {n_classes} classes at least one target row, so it "
                f"needs at least as many target rows as classes; got {n_target} target row(s)."
            )
        if self.alignment == "coral":
            self.alignment_ = CORAL(reg=1.0)
            X = self.alignment_.fit_transform(X, sample_domain=domains.sample_domain)
        else:
            self.alignment_ = None
        Xs = X[domains.source]
        self.centers_ = np.vstack([Xs[codes == c].mean(axis=0) for c in range(n_classes)])
        costs = self._check_finite(self._distances(X[domains.target]), "distances to the centres")
        self.assignment_ = intra_domain_program(costs)
        return np.argmax(self.assignment_, axis=1)

    def _distances(self, X: np.ndarray) -> np.ndarray:
        if self.metric == "cosine":
            return pairwise_distances(X, self.centers_, metric="cosine")
        # Differences, as the authors' code, not ||x||^2 + ||c||^2 - 2 x.c, which cancels
        # catastrophically on large offsets; on X scaled by a power of two (exact), so
        # the squares neither overflow nor underflow.
        exponent = np.frexp(max(np.max(np.abs(X), initial=0.0), np.max(np.abs(self.centers_))))[1]
        Xs, centers = np.ldexp(X, -exponent), np.ldexp(self.centers_, -exponent)
        sq = np.column_stack([np.sum((Xs - c) ** 2, axis=1) for c in centers])
        if self.metric == "sqeuclidean":
            return np.ldexp(sq, 2 * exponent)
        return np.ldexp(np.sqrt(sq), exponent)

    def _scores(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        if self.alignment_ is not None and np.any(sample_domain > 0):
            X = self.alignment_.transform(X, sample_domain=sample_domain)
        return -self._distances(X)
