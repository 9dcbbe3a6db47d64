"""One call that describes how source and target rows differ, with a plot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import ks_2samp
from sklearn.base import clone
from sklearn.utils.validation import check_array

from .._linalg import pca_basis
from .._sample_weights import effective_sample_size
from ..domain import check_domains
from ._mmd import check_two_samples, mmd, mmd_test
from ._proxy_a_distance import proxy_a_distance

__all__ = ["DomainShiftReport", "domain_shift_report"]

#: rows above which the permutation test subsamples (``mmd_test``'s max_samples)
_MMD_TEST_MAX_SAMPLES = 4000


@dataclass(eq=False, repr=False)
class DomainShiftReport:
    """Shift diagnostics between the source and the target rows of a dataset.

    Built by :func:`domain_shift_report`; ``print(report)`` shows a summary,
    :meth:`plot` draws it.

    Parameters
    ----------
    n_source, n_target : int
        Number of source rows (``sample_domain > 0``) and target rows (``< 0``).
    feature_names : list of str
        Names of the features: the columns of a DataFrame, else ``x0, x1, ...``.
    mmd : float
        Unbiased MMD² with a Gaussian kernel (see :func:`mmd`).
    mmd_pvalue : float
        Permutation p-value of ``mmd`` (see :func:`mmd_test`).
    gamma : float
        Bandwidth of the Gaussian kernel (median heuristic).
    n_permutations : int
        Permutations behind ``mmd_pvalue``.
    mmd_linear : float
        Unbiased MMD² with the linear kernel (the squared distance of the means).
    proxy_a_distance : float
        Proxy A-distance, in [0, 2] (see :func:`proxy_a_distance`).
    feature_shift : ndarray of shape (n_features,)
        Kolmogorov-Smirnov statistic of each feature, in [0, 1] (ranks the features).
    feature_mean_difference : ndarray of shape (n_features,)
        ``(mean_t - mean_s) / sqrt((var_s + var_t) / 2)`` per feature, the
        standardized mean difference. A feature constant in one domain counts
        its variance there as exactly 0, so the other domain's spread sets the
        scale; constant in both it is 0 at the same value and NaN at
        different values (no spread to measure the difference against; its
        KS statistic, 1, still ranks it first). See ``feature_constant_in``.
    feature_constant_in : ndarray of shape (n_features,), dtype str
        Where each feature takes a single value: ``"source"``, ``"target"``,
        ``"both"``, or ``""`` where it varies in both domains.
    projection : ndarray of shape (n_samples, 2)
        Source rows, then target rows, on the first two principal axes of the
        pooled, standardized rows.
    is_target : ndarray of shape (n_samples,), dtype bool
        Which rows of ``projection`` are target rows.
    explained_variance_ratio : ndarray of shape (2,)
        Share of the standardized variance along each axis of ``projection``.
    weights : ndarray of shape (n_source,) or None, default=None
        Importance weights of the source rows, when a weighter was given.
    effective_sample_size : float or None, default=None
        Kish's effective sample size of ``weights``.
    effective_sample_size_fraction : float or None, default=None
        ``effective_sample_size / n_source``.
    weighter : estimator or None, default=None
        The fitted clone of the weighter.

    See Also
    --------
    domain_shift_report : Builds the report.
    """

    n_source: int
    n_target: int
    feature_names: list
    mmd: float
    mmd_pvalue: float
    gamma: float
    n_permutations: int
    mmd_linear: float
    proxy_a_distance: float
    feature_shift: np.ndarray
    feature_mean_difference: np.ndarray
    feature_constant_in: np.ndarray
    projection: np.ndarray
    is_target: np.ndarray
    explained_variance_ratio: np.ndarray
    weights: np.ndarray | None = None
    effective_sample_size: float | None = None
    effective_sample_size_fraction: float | None = None
    weighter: Any = None

    @property
    def feature_ranking(self) -> np.ndarray:
        """Feature indices, most shifted (largest KS statistic) first."""
        return np.argsort(-self.feature_shift, kind="stable")

    def top_features(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most shifted features with their KS statistic.

        Parameters
        ----------
        k : int, default=10
            How many features.

        Returns
        -------
        features : list of (str, float)
            ``(name, KS statistic)`` pairs, most shifted first.
        """
        return [(self.feature_names[j], float(self.feature_shift[j])) for j in self.feature_ranking[:k]]

    def summary(self, k: int = 5) -> str:
        """A short text table of the diagnostics.

        Parameters
        ----------
        k : int, default=5
            Number of most shifted features listed.

        Returns
        -------
        text : str
            The table, one number per line.
        """
        # "<=" when no permutation reached the statistic: the p-value is then a bound.
        relation = "<=" if self.mmd_pvalue * (self.n_permutations + 1) < 1.5 else "="
        lines = [
            f"DomainShiftReport: {self.n_source} source rows, {self.n_target} target rows, "
            f"{len(self.feature_names)} features",
            f"  MMD^2 (gaussian)       {self.mmd:<10.4g} p {relation} {self.mmd_pvalue:.3g} "
            f"({self.n_permutations} permutations, gamma = {self.gamma:.3g})",
            f"  MMD^2 (linear)         {self.mmd_linear:.4g}",
            f"  proxy A-distance       {self.proxy_a_distance:<10.3f} (0: indistinguishable, 2: separable)",
        ] + ([] if self.weights is None else [
            f"  effective sample size  {self.effective_sample_size:<10.1f} of {self.n_source} "
            f"source rows ({self.effective_sample_size_fraction:.1%})"
        ]) + ["  most shifted features (KS statistic, standardized mean difference):"]
        width = max(len(name) for name in self.feature_names)
        lines += [
            f"    {self.feature_names[j]:<{width}}  {self.feature_shift[j]:.3f}  "
            f"{_format_difference(self.feature_mean_difference[j])}"
            + (f"  (constant in {self.feature_constant_in[j]})" if self.feature_constant_in[j] else "")
            for j in self.feature_ranking[:k]
        ]
        constant = self.constant_features
        if constant:
            shown = ", ".join(f"{name} ({where})" for name, where in list(constant.items())[:k])
            more = f" and {len(constant) - k} more" if len(constant) > k else ""
            lines.append(f"  constant features: {shown}{more}")
        return "\n".join(lines)

    @property
    def constant_features(self) -> dict[str, str]:
        """``{name: "source" | "target" | "both"}`` for the features that hold one value in a domain."""
        return {
            name: where for name, where in zip(self.feature_names, self.feature_constant_in) if where
        }

    def __repr__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """The numbers of the report as plain Python values (JSON-serialisable).

        Returns
        -------
        values : dict
            The scalars, ``feature_shift`` and ``feature_mean_difference``
            as ``{name: value}`` dicts, most shifted feature first (an
            undefined mean difference is None), and ``constant_features``.
            The arrays ``projection``, ``is_target`` and ``weights`` stay
            attributes.
        """
        order = self.feature_ranking
        keys = ["n_source", "n_target", "mmd", "mmd_pvalue", "gamma", "n_permutations", "mmd_linear",
                "proxy_a_distance", "effective_sample_size", "effective_sample_size_fraction"]
        out = {key: getattr(self, key) for key in keys}
        for key in ("feature_shift", "feature_mean_difference"):
            values = getattr(self, key)
            out[key] = {
                self.feature_names[j]: float(values[j]) if np.isfinite(values[j]) else None
                for j in order
            }
        out["constant_features"] = self.constant_features
        return out

    def plot(self, axes: Any = None, *, k: int = 10) -> Any:
        """Draw the report: PCA scatter, most shifted features, source weights.

        Parameters
        ----------
        axes : sequence of matplotlib Axes or None, default=None
            Two axes (three when the report has weights) to draw on; None
            makes a new figure, with a title and a tight layout.
        k : int, default=10
            Number of most shifted features in the bar chart.

        Returns
        -------
        figure : matplotlib Figure
            The figure holding the axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "DomainShiftReport.plot needs matplotlib: pip install matplotlib "
                "(the numbers are in print(report) and report.to_dict() without it)."
            ) from exc
        n_panels, created = 2 if self.weights is None else 3, axes is None
        if created:
            fig, axes = plt.subplots(1, n_panels, figsize=(5.2 * n_panels, 4.6))
        axes = list(np.ravel(axes))
        if len(axes) != n_panels:
            raise ValueError(f"plot needs {n_panels} axes for this report, got {len(axes)}.")
        fig = axes[0].figure
        self._plot_projection(axes[0])
        self._plot_features(axes[1], k)
        if self.weights is not None:
            self._plot_weights(axes[2])
        if created:  # a figure of the caller keeps its own title and layout
            fig.suptitle(f"Domain shift: MMD² = {self.mmd:.3g} (p = {self.mmd_pvalue:.3g}), "
                         f"proxy A-distance = {self.proxy_a_distance:.2f}")
            fig.tight_layout()
        return fig

    def _plot_projection(self, ax: Any) -> None:
        for mask, label, color in ((~self.is_target, "source", "tab:blue"),
                                   (self.is_target, "target", "tab:orange")):
            ax.scatter(*self.projection[mask].T, s=9, alpha=0.5, color=color,
                       label=f"{label} ({int(mask.sum())} rows)")
        ax.set_xlabel(f"PC1 ({self.explained_variance_ratio[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({self.explained_variance_ratio[1]:.0%} of variance)")
        ax.set_title("PCA of the pooled, standardized rows")
        ax.legend(loc="best", markerscale=2)

    def _plot_features(self, ax: Any, k: int) -> None:
        from matplotlib.patches import Patch

        top = self.feature_ranking[:k][::-1]
        shift, smd = self.feature_shift[top], self.feature_mean_difference[top]
        colors = np.where(np.isnan(smd), "tab:gray", np.where(smd >= 0, "tab:orange", "tab:blue"))
        ax.barh(np.arange(len(top)), shift, color=colors)
        ax.set_yticks(np.arange(len(top)), [self.feature_names[j] for j in top])
        for row, (value, d) in enumerate(zip(shift, smd)):
            ax.text(value, row, f" {_format_difference(d)}", va="center", fontsize=8)
        ax.set_xlim(0, 1.2 * max(float(shift.max()), 1e-3))
        ax.set_xlabel("Kolmogorov-Smirnov statistic (text: standardized mean difference)")
        ax.set_title(f"Top {len(top)} shifted features")
        ax.legend(handles=[Patch(color="tab:orange", label="target mean higher"),
                           Patch(color="tab:blue", label="target mean lower")],
                  loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)

    def _plot_weights(self, ax: Any) -> None:
        w = np.asarray(self.weights, dtype=float)
        # Near-constant weights would make a histogram one invisible sliver wide.
        span = (0.0, max(2.0, float(w.max()))) if np.ptp(w) < 1e-3 * max(float(w.mean()), 1e-12) else None
        ax.hist(w, bins=40, range=span, color="tab:green", alpha=0.8, log=True)
        ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="weight 1")
        ax.set_xlabel("importance weight of a source row")
        ax.set_ylabel("source rows (log scale)")
        ax.set_title(f"Source weights: ESS = {self.effective_sample_size:.0f} of {self.n_source} "
                     f"({self.effective_sample_size_fraction:.0%})")
        ax.legend(loc="upper right")


def _format_difference(value: float) -> str:
    """A standardized mean difference for display; NaN (constant in both domains) as n/a."""
    return "n/a" if np.isnan(value) else f"{value:+.2f}"


def _constant_in(Xs: np.ndarray, Xt: np.ndarray) -> np.ndarray:
    """``"source"``, ``"target"``, ``"both"`` or ``""``: where each feature holds one value."""
    source, target = np.ptp(Xs, axis=0) == 0, np.ptp(Xt, axis=0) == 0
    return np.select(
        [source & target, source, target], ["both", "source", "target"], default=""
    ).astype(str)


def _mean_difference(Xs: np.ndarray, Xt: np.ndarray, constant_in: np.ndarray) -> np.ndarray:
    """Standardized mean differences; finite, or NaN where the feature is constant in both domains."""
    diff = Xt.mean(axis=0) - Xs.mean(axis=0)
    # A constant feature's computed variance is rounding noise around its
    # rounded mean (1e-32 for ten 0.1s), which made the difference 1e15: use 0.
    var_s = np.where(np.isin(constant_in, ("source", "both")), 0.0, Xs.var(axis=0, ddof=1))
    var_t = np.where(np.isin(constant_in, ("target", "both")), 0.0, Xt.var(axis=0, ddof=1))
    scale = np.sqrt((var_s + var_t) / 2)
    out = np.divide(diff, scale, out=np.full(diff.shape, np.nan), where=scale > 0)
    out[(constant_in == "both") & (Xs[0] == Xt[0])] = 0.0
    return out


def _projection(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows on the first two principal axes of the standardized rows, and the variance shares."""
    std = X.std(axis=0)
    Z = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    n_components = min(2, Z.shape[1])
    _, axes = pca_basis(Z, n_components)
    coords = np.zeros((Z.shape[0], 2))
    coords[:, :n_components] = Z @ axes
    total = float(np.sum(Z.var(axis=0)))
    return coords, coords.var(axis=0) / total if total > 0 else np.zeros(2)


