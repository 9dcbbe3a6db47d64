"""The iteration JDA and BDA share: embed, pseudo-label the target rows, rebuild the MMD matrix.

Long et al. (2013) and Wang et al. (2017) solve, for features ``F`` of the
``n`` training rows (the rows themselves for the linear kernel, kernel values
otherwise), ``F^T H F a = l (F^T M F + alpha_ I) a`` and keep the leading
solutions, with the ridge ``alpha_ = alpha * trace(F^T H F)`` (the authors'
``lambda`` is absolute). ``M`` is a sum of ``C + 1`` rank-one MMD matrices ``e e^T`` (one
marginal, one per class), so the constraint is ``alpha_ I`` plus a low-rank
part and :func:`~sktransfer._linalg.leading_eigenpairs_low_rank` solves it
without forming ``M``. ``F^T H F`` does not change between iterations; only
the pseudo-labels, hence ``M``, do.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import ClassNamePrefixFeaturesOutMixin, clone
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from .._compat import HasMethods, Interval, StrOptions
from .._kernels import resolve_approximation
from .._linalg import _psd_eigh, inv_sqrtm_psd, leading_eigenpairs_low_rank, sqrtm_psd
from .._sampling import random_rows, stratified_rows
from ..base import BaseAdapter
from ..domain import Domains

logger = logging.getLogger(__name__)

#: Above this many rows, ``approximation="auto"`` uses landmarks instead of the
#: exact n x n kernel. Lower than TransferComponentAnalysis's 5,000: each of the
#: ``max_iter`` iterations solves an n x n eigenproblem (about 5 s at 2,000 rows
#: and 30 s at 5,000 on 2 cores, for 100 components), where TCA solves one.
MAX_EXACT_SAMPLES = 2000

#: ``max_labeller_rows="auto"``: past this many source rows the default 1-NN pseudo-labeller is
#: fitted on a class-stratified sample of this many. Its cost is reference rows times target
#: rows per iteration: at 50,000 + 50,000 rows x 256 features it took about 90 of the 100 s.
MAX_LABELLER_ROWS = 10_000

_KERNELS = {"linear", "rbf", "laplacian", "poly", "polynomial", "sigmoid", "cosine"}


def mmd_factor(
    source: np.ndarray,
    source_codes: np.ndarray,
    pseudo_codes: np.ndarray | None,
    n_classes: int,
    mu: float,
    weighted: bool,
) -> sparse.csr_matrix:
    """``S`` with ``S S^T = M / ||M||_F``, the normalised MMD matrix of the author code.

    ``M = (1 - mu) C e0 e0^T + mu sum_c e_c e_c^T``: ``e0`` is ``1/n_s`` on source
    rows and ``-1/n_t`` on target rows; ``e_c`` is ``1/n_s^c`` on source rows of
    class ``c`` and ``-alpha_c/n_t^c`` on target rows pseudo-labelled ``c``, with
    ``alpha_c = P_t(c) / P_s(c)`` for W-BDA and 1 otherwise. Without
    pseudo-labels (first iteration) ``M`` is the marginal term alone.
    """
    n = source.shape[0]
    n_s, n_t = source.sum(), n - source.sum()
    e0 = np.where(source, 1.0 / n_s, -1.0 / n_t)
    if pseudo_codes is None:
        rows, cols, vals = [np.arange(n)], [np.zeros(n, int)], [e0]
    else:
        src, tgt = np.flatnonzero(source), np.flatnonzero(~source)
        count_s = np.bincount(source_codes, minlength=n_classes)
        count_t = np.bincount(pseudo_codes, minlength=n_classes)
        class_weight = (count_t / n_t) / (count_s / n_s) if weighted else np.ones(n_classes)
        rows = [np.arange(n), src, tgt]
        cols = [np.zeros(n, int), 1 + source_codes, 1 + pseudo_codes]
        vals = [
            np.sqrt((1.0 - mu) * n_classes) * e0,
            np.sqrt(mu) / count_s[source_codes],
            -np.sqrt(mu) * class_weight[pseudo_codes] / count_t[pseudo_codes],
        ]
    S = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n_classes + 1)
    )
    # ||S S^T||_F = ||S^T S||_F: the (C+1) x (C+1) Gram gives the author's norm(M, 'fro').
    fro = np.linalg.norm((S.T @ S).toarray(), "fro")
    return S / np.sqrt(fro)


def unit_rows(Z: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 norm (zero rows stay zero), as the author code does before 1-NN."""
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0)


