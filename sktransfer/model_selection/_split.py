"""Cross-validation splitters that respect domains.

Both splitters find the domains of the rows the same way: ``sample_domain``
when it is routed to ``split`` (metadata routing on), else ``groups`` (what
``GridSearchCV.fit(..., groups=...)`` hands a splitter with routing off), else
the mask of ``y`` (labelled rows are source, masked rows target).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.model_selection import BaseShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils.metadata_routing import MetadataRequest

from .._compat import _num_samples
from .._rows import _take
from ..domain import Domains, check_domains

__all__ = ["DomainShuffleSplit", "LeaveOneDomainOut"]


def _split_domains(
    X: Any, y: ArrayLike | None, groups: ArrayLike | None, sample_domain: ArrayLike | None, owner: str
) -> Domains:
    if sample_domain is None:
        sample_domain = groups
    return check_domains(X, y, sample_domain, needs=(), estimator=owner)


def _same_rows(X: Any, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the rows under masks ``a`` and ``b`` are the same rows in the same order."""
    if X is None:
        return True
    if a.sum() != b.sum():
        return False
    rows_a, rows_b = _take(X, np.flatnonzero(a)), _take(X, np.flatnonzero(b))
    if isinstance(rows_a, list):
        return all(u is v or np.array_equal(np.asarray(u), np.asarray(v)) for u, v in zip(rows_a, rows_b))
    return bool(np.array_equal(np.asarray(rows_a), np.asarray(rows_b)))