def domain_shift_report(
    X: ArrayLike,
    sample_domain: ArrayLike | None = None,
    *,
    y: ArrayLike | None = None,
    weighter: Any = None,
    n_permutations: int = 200,
    random_state: int | np.random.RandomState | None = None,
) -> DomainShiftReport:
    """Diagnose the shift between the source and the target rows of ``X``.

    Computes the Gaussian MMD² with its permutation p-value, the linear MMD²,
    the proxy A-distance, a per-feature ranking of the shift (Kolmogorov-Smirnov
    statistic, standardized mean difference), a 2-D PCA projection and, with a
    weighter, the source weights and their effective sample size. Every
    source domain (``sample_domain > 0``) is pooled as "source", every target
    domain (``< 0``) as "target".

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Source and target rows, stacked. A DataFrame's columns name the features.
    sample_domain : array-like of shape (n_samples,), default=None
        Domain id per row: > 0 source, < 0 target. None infers the domains
        from the label mask of ``y``.
    y : array-like of shape (n_samples,), default=None
        Labels, target ones masked (-1 or NaN): infer the domains when
        ``sample_domain`` is None.
    weighter : weighter or None, default=None
        A :mod:`sktransfer.reweighting` weighter (e.g. ``DiscriminativeWeighter()``),
        cloned and fit on ``(X, y, sample_domain)``.
    n_permutations : int, default=200
        Permutations of the MMD test.
    random_state : int, RandomState instance or None, default=None
        Passed to :func:`mmd_test` and :func:`proxy_a_distance`: with an int,
        each gives the numbers of a direct call with that int.

    Returns
    -------
    report : DomainShiftReport
        The numbers, a text summary (``print(report)``) and ``report.plot()``.

    See Also
    --------
    mmd_test : The kernel two-sample test.
    proxy_a_distance : The classifier-based distance.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.metrics import domain_shift_report
    >>> X, y, sample_domain = make_domain_shift(n_samples=100, random_state=0)
    >>> report = domain_shift_report(X, sample_domain, n_permutations=100, random_state=0)
    >>> report.n_source, report.n_target
    (100, 100)
    >>> report.mmd_pvalue < 0.05
    True
    """
    owner = "domain_shift_report"
    columns = getattr(X, "columns", None)
    X = check_array(X, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=0)
    names = [f"x{j}" for j in range(X.shape[1])] if columns is None else [str(c) for c in columns]
    domains = check_domains(X, y, sample_domain, estimator=owner)
    Xs, Xt = check_two_samples(
        X[domains.source], X[domains.target], owner, names=("X (source rows)", "X (target rows)")
    )
    test = mmd_test(Xs, Xt, n_permutations=n_permutations, max_samples=_MMD_TEST_MAX_SAMPLES,
                    random_state=random_state)
    # The test's statistic is the MMD of all rows unless it subsampled them;
    # only then compute it again on every row.
    full_mmd = test.statistic if len(Xs) + len(Xt) <= _MMD_TEST_MAX_SAMPLES else mmd(Xs, Xt, gamma=test.gamma)
    weights = ess = fitted = None
    if weighter is not None:
        if not hasattr(weighter, "compute_weights"):
            raise TypeError(
                f"{owner}: weighter must be a sktransfer.reweighting weighter (with fit(X, y, "
                f"sample_domain), weights_ and compute_weights, e.g. DiscriminativeWeighter()); "
                f"got {type(weighter).__name__}."
            )
        fitted = clone(weighter).fit(X, y, sample_domain=domains.sample_domain)
        weights = np.asarray(fitted.weights_, dtype=float)[domains.source]
        ess = effective_sample_size(weights)
    projection, variance = _projection(np.vstack([Xs, Xt]))
    constant_in = _constant_in(Xs, Xt)
    return DomainShiftReport(
        n_source=Xs.shape[0],
        n_target=Xt.shape[0],
        feature_names=names,
        mmd=full_mmd,
        mmd_pvalue=test.pvalue,
        gamma=test.gamma,
        n_permutations=n_permutations,
        mmd_linear=mmd(Xs, Xt, kernel="linear"),
        proxy_a_distance=proxy_a_distance(Xs, Xt, random_state=random_state),
        feature_shift=np.atleast_1d(ks_2samp(Xs, Xt, axis=0, method="asymp").statistic),
        feature_mean_difference=_mean_difference(Xs, Xt, constant_in),
        feature_constant_in=constant_in,
        projection=projection,
        is_target=np.r_[np.zeros(Xs.shape[0], bool), np.ones(Xt.shape[0], bool)],
        explained_variance_ratio=variance,
        weights=weights,
        effective_sample_size=ess,
        effective_sample_size_fraction=None if ess is None else ess / Xs.shape[0],
        weighter=fitted,
    )
