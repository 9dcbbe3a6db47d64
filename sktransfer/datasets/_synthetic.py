"""Synthetic source/target data with a known kind of dataset shift."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy.special import ndtri
from sklearn.utils import check_random_state

__all__ = ["make_domain_shift"]

_SHIFTS = ("covariate", "target", "prior", "concept", "subspace")
_TASKS = ("classification", "regression")

# Standard deviation of _rule(X) for X ~ N(0, I): Var(x_1) + Var(sin(2 x_0)),
# with E[sin^2(2Z)] = (1 - exp(-8)) / 2 for Z ~ N(0, 1).
_RULE_STD = float(np.sqrt(1.0 + (1.0 - np.exp(-8.0)) / 2.0))
# Radius of the circle that holds the class means of the class-conditional shifts.
_CLASS_RADIUS = 2.0


def _direction(n_features: int) -> np.ndarray:
    """Unit vector (1, ..., 1) / sqrt(n_features) along which means move."""
    return np.full(n_features, 1.0 / np.sqrt(n_features))


def _rotation(n_features: int, angle: float) -> np.ndarray:
    """Rotation by ``angle`` in the plane of the first two features."""
    rotation = np.eye(n_features)
    cos, sin = np.cos(angle), np.sin(angle)
    rotation[:2, :2] = [[cos, -sin], [sin, cos]]
    return rotation


def _rule(X: np.ndarray) -> np.ndarray:
    """The fixed nonlinear labelling function f(x) = x_1 + sin(2 x_0)."""
    return X[:, 1] + np.sin(2.0 * X[:, 0])


def _labels(
    rng: Any, X: np.ndarray, task: str, n_classes: int, noise: float
) -> np.ndarray:
    """Labels of ``X`` from the fixed rule, with label noise."""
    f = _rule(X)
    if task == "regression":
        return f + noise * rng.standard_normal(X.shape[0])
    # Thresholds at the source quantiles of a Gaussian with f's spread, so the
    # classes are roughly balanced under N(0, I) (exactly, for two classes).
    thresholds = _RULE_STD * ndtri(np.arange(1, n_classes) / n_classes)
    return _flip(rng, np.digitize(f, thresholds), n_classes, noise)


def _flip(rng: Any, y: np.ndarray, n_classes: int, noise: float) -> np.ndarray:
    """Replace each label, with probability ``noise``, by another class."""
    y = y.astype(np.int64, copy=True)
    flip = rng.random_sample(y.shape[0]) < noise
    y[flip] = (y[flip] + rng.randint(1, n_classes, size=flip.sum())) % n_classes
    return y


def _class_conditional(
    rng: Any, y: np.ndarray, n_features: int, n_classes: int, noise: float
) -> np.ndarray:
    """Draw x | y ~ N(m_y, I); with probability ``noise`` from another class."""
    angles = 2.0 * np.pi * np.arange(n_classes) / n_classes
    means = _CLASS_RADIUS * np.column_stack([np.cos(angles), np.sin(angles)])
    component = _flip(rng, y, n_classes, noise)
    X = rng.standard_normal((y.shape[0], n_features))
    X[:, :2] += means[component]
    return X


def _target_priors(n_classes: int, shift_strength: float) -> np.ndarray:
    """Target class proportions: class 0 is 4**shift_strength times class K-1."""
    logits = -shift_strength * np.log(4.0) * np.arange(n_classes) / (n_classes - 1)
    priors = np.exp(logits)
    return priors / priors.sum()


def _subspace_map(
    n_features: int, shift_strength: float
) -> tuple[np.ndarray, np.ndarray]:
    """The target map x -> A x + b of the subspace shift, as (A, b).

    A is symmetric positive definite, the form of CORAL's map C_t^(1/2) C_s^(-1/2).
    """
    scales = np.ones(n_features)
    scales[:2] = np.exp([shift_strength, -shift_strength])
    axes = _rotation(n_features, np.pi / 4.0)
    return (axes * scales) @ axes.T, shift_strength * _direction(n_features)


def _draw(
    rng: Any, n: int, shift: str, task: str, d: int, K: int, strength: float, noise: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return X_source, y_source, X_target, y_target for one shift."""
    if shift in ("covariate", "concept"):
        Xs, Xt = rng.standard_normal((n, d)), rng.standard_normal((n, d))
        ys = _labels(rng, Xs, task, K, noise)
        if shift == "covariate":
            Xt += strength * _direction(d)
            return Xs, ys, Xt, _labels(rng, Xt, task, K, noise)
        # Rows of Xt @ R are R^T x: the target rule is f(R^T x), f turned by +angle.
        turned = Xt @ _rotation(d, strength * np.pi / 4.0)
        return Xs, ys, Xt, _labels(rng, turned, task, K, noise)
    if shift == "target" and task == "regression":
        ys = rng.standard_normal(n)
        yt = strength + rng.standard_normal(n)

        def features(y: np.ndarray) -> np.ndarray:
            latent = y + noise * rng.standard_normal(y.shape[0])
            X = rng.standard_normal((y.shape[0], d))
            X[:, 0] += 2.0 * latent
            X[:, 1] += 2.0 * np.sin(2.0 * latent)
            return X

        return features(ys), ys, features(yt), yt
    if task == "classification":
        p_target = _target_priors(K, strength) if shift == "target" else None
        ys = rng.choice(K, size=n).astype(np.int64)
        yt = rng.choice(K, size=n, p=p_target).astype(np.int64)
        Xs = _class_conditional(rng, ys, d, K, noise)
        Xt = _class_conditional(rng, yt, d, K, noise)
    else:
        Xs, Xt = rng.standard_normal((n, d)), rng.standard_normal((n, d))
        ys, yt = _labels(rng, Xs, task, K, noise), _labels(rng, Xt, task, K, noise)
    if shift == "target":
        return Xs, ys, Xt, yt
    A, b = _subspace_map(d, strength)  # subspace: move the target rows
    return Xs, ys, Xt @ A.T + b, yt


