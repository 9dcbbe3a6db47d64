"""The domain contract: how source and target rows travel through ``fit``.

Every estimator in sktransfer takes one stacked ``X`` (source and target rows
together), one ``y`` and an optional ``sample_domain``, with skada's
conventions:

- ``sample_domain[i] > 0``: row ``i`` comes from a source domain (1, 2, ... for
  several sources); ``< 0``: from a target domain (-1, -2, ...). Zero is not a
  domain.
- Unknown labels are masked in ``y``: ``-1`` for classification, ``NaN`` for
  regression.
- Without ``sample_domain``, domains are inferred from the mask: labelled rows
  are source (``1``), masked rows are target (``-2``).
- ``predict``/``transform`` on new data treat every row as target unless a
  ``sample_domain`` is passed.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import issparse
from scipy.sparse import vstack as sparse_vstack
from sklearn.base import is_classifier, is_regressor
from sklearn.utils.multiclass import type_of_target

from ._compat import _num_samples

__all__ = [
    "Domains",
    "check_domains",
    "mask_target_labels",
    "split_domains",
    "stack_domains",
]

#: Domain id given to rows inferred to be source (labelled rows).
INFERRED_SOURCE = 1
#: Domain id given to rows inferred to be target (masked rows), and to rows of
#: new data passed to ``predict``/``transform`` without ``sample_domain``.
INFERRED_TARGET = -2

_NEEDS = frozenset(
    {"source", "target", "source_labels", "target_labels", "sample_domain"}
)

_STACK_HINT = (
    "e.g. X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)"
)


@dataclass(frozen=True)
class Domains:
    """Validated domain information for the rows of one ``fit`` call.

    Returned by :func:`check_domains`; estimators read the masks from it rather
    than recomputing them.

    Parameters
    ----------
    sample_domain : ndarray of shape (n_samples,), dtype int
        Domain id of each row, given or inferred.
    labelled : ndarray of shape (n_samples,), dtype bool
        Rows whose label is known (all False when ``y`` was None).
    inferred : bool
        True when ``sample_domain`` was inferred from the label mask.
    """

    sample_domain: np.ndarray
    labelled: np.ndarray
    inferred: bool

    @property
    def source(self) -> np.ndarray:
        """Boolean mask of source rows (``sample_domain > 0``)."""
        return self.sample_domain > 0

    @property
    def target(self) -> np.ndarray:
        """Boolean mask of target rows (``sample_domain < 0``)."""
        return self.sample_domain < 0

    @property
    def source_ids(self) -> np.ndarray:
        """Sorted ids of the source domains present."""
        return np.unique(self.sample_domain[self.source])

    @property
    def target_ids(self) -> np.ndarray:
        """Ids of the target domains present, -1 first."""
        return -np.unique(-self.sample_domain[self.target])


#: The ways ``y`` can be read: guessed from its values, or stated.
TASKS = ("auto", "classification", "regression")


def _task_from_source_rows(y: np.ndarray, sd: np.ndarray) -> str:
    """``"regression"`` when NaN masks ``y`` and a source row holds -1, else ``"auto"``.

    Source rows are labelled, so a -1 among them is a value, not the mask: with
    NaN beside it, ``y`` is a regression target (as a regressor at the end of a
    pipeline reads it), which its adaptation steps must not call ambiguous.
    """
    if y.ndim != 1 or y.dtype.kind not in "fiu":
        return "auto"
    values = y.astype(float, copy=False)
    if np.isnan(values).any() and np.any(values[sd > 0] == -1):
        return "regression"
    return "auto"


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}.")
    return task


def _task_of(estimator: Any) -> str:
    """``"regression"`` or ``"classification"`` for a regressor or classifier, else ``"auto"``."""
    if estimator is None or isinstance(estimator, str):
        return "auto"
    if is_regressor(estimator):
        return "regression"
    if is_classifier(estimator):
        return "classification"
    return "auto"


def _mixed_mask_error(task: str) -> ValueError:
    return ValueError(
        "y holds both NaN and -1, which both mark unlabelled rows, so which rows are "
        "labelled is ambiguous"
        + (" (these are class labels)" if task == "classification" else "")
        + ". For class labels, mark the unlabelled rows with -1 only, e.g. "
        "y = np.where(np.isnan(y), -1, y).astype(int). For a regression target in "
        "which -1 is a real value, mark them with NaN only: a regressor reads NaN as "
        "its only mask, and stack_domains(..., task='regression') and "
        "check_domains(..., task='regression') do the same."
    )


def _label_kind(y: np.ndarray, task: str = "auto") -> str:
    """Return ``"regression"``, ``"classification"`` or ``"string"`` for ``y``.

    With ``task="auto"``, NaN anywhere means regression (NaN is the regression
    mask) and so do non-integer values; integer values are classes. A stated
    ``task`` is taken as it is. Strings are classes that cannot hold the ``-1``
    mask. Raises when the mask is ambiguous: NaN beside ``-1`` among class-like
    values.
    """
    if y.dtype.kind not in "fciub":
        # object / str: look at the values themselves.
        values = y.tolist()
        has_str = any(isinstance(v, str) for v in values)
        has_number = any(
            isinstance(v, numbers.Number) and not isinstance(v, bool) for v in values
        )
        has_none = any(v is None for v in values)
        if has_str and task == "regression":
            raise TypeError(
                "A regression target must be numeric, but y holds strings. Convert it, "
                "e.g. y = y.astype(float), with NaN for the unlabelled rows."
            )
        if has_str and (has_number or has_none):
            raise TypeError(
                "y mixes string class labels with numbers or None (such as the "
                "unlabelled marker -1). String labels cannot be masked: encode the "
                "classes as integers first (sklearn.preprocessing.LabelEncoder fitted "
                "on the labelled rows), then mark unlabelled rows with -1."
            )
        if has_str:
            return "string"
        return _label_kind(np.asarray(values, dtype=float), task)
    if task == "regression":
        return "regression"
    if y.dtype.kind in "iub":
        return "classification"
    nan = np.isnan(y)
    if not nan.any():
        if task == "classification":
            return "classification"
        return "regression" if type_of_target(y).startswith("continuous") else "classification"
    known = y[~nan]
    class_like = task == "classification" or np.array_equal(known, np.round(known))
    if class_like and np.any(known == -1):
        raise _mixed_mask_error(task)
    return "classification" if task == "classification" else "regression"


def unlabelled_mask(y: ArrayLike, task: str = "auto") -> np.ndarray:
    """Boolean mask of the rows of ``y`` whose label is masked.

    ``NaN`` masks a regression target, ``-1`` (or ``NaN``) a class label;
    string labels are never masked. With ``task="regression"``, ``NaN`` is the
    only mask and ``-1`` is a value like any other.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, with unknown ones masked.
    task : {"auto", "classification", "regression"}, default="auto"
        How to read ``y``: ``"auto"`` guesses from the values (integers are
        classes, NaN or non-integer values a regression target).

    Returns
    -------
    mask : ndarray of shape (n_samples,), dtype bool
        True where the label is unknown.

    Raises
    ------
    ValueError
        If class-like labels hold both ``NaN`` and ``-1``: which of them is the
        mask cannot be told.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(len(y), -1)
        if y.shape[1] != 1:
            # Multi-output: a row is unlabelled when all its outputs are masked.
            return np.all([unlabelled_mask(col, task) for col in y.T], axis=0)
        y = y[:, 0]
    kind = _label_kind(y, _check_task(task))
    if kind == "string":
        return np.zeros(len(y), dtype=bool)
    values = np.asarray(y, dtype=float)
    if kind == "regression":
        return np.isnan(values)
    return np.isnan(values) | (values == -1)