def _check_count(owner: str, param: str, value: Any, meaning: str) -> None:
    """Refuse a count parameter that is not an int >= 1 (bool is not a count)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"{owner}: {param} must be an int >= 1, {meaning}; got {value!r} "
            f"({type(value).__name__})."
        )
    if value < 1:
        raise ValueError(
            f"{owner}: {param} must be at least 1, {meaning}; got {value}. With {value} "
            "there would be no fold to train and score on."
        )


def _check_size(owner: str, param: str, value: Any, allow_none: bool) -> None:
    """Refuse a split size that is neither a share in (0, 1) nor a row count >= 1."""
    if value is None and allow_none:
        return
    expected = "a float in (0, 1) (a share of each domain's rows) or an int >= 1 (a number of rows)"
    if allow_none:
        expected += ", or None (the complement of test_size)"
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {param} must be {expected}; got {value!r} ({type(value).__name__}).")
    valid = value >= 1 if isinstance(value, Integral) else 0 < value < 1
    if not valid:
        raise ValueError(f"{owner}: {param} must be {expected}; got {value!r}.")


def _warn_unlabelled_only(sample_domain: np.ndarray) -> None:
    """Warn that target domains without a labelled copy are in no fold of LeaveOneDomainOut.

    Leaving their rows out silently would make a user believe the model
    selection saw the domain they mean to adapt to.
    """
    sources = np.unique(sample_domain[sample_domain > 0])
    alone = np.setdiff1d(np.unique(-sample_domain[sample_domain < 0]), sources)
    if alone.size:
        ids = sorted((-alone).tolist(), reverse=True)
        rows = int(np.isin(-sample_domain, alone).sum())
        warnings.warn(
            f"LeaveOneDomainOut: target domain(s) {ids} have no labelled copy (no source rows with "
            f"id {', '.join(map(str, sorted(alone.tolist())))}), so no split can hold them out and "
            f"no training fold holds their {rows} row(s): they are left out of every fold. Give each "
            "domain both copies (stack_domains(source=[(X1, y1), ...], target=[X1, ...])) or drop "
            "those rows; fit on every row once the model is chosen to adapt to them.",
            UserWarning,
            stacklevel=3,
        )


def _split_request(owner: Any) -> MetadataRequest:
    request = MetadataRequest(owner=type(owner).__name__)
    request.split.add_request(param="sample_domain", alias=True)
    return request


class DomainShuffleSplit(BaseShuffleSplit):
    """Shuffle-split each domain separately, so every fold keeps every domain.

    Each domain is shuffled and cut into train and validation rows on its
    own, with the same proportions, and the parts are joined. What goes into
    the validation folds depends on the scorer they are for (``test_rows``):

    - ``"labelled"`` (default): the validation folds hold only rows with a
      label; every masked row (the unlabelled target rows) is in every
      training fold, where ``fit`` uses it unlabelled. Any scikit-learn
      scorer (``scoring=None``, ``"accuracy"``, ``"roc_auc"``, ...) then
      scores labelled rows only: the held-out source rows and any labelled
      target rows.
    - ``"all"``: the masked rows are split too, so every validation fold
      holds target rows, which the domain-adaptation scorers of
      :mod:`sktransfer.model_selection` need (they score target rows without
      their labels). Target labels known for evaluation stay out of ``y``
      (masked) and reach :class:`SupervisedScorer` as ``target_labels``.

    Why two modes: scikit-learn's string scorers compare ``predict(X_test)``
    with ``y_test`` and cannot know that ``-1`` (or ``NaN``) marks an
    unknown label, so a masked row in a validation fold counts as an error
    (with as many target rows as source rows, a model right on 94% of the
    source rows scores 0.47), and a splitter cannot know which scorer will
    read its folds. The
    default is the mode where every scikit-learn scorer is right; with it a
    domain-adaptation scorer finds no target row in the fold and says to pass
    ``test_rows="all"``, and with ``"all"`` only scorers that know the mask
    should read the folds (``scoring=None`` does: ``score`` leaves masked
    rows out).

    Domains come from ``sample_domain`` (routed to ``split`` when metadata
    routing is on), else from ``groups`` (pass ``groups=sample_domain`` to
    ``GridSearchCV.fit`` or ``cross_validate`` with routing off), else from
    the mask of ``y``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of re-shuffles.
    test_size : float or int, default=0.2
        Share (float in (0, 1)) or number (int) of each domain's rows that go
        to the validation fold; with ``test_rows="labelled"``, of each
        domain's labelled rows.
    train_size : float, int or None, default=None
        Share or number of each domain's rows in the training fold (of its
        labelled rows with ``test_rows="labelled"``, where the masked rows
        are added to every training fold); None is the complement of
        ``test_size``.
    test_rows : {"labelled", "all"}, default="labelled"
        Which rows the validation folds may hold: only rows with a label, for
        scikit-learn's scorers, or every domain's rows, masked ones included,
        for the domain-adaptation scorers.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffles.

    See Also
    --------
    LeaveOneDomainOut : Each domain in turn is the target.
    sklearn.model_selection.ShuffleSplit : The same without domains.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.model_selection import DomainShuffleSplit
    >>> X = np.zeros((10, 2))
    >>> y = np.array([0, 1, 0, 1, 0, 1, -1, -1, -1, -1])
    >>> cv = DomainShuffleSplit(n_splits=2, test_size=0.5, random_state=0)
    >>> for train, test in cv.split(X, y):
    ...     print(np.sort(train), np.sort(test))
    [0 3 4 6 7 8 9] [1 2 5]
    [0 2 5 6 7 8 9] [1 3 4]
    >>> cv = DomainShuffleSplit(n_splits=2, test_size=0.5, test_rows="all", random_state=0)
    >>> for train, test in cv.split(X, y):
    ...     print(np.sort(train), np.sort(test))
    [3 4 5 6 7] [0 1 2 8 9]
    [0 4 5 7 8] [1 2 3 6 9]
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        test_size: float | int = 0.2,
        train_size: float | int | None = None,
        test_rows: str = "labelled",
        random_state: Any = None,
    ):
        super().__init__(
            n_splits=n_splits, test_size=test_size, train_size=train_size, random_state=random_state
        )
        self.test_rows = test_rows

    def split(self, X: Any, y: ArrayLike | None = None, groups: ArrayLike | None = None,
              sample_domain: ArrayLike | None = None):
        """Generate train and validation indices.

        Parameters
        ----------
        X : array-like, DataFrame or list of shape (n_samples, ...)
            Stacked rows; only their number is used.
        y : array-like of shape (n_samples,), default=None
            Labels, masked (``-1`` or ``NaN``) on unlabelled rows.
        groups : array-like of shape (n_samples,), default=None
            Read as ``sample_domain`` when that is not given (the way
            scikit-learn hands a splitter per-row information with metadata
            routing off).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row (> 0 source, < 0 target).

        Yields
        ------
        train : ndarray
            Indices of the training rows.
        test : ndarray
            Indices of the validation rows.
        """
        name = type(self).__name__
        self._check_params()
        domains = _split_domains(X, y, groups, sample_domain, name)
        if self.test_rows == "all":
            held_out = np.ones(domains.sample_domain.shape[0], dtype=bool)
        elif domains.labelled.any():
            held_out = domains.labelled
        else:
            raise ValueError(
                f"{name}(test_rows='labelled') validates on labelled rows, but "
                + ("y is None" if y is None else "every label in y is masked (-1 or NaN)")
                + ". Pass y with the source labels, or test_rows='all' to validate on "
                "every domain's rows with a domain-adaptation scorer."
            )
        yield from self._iter_domains(domains.sample_domain, held_out)

    def _check_params(self) -> None:
        """Validate the parameters; ``__init__`` only stores them, as scikit-learn's do."""
        name = type(self).__name__
        _check_count(name, "n_splits", self.n_splits, "the number of re-shuffles")
        _check_size(name, "test_size", self.test_size, allow_none=False)
        _check_size(name, "train_size", self.train_size, allow_none=True)
        if self.test_rows not in ("labelled", "all"):
            raise ValueError(
                f"{name}: test_rows must be 'labelled' (validation rows with a label, for "
                "scikit-learn's scorers) or 'all' (masked target rows too, for the "
                f"domain-adaptation scorers); got {self.test_rows!r}."
            )

    def _iter_domains(self, sample_domain: np.ndarray, held_out: np.ndarray):
        """Split the ``held_out`` rows of each domain; the other rows train in every fold."""
        rng = check_random_state(self.random_state)
        blocks = [np.flatnonzero((sample_domain == d) & held_out) for d in np.unique(sample_domain[held_out])]
        sizes = [self._sizes(len(rows)) for rows in blocks]
        always_train = np.flatnonzero(~held_out)
        for _ in range(self.n_splits):
            train, test = [], []
            for rows, (n_train, n_test) in zip(blocks, sizes):
                order = rows[rng.permutation(len(rows))]
                test.append(order[:n_test])
                train.append(order[n_test:n_test + n_train])
            yield np.concatenate([*train, always_train]), np.concatenate(test)

    def _sizes(self, n: int) -> tuple[int, int]:
        test, train = self.test_size, self.train_size
        n_test = int(np.ceil(test * n)) if isinstance(test, Real) and not isinstance(test, Integral) else test
        if train is None:
            n_train = n - n_test
        elif isinstance(train, Real) and not isinstance(train, Integral):
            n_train = int(np.floor(train * n))
        else:
            n_train = train
        if n_test < 1 or n_train < 1 or n_test + n_train > n:
            rows = "labelled rows" if self.test_rows == "labelled" else "rows"
            raise ValueError(
                f"{type(self).__name__}: a domain with {n} {rows} cannot give {n_train} training and {n_test} validation "
                f"rows (test_size={test!r}, train_size={train!r}); every domain needs at least one "
                "row on each side. Lower test_size or merge the small domain."
            )
        return n_train, n_test

    def get_n_splits(self, X: Any = None, y: ArrayLike | None = None, groups: ArrayLike | None = None,
                     sample_domain: ArrayLike | None = None) -> int:
        """Number of splits: ``n_splits``.

        Parameters
        ----------
        X, y, groups, sample_domain : object, default=None
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
            ``n_splits``.
        """
        self._check_params()
        return self.n_splits

    def get_metadata_routing(self) -> MetadataRequest:
        """Request ``sample_domain`` for ``split`` (metadata routing on).

        Returns
        -------
        routing : MetadataRequest
            The request.
        """
        return _split_request(self)