def _check_int(value: Any, name: str, low: int, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an int >= {low} ({hint}); got {value!r}.")


def _check_bool(value: Any, name: str) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}.")


def _check_real(value: Any, name: str, high: float, hint: str) -> None:
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, bool)
        or not 0.0 <= value <= high
        or not np.isfinite(value)
    ):
        bound = "inf)" if high == np.inf else f"{high:g}]"
        raise ValueError(
            f"{name} must be a number in [0, {bound} ({hint}); got {value!r}."
        )


def make_domain_shift(
    n_samples: int = 100,
    *,
    shift: str = "covariate",
    task: str = "classification",
    n_features: int = 2,
    n_classes: int = 2,
    shift_strength: float = 1.0,
    noise: float = 0.1,
    mask_target: bool = True,
    return_density_ratio: bool = False,
    random_state: int | np.random.RandomState | None = None,
) -> tuple[np.ndarray, ...]:
    """Generate a source and a target domain that differ by one kind of shift.

    Each kind of dataset shift changes exactly one part of the joint
    distribution and keeps the rest, with Gaussian densities and a fixed
    labelling rule written out in Notes, so tests and examples can check an
    adaptation method against the truth (for covariate shift, down to the
    density ratio).

    Parameters
    ----------
    n_samples : int, default=100
        Number of rows in each domain; ``2 * n_samples`` rows are returned.
    shift : {"covariate", "target", "prior", "concept", "subspace"}, default="covariate"
        What changes between the domains; see Notes. ``"prior"`` is another
        name for ``"target"`` (label shift).
    task : {"classification", "regression"}, default="classification"
        Integer class labels ``0 .. n_classes - 1``, or real targets.
    n_features : int, default=2
        Number of features, at least 2. The labels depend on the first two;
        the others are Gaussian nuisance features (which still shift).
    n_classes : int, default=2
        Number of classes (classification only), at least 2.
    shift_strength : float, default=1.0
        Size of the shift, ``>= 0``; 0 means no shift at all.
    noise : float, default=0.1
        Label noise. Classification: the probability that a row's label is
        another class, in [0, 1]. Regression: the standard deviation of the
        Gaussian noise on ``y``.
    mask_target : bool, default=True
        Mask the labels of the target rows in ``y`` (``-1`` for classes,
        ``NaN`` for regression). Pass False to get the true target labels,
        e.g. to score a model on them.
    return_density_ratio : bool, default=False
        Also return the true density ratio ``p_target(x) / p_source(x)`` of
        every row. Only for ``shift="covariate"``.
    random_state : int, RandomState instance or None, default=None
        Seed or generator; the same seed gives the same data.

    Returns
    -------
    X : ndarray of shape (2 * n_samples, n_features), dtype float64
        Source rows (the first ``n_samples``), then target rows.
    y : ndarray of shape (2 * n_samples,)
        Class labels (int64) or real targets (float64); target rows masked when
        ``mask_target=True``.
    sample_domain : ndarray of shape (2 * n_samples,), dtype int64
        1 for source rows, -1 for target rows.
    density_ratio : ndarray of shape (2 * n_samples,), dtype float64
        Only when ``return_density_ratio=True``: ``p_target(x) / p_source(x)``.

    Raises
    ------
    ValueError
        If a parameter is out of range or an unknown option, or if
        ``return_density_ratio=True`` with a shift other than ``"covariate"``.

    See Also
    --------
    load_digits_shift : A shift between real images, offline.
    sktransfer.domain.split_domains : Split the stacked rows back into domains.

    Notes
    -----
    Write ``s = shift_strength``, ``d = n_features``, ``u = (1, ..., 1) /
    sqrt(d)``, ``R(a)`` the rotation by angle ``a`` in the plane of the first
    two features and ``f(x) = x_1 + sin(2 x_0)`` the labelling rule. From
    ``f``, a class label is ``k`` when ``f(x)`` lies between the thresholds
    ``t_k = sigma * Phi^{-1}(k / n_classes)`` (``sigma = sqrt(1 + (1 -
    exp(-8)) / 2)``, the standard deviation of ``f`` under ``N(0, I)``, so
    the classes are about balanced), then flipped to a uniformly chosen other
    class with probability ``noise``; a regression target is
    ``f(x) + N(0, noise^2)``. Class-conditional shifts draw
    ``x | y ~ N(m_y, I)`` with ``m_k = 2 (cos 2 pi k / K, sin 2 pi k / K, 0,
    ...)`` and, with probability ``noise``, ``m`` of another class instead:
    label noise that leaves ``p(x | y)`` the same in both domains.

    - ``"covariate"``: ``p(x)`` changes, ``p(y | x)`` does not. Source
      ``x ~ N(0, I)``, target ``x ~ N(s u, I)``; both labelled by ``f``. The
      density ratio is ``exp(s u.x - s^2 / 2)``.
    - ``"target"`` or ``"prior"`` (prior or label shift): ``p(y)`` changes,
      ``p(x | y)`` does not.
      Classification: source labels uniform over the classes, target label
      ``k`` with probability proportional to ``4^(-s k / (K - 1))`` (class 0
      is ``4^s`` times as likely as the last), then ``x`` drawn
      class-conditionally. Regression: source ``y ~ N(0, 1)``, target
      ``y ~ N(s, 1)``, and in both ``x ~ N(m(v), I)`` with
      ``m(v) = (2 v, 2 sin(2 v), 0, ...)`` and ``v = y + N(0, noise^2)``.
    - ``"concept"``: ``p(y | x)`` changes, ``p(x)`` does not. Both domains
      draw ``x ~ N(0, I)``; the source is labelled by ``f(x)``, the target by
      ``f(R(s pi / 4)^T x)``, the rule rotated by ``s * 45`` degrees.
    - ``"subspace"``: a linear change of the feature space. Source rows are
      drawn class-conditionally (regression: ``x ~ N(0, I)``, ``y`` from
      ``f``); target rows are drawn the same way and then mapped by
      ``x -> A x + s u`` with ``A = R(pi / 4) diag(e^s, e^-s, 1, ..., 1)
      R(pi / 4)^T``: a stretch by ``e^s`` along the diagonal of the first two
      features and a shrink by ``e^-s`` across it (``det A = 1``). Labels
      follow the rows. ``A`` is symmetric positive definite, the kind of map
      that aligning means and covariances (CORAL) undoes exactly when the
      source covariance is isotropic (three or more classes, or regression)
      and nearly otherwise. A rotation is left out on purpose: it leaves an
      isotropic covariance unchanged, so no second-order method could see it.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.datasets import make_domain_shift
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, random_state=0)
    >>> X.shape, y.shape, np.unique(sample_domain).tolist()
    ((100, 2), (100,), [-1, 1])
    >>> y[-3:]
    array([-1, -1, -1])
    >>> X, y, sample_domain, ratio = make_domain_shift(
    ...     n_samples=50, return_density_ratio=True, random_state=0)
    >>> ratio.shape
    (100,)
    >>> X, y, sample_domain = make_domain_shift(
    ...     n_samples=50, shift="concept", task="regression", random_state=0)
    >>> bool(np.isnan(y[sample_domain < 0]).all())
    True
    """
    _check_int(n_samples, "n_samples", 1, "the number of rows per domain")
    for name, value, choices in (("shift", shift, _SHIFTS), ("task", task, _TASKS)):
        if value not in choices:
            raise ValueError(
                f"Unknown {name}={value!r}; choose one of {', '.join(map(repr, choices))}."
            )
    _check_int(n_features, "n_features", 2, "the labels use the first two features")
    for name, value in (("mask_target", mask_target), ("return_density_ratio", return_density_ratio)):
        _check_bool(value, name)
    _check_real(shift_strength, "shift_strength", np.inf, "0 means no shift")
    if task == "classification":
        _check_int(n_classes, "n_classes", 2, "use task='regression' for real targets")
        _check_real(noise, "noise", 1.0, "the probability that a label is wrong")
    else:
        _check_real(noise, "noise", np.inf, "the standard deviation of the noise on y")
    if return_density_ratio and shift != "covariate":
        raise ValueError(
            f"return_density_ratio=True needs shift='covariate' (got shift={shift!r}): "
            "only there is p_target(x) / p_source(x) a known closed form. Pass "
            "shift='covariate' or return_density_ratio=False."
        )

    shift = "target" if shift == "prior" else shift
    rng = check_random_state(random_state)
    strength, noise = float(shift_strength), float(noise)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        Xs, ys, Xt, yt = _draw(rng, n_samples, shift, task, n_features, n_classes, strength, noise)
    X = np.concatenate([Xs, Xt]).astype(np.float64, copy=False)
    if not np.all(np.isfinite(X)):
        raise ValueError(
            f"shift_strength={shift_strength!r} is too large: the shifted features overflow "
            "float64 (the shift scales them by up to exp(shift_strength)). Use a strength "
            "of a few units; 0 means no shift."
        )
    dtype = np.int64 if task == "classification" else np.float64
    y = np.concatenate([ys, yt]).astype(dtype, copy=False)
    sample_domain = np.repeat(np.array([1, -1], dtype=np.int64), n_samples)
    if mask_target:
        # Same masks as sktransfer.domain.mask_target_labels.
        y[n_samples:] = -1 if task == "classification" else np.nan
    if not return_density_ratio:
        return X, y, sample_domain
    delta = strength * _direction(n_features)
    density_ratio = np.exp(X @ delta - 0.5 * strength**2)
    return X, y, sample_domain, density_ratio