def _check_not_mask_lookalike(y: np.ndarray, labelled: np.ndarray) -> None:
    """Refuse ``{-1, +1}`` class labels, where -1 would silently become the mask."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iuf" or not labelled.any():
        return
    if (~labelled).any() and np.array_equal(np.unique(y[labelled]), [1]):
        raise ValueError(
            "y holds only the values -1 and 1. In sktransfer -1 marks an "
            "unlabelled (target) row, so the labelled rows would all be class 1. "
            "If -1 is a class label, recode the classes, e.g. "
            "y = (y > 0).astype(int), and mark unlabelled rows with -1."
        )


def _as_sample_domain(sample_domain: ArrayLike, n_samples: int) -> np.ndarray:
    sd = np.asarray(sample_domain)
    if sd.ndim == 0:
        sd = np.full(n_samples, sd)
    if sd.ndim != 1 or sd.shape[0] != n_samples:
        raise ValueError(
            f"sample_domain must be one id per row of X: expected shape "
            f"({n_samples},), got {sd.shape}. Build X, y and sample_domain together, "
            f"{_STACK_HINT}."
        )
    if sd.dtype.kind == "f":
        if not np.all(np.isfinite(sd)) or np.any(sd != np.round(sd)):
            raise ValueError(
                "sample_domain must hold integer domain ids (> 0 source, < 0 "
                f"target); got non-integer values such as {sd[sd != np.round(sd)][:3]}."
            )
    elif sd.dtype.kind not in "iub":
        raise TypeError(
            "sample_domain must hold integer domain ids (> 0 source, < 0 target); "
            f"got dtype {sd.dtype}."
        )
    sd = sd.astype(np.int64)
    if np.any(sd == 0):
        raise ValueError(
            "sample_domain contains 0, which is not a domain id: use positive ids "
            "(1, 2, ...) for source rows and negative ids (-1, -2, ...) for target "
            f"rows ({int(np.sum(sd == 0))} row(s) are 0)."
        )
    return sd


def _masked_source_error(where: str, mask: str) -> ValueError:
    return ValueError(
        f"{where} contain {mask}, which marks unlabelled rows, but source rows must be "
        f"labelled. If {mask} is a class, recode the classes (e.g. y = (y > 0).astype(int) "
        "for -1/+1 labels); if some source rows are unlabelled, drop them or give them a "
        "target domain id (< 0)."
    )


def _check_source_labels(y: np.ndarray, labelled: np.ndarray, sd: np.ndarray, task: str) -> None:
    """Refuse masked source labels, and regression targets masked the classes' way."""
    masked_source = (sd > 0) & ~labelled
    if masked_source.any():
        mask = "NaN" if np.isnan(np.asarray(y[masked_source], dtype=float)).all() else "-1"
        raise _masked_source_error(
            f"The labels of {int(masked_source.sum())} source row(s) (sample_domain > 0)", mask
        )
    target = sd < 0
    if task == "regression" and target.any() and labelled[target].all():
        values = np.asarray(y, dtype=float)
        if np.all(values[target] == -1) and not np.all(values == -1):
            raise ValueError(
                "Every target row (sample_domain < 0) has the target value -1, the mask "
                "of class labels, but this is a regression, whose mask is NaN: -1 would "
                "be learnt as a real value. Mask the unknown targets with NaN, e.g. "
                "mask_target_labels(y, sample_domain, task='regression') or "
                "stack_domains(..., task='regression')."
            )