class BaseJointAdaptation(ClassNamePrefixFeaturesOutMixin, BaseAdapter):
    """Template of JDA and BDA; subclasses say how the MMD terms are balanced (``_balance``)."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "kernel": [StrOptions(_KERNELS)],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "approximation": [StrOptions({"auto", "exact", "nystroem"})],
        "n_landmarks": [Interval(Integral, 1, None, closed="left")],
        "max_labeller_rows": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "random_state": ["random_state"],
    }

    _domain_needs = ("source", "target", "source_labels")

    def _balance(self) -> tuple[float, bool]:
        """``(mu, weighted)``: weight of the class-conditional terms, and W-BDA's class weights."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # ------------------------------------------------------------------ kernel
    def _kernel(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return pairwise_kernels(
            X, Y, metric=self.kernel, filter_params=True,
            gamma=self.gamma_, degree=self.degree, coef0=self.coef0,
        )

    def _resolve_approximation(self, n_samples: int) -> str:
        if self.kernel == "linear":
            return "primal"  # the paper's primal problem, solved exactly (see _features)
        return resolve_approximation(self.approximation, n_samples, MAX_EXACT_SAMPLES)

    def _basis_features(self, X: np.ndarray) -> np.ndarray:
        """What ``projection_`` multiplies: the rows (linear), or kernel values against the anchors."""
        if self.approximation_ == "primal":
            return X
        return self._kernel(X, self.X_fit_ if self.approximation_ == "exact" else self.landmarks_)

    def _features(self, X: np.ndarray, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray | None]:
        """Training features ``F`` whose plain ridge problem is the paper's, and the map ``T``
        with ``F = basis(X) @ T`` (None: identity), so ``projection_ = T @ a``.

        Linear: ``F = X`` (the paper's primal problem, ridge on the projection);
        with more features than rows, ``F = U S`` from ``X X^T = U S^2 U^T``, the
        same problem in the row space (``T = V = X^T U S^-1``). Exact kernel:
        ``F = K``, the author code's kernel problem (ridge on the coefficients).
        Nyström: ``K ~ Phi Phi^T`` with ``Phi = k(X, Z) K_ZZ^{-1/2}``; the kernel
        problem with ``K`` replaced by ``Phi Phi^T`` is the ridge problem on
        ``F = Phi G^{1/2}`` (``G = Phi^T Phi``), with the same norm on the
        coefficients, so with every row a landmark it is the exact problem.
        """
        n, d = X.shape
        if self.approximation_ == "primal":
            if d <= n or n > MAX_EXACT_SAMPLES:
                return X, None
            vals, U = _psd_eigh(self._check_finite(X @ X.T, "Gram matrix of the rows"))
            keep = vals > 0
            if not keep.any():  # X is all zeros: nothing to project, the d x d problem is trivial
                return X, None
            s = np.sqrt(vals[keep])
            return U[:, keep] * s, (X.T @ U[:, keep]) / s
        if self.approximation_ == "exact":
            self.X_fit_ = X.copy()
            return self._check_finite(self._kernel(X, X), "kernel matrix"), None
        m = min(self.n_landmarks, n)
        self.landmarks_ = X[random_rows(n, m, rng)]
        K_xz = self._check_finite(self._kernel(X, self.landmarks_), "kernel matrix")
        L = inv_sqrtm_psd(self._kernel(self.landmarks_, self.landmarks_))
        T = L @ sqrtm_psd(self._check_finite(L @ (K_xz.T @ K_xz) @ L, "Gram matrix of the features"))
        return K_xz @ T, T

    def _labeller_cap(self) -> int | None:
        """Most source rows the pseudo-labeller is fitted on (None: all of them)."""
        if self.max_labeller_rows == "auto":
            return MAX_LABELLER_ROWS if self.estimator is None else None
        return self.max_labeller_rows

    # --------------------------------------------------------------------- fit
    def _check_domains(self, X, y, sample_domain) -> Domains:
        if y is None:  # worded as scikit-learn's check_requires_y_none expects
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None. It "
                "matches class-conditional distributions, so it needs the labels of the source "
                "rows: pass y with the target labels masked (-1)."
            )
        return super()._check_domains(X, y, sample_domain)

    def _source_classes(self, y: np.ndarray, domains: Domains) -> np.ndarray:
        name = type(self).__name__
        if isinstance(self.estimator, type):
            raise TypeError(
                f"{name} needs an estimator instance, but estimator is the class "
                f"{self.estimator.__name__}: pass {self.estimator.__name__}() instead."
            )
        y_source = column_or_1d(y, warn=False)[domains.source]  # a column of labels is fine
        kind = type_of_target(y_source)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type {kind!r} on the source rows: {name} needs class labels "
                "there (it matches class-conditional distributions through pseudo-labels). "
                "Pass class labels; for a regression target use TransferComponentAnalysis."
            )
        return y_source

    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> np.ndarray:
        y_source = self._source_classes(y, domains)
        X = X.astype(np.float64, copy=False)
        source, target = domains.source, domains.target
        classes, source_codes = np.unique(y_source, return_inverse=True)
        mu, weighted = self._balance()
        variance = X.var()
        self.gamma_ = (
            self.gamma if self.gamma is not None
            else 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
        )
        self.approximation_ = self._resolve_approximation(X.shape[0])
        rng = check_random_state(self.random_state)  # the landmarks, then the labeller's rows
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, naming the cause
            F, T = self._features(X, rng)
            F = self._check_finite(F, "feature matrix")
            mean = F.mean(axis=0)
            A = np.zeros((F.shape[1], F.shape[1]))
            for rows in gen_batches(F.shape[0], max(1, 2**22 // F.shape[1])):
                Fc = F[rows] - mean
                A += Fc.T @ Fc  # F^T H F, the variance kept
        A = self._check_finite(A, "matrix K H K")
        # The ridge relative to the variance kept: F^T H F and F^T M F both grow with the
        # rows' count and squared scale (the kernel problem's with the count squared), an
        # absolute ridge does not, and at 20,000 raw rows of norm 16 the MMD term alone
        # shaped the map and mixed the classes (benchmarks/scale.py).
        total_variance = float(np.trace(A))
        self.alpha_ = self.alpha * total_variance if total_variance > 0 else self.alpha
        logger.info("%s on %d rows: %s solution, %d features", type(self).__name__, X.shape[0],
                    self.approximation_, F.shape[1])
        estimator = KNeighborsClassifier(n_neighbors=1) if self.estimator is None else self.estimator
        # The pseudo-labeller's training rows: every source row, or a class-stratified sample
        # drawn once, so that every iteration's labeller is fitted on the same rows.
        keep = np.arange(y_source.shape[0])
        cap = self._labeller_cap()
        if cap is not None and keep.shape[0] > cap:
            keep = stratified_rows(source_codes, cap, rng)
        labeller, y_labeller = np.flatnonzero(source)[keep], y_source[keep]
        self.labeller_rows_ = keep.shape[0]
        logger.info("pseudo-labeller fitted on %d of %d source rows", keep.shape[0], y_source.shape[0])
        pseudo = None
        for iteration in range(1, self.max_iter + 1):
            S = mmd_factor(source, source_codes, pseudo, classes.shape[0], mu, weighted)
            P = self._check_finite((S.T @ F).T, "matrix K M K")
            vals, coef = leading_eigenpairs_low_rank(lambda V: A @ V, A.shape[0], P, self.alpha_,
                                                     self.n_components)
            # Unit-norm columns, as scipy.linalg.eig returns them in the author code: the
            # row normalisation below (and so the pseudo-labels) depends on this scale.
            coef /= np.maximum(np.linalg.norm(coef, axis=0), np.finfo(np.float64).tiny)
            mapped = self._check_finite(unit_rows(F @ coef), "mapped rows")
            fitted = clone(estimator).fit(mapped[labeller], y_labeller)
            labels = fitted.predict(mapped[target])
            new = self._pseudo_codes(labels, classes, fitted)
            logger.info("iteration %d: %d target rows changed class", iteration,
                        target.sum() if pseudo is None else int((new != pseudo).sum()))
            # Unchanged pseudo-labels give the same M, hence the same map, from here on.
            converged = pseudo is not None and np.array_equal(new, pseudo)
            pseudo = new
            if converged:
                break
        projection = self._check_finite(coef if T is None else T @ coef, "projection")
        # Signs as flip_signs fixes them, on the projection itself so that every path that
        # solves the same problem (linear: features or Gram) gives the same projection_.
        # Flipping a component changes no distance, hence no pseudo-label.
        top = np.argmax(np.abs(projection), axis=0)
        signs = np.where(projection[top, np.arange(projection.shape[1])] < 0, -1.0, 1.0)
        self.n_iter_ = iteration
        self.estimator_ = fitted
        self.pseudo_labels_ = labels
        self.eigenvalues_ = self._check_finite(vals, "eigenvalues")
        self.projection_ = projection * signs
        self.n_components_ = vals.shape[0]
        self._n_features_out = self.n_components_
        return mapped * signs

    def _pseudo_codes(self, labels: np.ndarray, classes: np.ndarray, fitted) -> np.ndarray:
        labels = np.asarray(labels)
        known = np.isin(labels, classes)
        if labels.ndim != 1 or not known.all():
            raise ValueError(
                f"{type(self).__name__} needs its estimator to predict source classes for the "
                f"target rows (pseudo-labels), but {type(fitted).__name__} predicted "
                f"{labels.ravel()[~known.ravel()][:3]!r}, not among {classes[:5]!r}. Use a "
                "classifier, e.g. KNeighborsClassifier(n_neighbors=1) (the default)."
            )
        return np.searchsorted(classes, labels)

    def _likely_cause(self) -> str:
        gamma = getattr(self, "gamma_", self.gamma)
        return (
            f"{type(self).__name__} used kernel={self.kernel!r} with gamma_={gamma!r} and "
            f"alpha_={getattr(self, 'alpha_', self.alpha)!r}. The eigenproblem multiplies kernel "
            "values together, so large "
            "ones overflow: a large gamma or degree makes 'poly' values explode, and the "
            "'linear' kernel squares large features. Standardise X (StandardScaler), pass a "
            "smaller gamma, or use the 'rbf' kernel, whose values stay in [0, 1]."
        )

    # --------------------------------------------------------------- transform
    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        X = X.astype(np.float64, copy=False)
        out = np.empty((X.shape[0], self.n_components_))
        with np.errstate(over="ignore", invalid="ignore"):  # BaseAdapter checks the output
            for rows in gen_batches(X.shape[0], max(1, 2**22 // self.projection_.shape[0])):
                out[rows] = self._basis_features(X[rows]) @ self.projection_
        return unit_rows(out)
