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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._compat import _num_samples
from ._labels import (
    _check_not_mask_lookalike,
    _check_source_labels,
    _check_task,
    _task_from_source_rows,
    _task_of,
    mask_target_labels,
    unlabelled_mask,
)
from ._stacking import _STACK_HINT, split_domains, stack_domains

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
    if sd.size and sd.dtype.kind in "uf" and (sd.max() > np.iinfo(np.int64).max or sd.min() < np.iinfo(np.int64).min):
        # astype(int64) wraps a uint64 id past 2**63 to a negative one (a source row read as a target row)
        # and turns a float id past the range into INT_MIN
        raise ValueError(
            f"sample_domain ids must fit a 64-bit signed integer; got {sd.max() if sd.max() > 0 else sd.min()}. "
            "Use small ids: 1, 2, ... for source domains, -1, -2, ... for target domains."
        )
    sd = sd.astype(np.int64)
    if np.any(sd == 0):
        raise ValueError(
            "sample_domain contains 0, which is not a domain id: use positive ids "
            "(1, 2, ...) for source rows and negative ids (-1, -2, ...) for target "
            f"rows ({int(np.sum(sd == 0))} row(s) are 0)."
        )
    return sd


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