def check_domains(
    X: Any,
    y: ArrayLike | None = None,
    sample_domain: ArrayLike | int | None = None,
    *,
    needs: str | Iterable[str] = ("source", "target"),
    estimator: Any = None,
    task: str | None = None,
) -> Domains:
    """Validate the domain information of one ``fit`` call.

    Parameters
    ----------
    X : array-like, DataFrame or list of shape (n_samples, ...)
        The stacked rows; only its length is used.
    y : array-like of shape (n_samples,), default=None
        Labels with unknown ones masked (``-1`` for classes, ``NaN`` for
        regression targets).
    sample_domain : array-like of shape (n_samples,) or int, default=None
        Domain id per row (> 0 source, < 0 target). When None it is inferred
        from the mask of ``y``: labelled rows are source (1), masked rows target
        (-2).
    needs : str or iterable of str, default=("source", "target")
        What the caller cannot work without, among ``"source"``, ``"target"``,
        ``"source_labels"`` (some labelled source rows), ``"target_labels"``
        (some labelled target rows) and ``"sample_domain"`` (domains must be
        given, not inferred).
    estimator : estimator instance, str or None, default=None
        Named in error messages. A regressor reads ``y`` as a regression
        target and a classifier as class labels, unless ``task`` says otherwise.
    task : {"auto", "classification", "regression"} or None, default=None
        How to read the mask of ``y``: ``"regression"`` masks with ``NaN``
        only (``-1`` is a value), ``"classification"`` with ``-1`` (or
        ``NaN``), ``"auto"`` guesses from the values (integers are classes).
        None takes it from ``estimator``, ``"auto"`` when that is neither a
        classifier nor a regressor.

    Returns
    -------
    domains : Domains
        The validated ``sample_domain`` and the mask of labelled rows.

    Raises
    ------
    ValueError
        If a need is not met, ``y``/``sample_domain`` do not match ``X``, the
        mask of ``y`` is ambiguous (``NaN`` beside ``-1`` among class labels),
        or a source row (``sample_domain > 0``) has a masked label.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.domain import check_domains
    >>> X = np.zeros((4, 2))
    >>> d = check_domains(X, y=[0, 1, -1, -1])
    >>> d.sample_domain
    array([ 1,  1, -2, -2])
    >>> d.target
    array([False, False,  True,  True])
    """
    needs = {needs} if isinstance(needs, str) else set(needs)
    unknown = needs - _NEEDS
    if unknown:
        raise ValueError(f"Unknown needs {sorted(unknown)}; choose from {sorted(_NEEDS)}.")
    who = (
        estimator
        if isinstance(estimator, str)
        else type(estimator).__name__
        if estimator is not None
        else "This estimator"
    )
    n_samples = _num_samples(X)

    if y is not None:
        y = np.asarray(y)
        if y.shape[0] != n_samples:
            raise ValueError(
                f"y has {y.shape[0]} rows but X has {n_samples}: pass one label per "
                "row of X, with unlabelled rows masked (-1 or NaN)."
            )
        task = _task_of(estimator) if task is None else _check_task(task)
        if task == "auto" and sample_domain is not None:
            task = _task_from_source_rows(y, _as_sample_domain(sample_domain, n_samples))
        labelled = ~unlabelled_mask(y, task)
        if sample_domain is None and task != "regression":
            _check_not_mask_lookalike(y, labelled)
    else:
        labelled = np.zeros(n_samples, dtype=bool)

    if sample_domain is None:
        if "sample_domain" in needs:
            raise ValueError(
                f"{who} needs sample_domain: it uses labelled target rows, so "
                "domains cannot be inferred from the label mask. Pass "
                "sample_domain=... (> 0 for source rows, < 0 for target rows), "
                f"{_STACK_HINT[5:]}."
            )
        if y is None:
            raise ValueError(
                f"{who} cannot tell source rows from target rows: pass "
                "sample_domain (> 0 source, < 0 target), or y with the target "
                f"labels masked (-1, or NaN for regression), {_STACK_HINT[5:]}."
            )
        sd = np.where(labelled, INFERRED_SOURCE, INFERRED_TARGET).astype(np.int64)
        inferred = True
    else:
        sd = _as_sample_domain(sample_domain, n_samples)
        inferred = False

    domains = Domains(sample_domain=sd, labelled=labelled, inferred=inferred)
    how = (
        "(domains were inferred from y: labelled rows are source, rows labelled -1 "
        "or NaN are target)"
        if inferred
        else "(sample_domain > 0 marks source rows, < 0 target rows)"
    )
    if "source" in needs and not domains.source.any():
        raise ValueError(
            f"{who} needs source rows, but every row is a target row {how}. "
            f"Pass source rows with their labels, {_STACK_HINT[5:]}."
        )
    if "target" in needs and not domains.target.any():
        raise ValueError(
            f"{who} needs target rows to adapt to, but every row is a source row "
            f"{how}. Pass target rows with sample_domain < 0 (or their labels "
            f"masked), {_STACK_HINT[5:]}."
        )
    if "source_labels" in needs and not (labelled & domains.source).any():
        raise ValueError(
            f"{who} needs labelled source rows, but "
            + ("y is None." if y is None else "every source label is masked (-1 or NaN).")
            + " Pass y with the labels of the source rows."
        )
    if "target_labels" in needs and y is not None and not (labelled & domains.target).any():
        raise ValueError(
            f"{who} needs some labelled target rows (sample_domain < 0 with a "
            "label in y), but every target label is masked. Label a few target rows, "
            "e.g. stack_domains(source=(Xs, ys), target=(Xt_few, yt_few)) plus the "
            "unlabelled ones as a second target block."
        )
    if y is not None and not inferred:
        _check_source_labels(y, labelled, sd, task)
    return domains