class LeaveOneDomainOut:
    """Hold out one domain at a time as the target, scoring on its labels.

    Expects every domain twice in the stacked data: once with its labels
    as a source (``sample_domain = +k``) and once unlabelled as a target
    (``-k``), which is what ``stack_domains(source=[(X1, y1), (X2, y2), ...],
    target=[X1, X2, ...])`` builds. Split ``k`` trains on every labelled
    domain but ``k`` plus the unlabelled copy of ``k`` (transductive, as in
    ``fit``), and validates on the labelled copy of ``k``: its labels never
    reach ``fit`` but score the fold. Those rows are passed to ``predict``
    without ``sample_domain``, so they are treated as target rows, and a
    plain scorer (``scoring=None`` or ``"accuracy"``) measures target
    accuracy with metadata routing on or off.

    A target domain ``-k`` without its labelled copy ``+k`` (a new domain
    with no labels) can neither be held out, having no labels to score,
    nor join a training fold, which holds the unlabelled copy of the
    held-out domain only: its rows are in no fold, and ``split`` warns
    (``UserWarning``) naming those ids. Fit on every row once the model is
    chosen to adapt to such a domain.

    Parameters
    ----------
    max_n_splits : int or None, default=None
        Hold out at most this many domains (the first ones in id order);
        None holds out every domain given both labelled and unlabelled.

    See Also
    --------
    DomainShuffleSplit : Shuffle-split each domain separately.
    sklearn.model_selection.LeaveOneGroupOut : The same without adaptation.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer import stack_domains
    >>> from sktransfer.model_selection import LeaveOneDomainOut
    >>> rng = np.random.default_rng(0)
    >>> doms = [(rng.normal(size=(3, 2)), np.array([0, 1, 0])) for _ in range(3)]
    >>> X, y, sd = stack_domains(source=doms, target=[Xd for Xd, _ in doms])
    >>> sd.tolist()
    [1, 1, 1, 2, 2, 2, 3, 3, 3, -1, -1, -1, -2, -2, -2, -3, -3, -3]
    >>> for train, test in LeaveOneDomainOut().split(X, y, sample_domain=sd):
    ...     print(sd[train].tolist(), test.tolist())
    [2, 2, 2, 3, 3, 3, -1, -1, -1] [0, 1, 2]
    [1, 1, 1, 3, 3, 3, -2, -2, -2] [3, 4, 5]
    [1, 1, 1, 2, 2, 2, -3, -3, -3] [6, 7, 8]
    """

    def __init__(self, max_n_splits: int | None = None):
        self.max_n_splits = max_n_splits

    def _held_out(self, X: Any, sample_domain: np.ndarray) -> np.ndarray:
        if self.max_n_splits is not None:
            _check_count(
                "LeaveOneDomainOut", "max_n_splits", self.max_n_splits,
                "the most domains to hold out (or None for every one)",
            )
        sources = np.unique(sample_domain[sample_domain > 0])
        targets = np.unique(-sample_domain[sample_domain < 0])
        both = np.intersect1d(sources, targets)
        copies = [k for k in both if _same_rows(X, sample_domain == k, sample_domain == -k)]
        if len(copies) < both.size or both.size == 0 or sources.size < 2:
            raise ValueError(
                "LeaveOneDomainOut needs at least two labelled domains, each also given "
                "unlabelled as a target (+k labelled, -k unlabelled). Build the rows with "
                "stack_domains(source=[(X1, y1), (X2, y2), ...], target=[X1, X2, ...]) and pass "
                f"its sample_domain; got source ids {sources.tolist()} and target ids "
                f"{(-targets).tolist()}"
                + (f", and the rows of ids {sorted(set(both.tolist()) - set(copies))} differ "
                   "from the rows of their negatives." if len(copies) < both.size else ".")
            )
        if self.max_n_splits is not None:
            both = both[: self.max_n_splits]
        return both

    def split(self, X: Any, y: ArrayLike | None = None, groups: ArrayLike | None = None,
              sample_domain: ArrayLike | None = None):
        """Generate train and validation indices, one split per held-out domain.

        Parameters
        ----------
        X : array-like, DataFrame or list of shape (n_samples, ...)
            Stacked rows; only their number is used.
        y : array-like of shape (n_samples,), default=None
            Labels, masked on the target copies.
        groups : array-like of shape (n_samples,), default=None
            Read as ``sample_domain`` when that is not given (metadata
            routing off).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row: ``+k`` for the labelled copy of domain ``k``,
            ``-k`` for its unlabelled copy.

        Yields
        ------
        train : ndarray
            Labelled rows of the other domains and the unlabelled copy of the
            held-out one.
        test : ndarray
            The labelled copy of the held-out domain.
        """
        sd = _split_domains(X, y, groups, sample_domain, type(self).__name__).sample_domain
        held_out = self._held_out(X, sd)
        _warn_unlabelled_only(sd)
        for k in held_out:
            train = np.flatnonzero(((sd > 0) & (sd != k)) | (sd == -k))
            yield train, np.flatnonzero(sd == k)

    def get_n_splits(self, X: Any = None, y: ArrayLike | None = None, groups: ArrayLike | None = None,
                     sample_domain: ArrayLike | None = None) -> int:
        """Number of splits: the number of domains held out.

        Parameters
        ----------
        X : object, default=None
            Ignored unless ``sample_domain`` must be inferred from ``y``.
        y : array-like of shape (n_samples,), default=None
            Labels, used only to infer domains.
        groups : array-like of shape (n_samples,), default=None
            Read as ``sample_domain`` when that is not given.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row.

        Returns
        -------
        n_splits : int
            How many domains ``split`` holds out.
        """
        if sample_domain is None and groups is None and y is None:
            raise ValueError("LeaveOneDomainOut.get_n_splits needs sample_domain (or groups) to count domains.")
        n = _num_samples(X) if X is not None else len(sample_domain if sample_domain is not None else groups)
        sd = _split_domains(np.empty((n, 0)), y, groups, sample_domain, type(self).__name__).sample_domain
        return len(self._held_out(None, sd))

    def get_metadata_routing(self) -> MetadataRequest:
        """Request ``sample_domain`` for ``split`` (metadata routing on).

        Returns
        -------
        routing : MetadataRequest
            The request.
        """
        return _split_request(self)

    def __repr__(self) -> str:
        return f"LeaveOneDomainOut(max_n_splits={self.max_n_splits!r})"
