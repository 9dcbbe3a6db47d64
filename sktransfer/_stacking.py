"""Stacking per-domain rows into ``X, y, sample_domain`` (``stack_domains``) and splitting them back."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import issparse
from scipy.sparse import vstack as sparse_vstack

from ._compat import _num_samples
from ._labels import _check_task, _label_kind, _masked_source_error, unlabelled_mask
from ._rows import _take

_STACK_HINT = (
    "e.g. X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)"
)


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


def _is_item_list(a: Any) -> bool:
    """A list (or 1-D array) of texts or paths: one domain of items, as an extractor reads it.

    ``target=[texts_1, texts_2]`` is two target domains. Without this, a list of
    such lists was one domain whose rows were the lists (2 rows, not 5, all id -1).
    """
    if not isinstance(a, (list, np.ndarray)) or np.ndim(a) != 1 or len(a) == 0:
        return False
    return all(isinstance(v, (str, os.PathLike)) for v in a)


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
        return (isinstance(a, tuple) or hasattr(a, "iloc") or issparse(a) or np.ndim(a) == 2
                or _is_item_list(a))

    if isinstance(arg, (list, tuple)) and len(arg) == 0:
        raise ValueError(
            f"stack_domains needs at least one {role} domain; got an empty {type(arg).__name__}. "
            f"{_STACK_HINT[0].upper()}{_STACK_HINT[1:]}."
        )
    # A list of (X, y) pairs, DataFrames or 2-D arrays holds several domains.
    if isinstance(arg, list) and arg and all(is_block(a) for a in arg):
        return [one(a) for a in arg]
    return [one(arg)]


def _domain_name(dom: int) -> str:
    return f"{'source' if dom > 0 else 'target'} domain {abs(dom)}"


def _frames_with_one_set_of_columns(blocks: list) -> list:
    """The blocks as DataFrames with the first DataFrame's columns, ready for ``pd.concat``.

    ``pd.concat`` lines frames up by column name, so a block with other names
    would add columns and fill the cells of both with NaN. DataFrames must
    therefore hold the same names (in any order: they are lined up by name);
    an array block has no names and takes the first DataFrame's, in order.
    """
    import pandas as pd

    frames = [(X_b, dom) for X_b, _, dom in blocks if _rows_kind(X_b) == "frame"]
    first, first_dom = frames[0]
    columns = list(first.columns)
    names = set(columns)
    for X_b, dom in frames[1:]:
        own = set(X_b.columns)
        if own != names or len(X_b.columns) != len(columns):
            extra = [c for c in X_b.columns if c not in names]
            missing = [c for c in columns if c not in own]
            raise ValueError(
                f"The DataFrames of every domain must have the same columns, which are lined up "
                f"by name; {_domain_name(dom)} has {extra[:5]!r} that {_domain_name(first_dom)} "
                f"lacks and lacks {missing[:5]!r}. Rename the columns to match, or pass arrays "
                "to stack the columns by position."
            )
    out = []
    for X_b, _, _ in blocks:
        if _rows_kind(X_b) != "frame":
            dense = X_b.toarray() if issparse(X_b) else np.asarray(X_b)
            X_b = pd.DataFrame(dense.reshape(len(dense), -1), columns=columns)
        out.append(X_b)
    return out


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
        reset; columns lined up by name, so every DataFrame must have the
        same column names, and an array among them takes those names in
        order), lists (image paths, texts) joined, arrays stacked.
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

        X = pd.concat(_frames_with_one_set_of_columns(blocks), axis=0, ignore_index=True)
    elif kind == "list":
        X = [item for X_b in Xs for item in X_b]
    elif kind == "sparse":
        X = sparse_vstack(Xs, format="csr")
    else:
        X = np.concatenate([X_b.toarray() if issparse(X_b) else np.asarray(X_b) for X_b in Xs], axis=0)
    return X, y, sample_domain


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
    from .domain import check_domains  # here, not at the top: sktransfer.domain imports this module

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