def prediction_domains(n_samples: int, sample_domain: ArrayLike | int | None) -> np.ndarray:
    """Domains of new rows passed to ``transform``/``predict``: target by default."""
    if sample_domain is None:
        return np.full(n_samples, INFERRED_TARGET, dtype=np.int64)
    return _as_sample_domain(sample_domain, n_samples)


def mask_target_labels(y: ArrayLike, sample_domain: ArrayLike, *, task: str = "auto") -> np.ndarray:
    """Return a copy of ``y`` with the labels of target rows masked.

    Use it to hide true target labels before ``fit`` (keeping them to score).
    Class labels are masked with ``-1``, regression targets with ``NaN``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of every row.
    sample_domain : array-like of shape (n_samples,)
        Domain id per row (> 0 source, < 0 target).
    task : {"auto", "classification", "regression"}, default="auto"
        What the labels are. ``"auto"`` reads integer labels as classes and
        non-integer ones as a regression target; say ``"regression"`` for an
        integer-valued regression target, to mask it with ``NaN``.

    Returns
    -------
    y_masked : ndarray of shape (n_samples,)
        ``y`` with target rows set to the mask. Unsigned and boolean class
        labels come back as the smallest signed integer type that holds them
        and ``-1``; a regression target comes back as float.

    Examples
    --------
    >>> from sktransfer.domain import mask_target_labels
    >>> mask_target_labels([0, 1, 1, 0], [1, 1, -1, -1])
    array([ 0,  1, -1, -1])
    >>> mask_target_labels([3, 5, 4, 2], [1, 1, -1, -1], task="regression")
    array([ 3.,  5., nan, nan])
    """
    y = np.array(y, copy=True)
    sd = _as_sample_domain(sample_domain, y.shape[0])
    kind = _label_kind(y, _check_task(task))
    if kind == "string":
        raise TypeError(
            "String class labels cannot be masked with -1: encode them as integers "
            "first (sklearn.preprocessing.LabelEncoder)."
        )
    if kind == "regression":
        y = y.astype(float, copy=False)
        y[sd < 0] = np.nan
    else:
        if y.dtype.kind in "ub":  # -1 does not fit: widen to a signed type that holds every label
            y = y.astype(np.promote_types(y.dtype, np.int8))
        y[sd < 0] = -1
    return y


# --------------------------------------------------------------------------- stacking


def _rows_kind(X: Any) -> str:
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        return "frame"
    if issparse(X):
        return "sparse"
    if isinstance(X, (list, tuple)):
        return "list"
    return "array"


def _n_features(X: Any, kind: str) -> int | None:
    if kind in ("frame", "sparse"):
        return X.shape[1]
    if kind == "array":
        shape = np.shape(X)
        if len(shape) == 1:
            raise ValueError(
                f"Expected a 2-D array of rows for each domain, got a 1-D array of "
                f"shape {shape}. Reshape it: X.reshape(-1, 1) for one feature, or "
                "X.reshape(1, -1) for one row."
            )
        return int(np.prod(shape[1:]))
    return None


def _as_blocks(arg: Any, role: str) -> list[tuple[Any, Any]]:
    """Normalise a ``source=``/``target=`` argument to a list of (X, y or None)."""

    def one(item: Any) -> tuple[Any, Any]:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise ValueError(
                    f"Each {role} domain must be X or a pair (X, y); got a tuple of "
                    f"length {len(item)}."
                )
            return item[0], item[1]
        return item, None

    def is_block(a: Any) -> bool:
        return isinstance(a, tuple) or hasattr(a, "iloc") or issparse(a) or np.ndim(a) == 2

    if isinstance(arg, (list, tuple)) and len(arg) == 0:
        raise ValueError(
            f"stack_domains needs at least one {role} domain; got an empty {type(arg).__name__}. "
            f"{_STACK_HINT[0].upper()}{_STACK_HINT[1:]}."
        )
    # A list of (X, y) pairs, DataFrames or 2-D arrays holds several domains.
    if isinstance(arg, list) and arg and all(is_block(a) for a in arg):
        return [one(a) for a in arg]
    return [one(arg)]


def stack_domains(
    source: Any,
    target: Any,
    *,
    task: str = "auto",
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Stack source and target rows into the ``X, y, sample_domain`` of ``fit``.

    Parameters
    ----------
    source : (X, y) pair, or list of pairs for several source domains
        Labelled source rows. Source domain ``k`` (from 1) gets id ``k``.
    target : X, (X, y) pair, or a list of them for several target domains
        Target rows (``(X, None)`` is X without labels). Without labels they
        are masked in the stacked ``y`` (``-1`` for classes, ``NaN`` for
        regression targets); with labels the labels
        are kept (for estimators that use a few labelled target rows). Target
        domain ``k`` (from 1) gets id ``-k``. A list whose items are all
        pairs, DataFrames or 2-D arrays is read as several domains, so pass a
        set of 2-D grayscale images as one 3-D array, not a list.
    task : {"auto", "classification", "regression"}, default="auto"
        What the labels are, which decides the mask. ``"auto"`` reads integer
        labels as classes (masked with ``-1``) and non-integer or NaN-holding
        ones as a regression target (masked with ``NaN``). Say
        ``"regression"`` for an integer-valued regression target (counts,
        ratings, ages): ``y`` is then float, masked with ``NaN``, and ``-1``
        is a value like any other.

    Returns
    -------
    X : ndarray, DataFrame or list
        Source rows then target rows. DataFrames are concatenated (index
        reset), lists (image paths, texts) joined, arrays stacked.
    y : ndarray of shape (n_samples,)
        Labels with target labels masked where none were given.
    sample_domain : ndarray of shape (n_samples,), dtype int
        Domain id of each row.

    See Also
    --------
    split_domains : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.domain import stack_domains
    >>> Xs, ys = np.zeros((3, 2)), np.array([0, 1, 1])
    >>> Xt = np.ones((2, 2))
    >>> X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)
    >>> X.shape, y, sample_domain
    ((5, 2), array([ 0,  1,  1, -1, -1]), array([ 1,  1,  1, -1, -1]))
    """
    sources = _as_blocks(source, "source")
    targets = _as_blocks(target, "target")
    for _, y_block in sources:
        if y_block is None:
            raise ValueError(
                "Each source domain must be a pair (X, y) with its labels; got X "
                f"alone, {_STACK_HINT}."
            )
    blocks = [(X_b, y_b, k + 1) for k, (X_b, y_b) in enumerate(sources)]
    blocks += [(X_b, y_b, -(k + 1)) for k, (X_b, y_b) in enumerate(targets)]

    kinds = {_rows_kind(X_b) for X_b, _, _ in blocks}
    kind = "frame" if "frame" in kinds else ("list" if kinds == {"list"} else "array")
    if kinds == {"sparse"}:
        kind = "sparse"  # sparse blocks stay sparse; mixed with dense ones they are densified
    widths = {}
    for X_b, _, dom in blocks:
        width = _n_features(X_b, _rows_kind(X_b))
        if width is not None:
            widths[dom] = width
    if len(set(widths.values())) > 1:
        detail = ", ".join(
            f"{'source' if d > 0 else 'target'} {abs(d)}: {w}" for d, w in widths.items()
        )
        raise ValueError(
            f"Every domain must have the same number of features; got {detail}. "
            "Select or project the same features in each domain first."
        )

    _check_task(task)
    y_given = [np.asarray(y_b) for _, y_b, _ in blocks if y_b is not None]
    kinds_y = {_label_kind(y_b.ravel(), task) for y_b in y_given}
    if "string" in kinds_y and any(y_b is None for _, y_b, _ in blocks):
        raise TypeError(
            "The source labels are strings, which cannot be masked with -1 for the "
            "unlabelled target rows. Encode the classes as integers first "
            "(sklearn.preprocessing.LabelEncoder)."
        )
    regression = "regression" in kinds_y
    for _, y_b, dom in blocks:
        if dom > 0 and y_b is not None and unlabelled_mask(np.asarray(y_b), task).any():
            raise _masked_source_error(
                f"The labels of source domain {dom}", "NaN" if regression else "-1"
            )

    ys, doms = [], []
    for X_b, y_b, dom in blocks:
        n_b = _num_samples(X_b)
        if y_b is None:
            y_b = np.full(n_b, np.nan if regression else -1)
        else:
            y_b = np.asarray(y_b, dtype=float) if regression else np.asarray(y_b)
            if y_b.shape[0] != n_b:
                raise ValueError(
                    f"{'Source' if dom > 0 else 'Target'} domain {abs(dom)} has "
                    f"{n_b} rows but {y_b.shape[0]} labels."
                )
        ys.append(y_b)
        doms.append(np.full(n_b, dom, dtype=np.int64))
    y = np.concatenate(ys)
    sample_domain = np.concatenate(doms)

    Xs = [X_b for X_b, _, _ in blocks]
    if kind == "frame":
        import pandas as pd

        frames = [
            X_b if _rows_kind(X_b) == "frame" else pd.DataFrame(np.asarray(X_b))
            for X_b in Xs
        ]
        X = pd.concat(frames, axis=0, ignore_index=True)
    elif kind == "list":
        X = [item for X_b in Xs for item in X_b]
    elif kind == "sparse":
        X = sparse_vstack(Xs, format="csr")
    else:
        X = np.concatenate([X_b.toarray() if issparse(X_b) else np.asarray(X_b) for X_b in Xs], axis=0)
    return X, y, sample_domain


def _take(X: Any, rows: np.ndarray) -> Any:
    """The rows ``rows`` (integer indices) of ``X``, keeping its kind.

    DataFrames by position, lists and tuples (image paths, texts) as lists,
    anything else with a ``shape`` (arrays, sparse matrices, tensors) by
    indexing; other array-likes through ``np.asarray``.
    """
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    if hasattr(X, "shape"):  # ndarrays, sparse matrices, tensors
        return X[rows]
    return np.asarray(X)[rows]


def _is_per_row(value: Any, n_samples: int) -> bool:
    """Whether ``value`` holds one entry per row (as scikit-learn slices fit parameters)."""
    if isinstance(value, (str, bytes, dict)) or not (hasattr(value, "__len__") or hasattr(value, "shape")):
        return False
    try:
        return _num_samples(value) == n_samples
    except TypeError:
        return False


def _take_params(params: dict, rows: np.ndarray, n_samples: int) -> dict:
    """Fit parameters for the rows ``rows``: per-row values sliced, the others as they are."""
    return {
        key: _take(value, rows) if _is_per_row(value, n_samples) else value
        for key, value in params.items()
    }


def labelled_rows_for_score(owner: Any, X: Any, y: ArrayLike, *arrays: Any) -> tuple:
    """``X``, ``y`` and per-row ``arrays`` without the rows whose label is masked.

    A masked row cannot be scored, and counting it as an error would make
    ``GridSearchCV``'s default score silently wrong, so every ``score`` of the
    library drops them. ``None`` (and scalars) in ``arrays`` pass through.
    ``owner`` (the estimator, or its name) is named in errors; an estimator
    also says how to read the mask (NaN only for a regressor, see
    :func:`check_domains`).

    Raises
    ------
    ValueError
        If every label is masked.
    """
    y = np.asarray(y)
    keep = ~unlabelled_mask(y, _task_of(owner))
    if not keep.any():
        who = owner if isinstance(owner, str) else type(owner).__name__
        raise ValueError(
            f"{who}.score needs labelled rows, but every label in y is masked "
            "(-1 or NaN). Score with the true target labels, or use a "
            "domain-adaptation scorer that needs no target labels."
        )
    if keep.all():
        return (X, y, *arrays)
    rows = np.flatnonzero(keep)
    kept = [a if a is None or np.ndim(a) == 0 else np.asarray(a)[keep] for a in arrays]
    return (_take(X, rows), y[keep], *kept)


def split_domains(
    X: Any,
    y: ArrayLike | None = None,
    sample_domain: ArrayLike | None = None,
) -> tuple[Any, Any]:
    """Split stacked rows back into source and target domains.

    Parameters
    ----------
    X : ndarray, DataFrame or list of shape (n_samples, ...)
        Stacked rows.
    y : array-like of shape (n_samples,), default=None
        Labels (masked where unknown).
    sample_domain : array-like of shape (n_samples,), default=None
        Domain ids; inferred from the mask of ``y`` when None.

    Returns
    -------
    source : (X, y) pair, or list of pairs ordered by domain id 1, 2, ...
        One pair when there is a single source domain.
    target : (X, y) pair, or list of pairs ordered by domain id -1, -2, ...
        One pair when there is a single target domain. ``y`` keeps its mask.

    See Also
    --------
    stack_domains : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.domain import split_domains
    >>> X = np.arange(8).reshape(4, 2)
    >>> (Xs, ys), (Xt, yt) = split_domains(X, [0, 1, -1, -1], [1, 1, -1, -1])
    >>> Xs.tolist(), yt.tolist()
    ([[0, 1], [2, 3]], [-1, -1])
    """
    domains = check_domains(X, y, sample_domain, needs=())
    sd = domains.sample_domain
    y_arr = None if y is None else np.asarray(y)

    def pairs(ids: np.ndarray) -> Sequence[tuple[Any, Any]] | tuple[Any, Any]:
        out = []
        for dom in ids:
            rows = np.flatnonzero(sd == dom)
            out.append((_take(X, rows), None if y_arr is None else y_arr[rows]))
        if len(out) == 1:
            return out[0]
        return out

    return pairs(domains.source_ids), pairs(domains.target_ids)
