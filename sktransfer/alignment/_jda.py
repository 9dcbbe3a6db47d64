"""Joint distribution adaptation (Long et al., 2013) and balanced distribution adaptation (Wang et al., 2017)."""

from __future__ import annotations

from numbers import Real

from .._compat import Interval
from ._jda_base import BaseJointAdaptation

__all__ = ["BalancedDistributionAdaptation", "JointDistributionAdaptation"]

_PARAMETERS = """
    n_components : int >= 1, default=100
        Number of components (the papers' ``k``). Clipped to the size of the
        eigenproblem (see ``n_components_``).
    estimator : classifier or None, default=None
        Classifier that gives the target rows their pseudo-labels at each
        iteration, fitted on the embedded source rows; cloned, never changed.
        None is 1-nearest-neighbour, as in the papers.
    kernel : {"linear", "rbf", "laplacian", "poly", "sigmoid", "cosine"}, default="linear"
        Kernel, as in :func:`sklearn.metrics.pairwise.pairwise_kernels`.
        "linear" is the papers' primal problem (a projection of the features).
    gamma : float > 0 or None, default=None
        Kernel coefficient of "rbf", "laplacian", "poly" and "sigmoid". None
        uses ``1 / (n_features * X.var())``.
    degree : int >= 1, default=3
        Degree of the "poly" kernel.
    coef0 : float, default=1.0
        Independent term of the "poly" and "sigmoid" kernels.
    alpha : float > 0, default=1e-4
        Ridge regularisation of the projection, as a fraction of the
        variance the map keeps: the ridge used is ``alpha_ = alpha *
        trace(F^T H F)`` (see Notes). The papers' ``lambda`` is the absolute
        ridge ``alpha_`` (named ``alpha`` as scikit-learn names
        regularisation strengths, e.g. in ``Ridge``). Relative, the same
        ``alpha`` suits any number of rows and any scale of ``X``: the
        variance and MMD terms grow with both, an absolute ridge does not,
        and at 20,000 raw rows ``lambda=1`` let the MMD term mix the classes
        (``benchmarks/scale.py``). On the papers' datasets (about 2,000
        unit-length rows) the default is within half a point of ``lambda=1``;
        to run their absolute ``lambda``, pass ``alpha=lambda / trace(F^T H
        F)`` (for the linear kernel, ``trace`` is the sum of the columns'
        variances times the number of rows). Smaller values let the MMD term
        shape the map more.{balance}
    max_iter : int >= 1, default=10
        Number of iterations (the papers' ``T``). The first uses the marginal
        term alone; fitting stops early once the pseudo-labels repeat, since
        every later iteration would give the same map.
    approximation : {"auto", "exact", "nystroem"}, default="auto"
        How a non-linear kernel is handled: "exact" builds the ``n x n``
        kernel, "nystroem" approximates it with ``n_landmarks`` landmark rows
        in ``O(n * n_landmarks)`` memory, "auto" is exact up to 2,000 rows
        (every iteration solves an eigenproblem of that size). The linear
        kernel is always solved exactly, in the feature space or, with more
        features than rows (up to 2,000 rows), through the ``n x n`` Gram
        matrix.
    n_landmarks : int >= 1, default=1000
        Number of landmark rows of the Nyström approximation, drawn uniformly
        from the training rows.
    max_labeller_rows : "auto", int >= 1 or None, default="auto"
        Most source rows the pseudo-labelling ``estimator`` is fitted on at
        each iteration (the map itself always uses every row). Past that many
        source rows it is fitted on a sample of them, drawn once per fit, in
        which each class keeps its share of the source rows (and at least one
        row). None uses every source row. "auto" is None for a given
        ``estimator`` and 10,000 for the default 1-nearest-neighbour, whose
        predictions compare every target row with every row it was fitted on
        (see Notes).
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of landmarks and of the pseudo-labeller's rows."""

_ATTRIBUTES = """
    n_components_ : int
        Number of components kept.
    gamma_ : float
        The kernel coefficient used.
    alpha_ : float
        The ridge used, ``alpha * trace(F^T H F)``.
    approximation_ : {"primal", "exact", "nystroem"}
        How the problem was solved ("primal": the linear kernel).
    eigenvalues_ : ndarray of shape (``n_components_``,)
        Generalised eigenvalues ``l`` of the components of the last
        iteration, decreasing (the author code's eigenvalues are ``1 / l``).
    projection_ : ndarray
        Maps raw features ("primal") or kernel values against ``X_fit_`` /
        ``landmarks_`` to the components.
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training rows (exact kernel solution only), needed to embed new rows.
    landmarks_ : ndarray of shape (n_landmarks, n_features)
        Landmark rows (Nyström solution only).
    pseudo_labels_ : ndarray of shape (n_target_rows,)
        Labels the fitted ``estimator_`` gives the training target rows
        (``sample_domain < 0``, in order) in the final embedding.
    estimator_ : classifier
        Clone of ``estimator`` fitted on the embedded source rows at the last
        iteration.
    labeller_rows_ : int
        Number of source rows ``estimator_`` was fitted on (see
        ``max_labeller_rows``).
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names."""

_NOTES = """
    Each iteration solves ``F^T H F a = l (F^T M F + alpha_ I) a`` for the
    ``n_components`` largest ``l`` (the author code solves ``(F^T M F +
    lambda I) a = w F^T H F a`` for the smallest ``w = 1 / l``: the same
    vectors), where ``F`` holds the rows (linear kernel) or their kernel values
    against the training rows, ``H`` centres and ``M`` is the MMD matrix. As in
    the authors' code (github.com/jindongwang/transferlearning,
    ``code/traditional/JDA`` and ``BDA``): ``M`` is divided by its Frobenius
    norm, the marginal term is multiplied by the number of classes ``C`` (the
    papers weigh it 1), the columns of ``a`` have unit norm and every embedded
    row is scaled to unit L2 norm before pseudo-labelling; ``transform``
    returns those unit rows.
    The authors' code also scales every *input* row to unit norm first; put
    :class:`~sklearn.preprocessing.Normalizer` before this estimator to do
    the same. Source domains are pooled, and so are target domains; labels of
    target rows are not used. The Nyström path solves the kernel problem with
    ``K`` replaced by its landmark approximation (with all rows as landmarks,
    the exact solution) and never forms an ``n x n`` matrix.

    The default pseudo-labeller, 1-nearest-neighbour, compares every target
    row with every row it was fitted on at each iteration. With 50,000
    source and 50,000 target rows x 256 features (10 classes,
    ``benchmarks/scale.py``, 2 cores) that was about 90% of the linear fit
    (98 s, 210 CPU-seconds) and 70% of the "rbf" one (Nyström, 60 s).
    Fitted on 10,000 source rows (``max_labeller_rows="auto"``), the linear
    fit takes 24 s and the "rbf" one 27 s, in the same memory (0.7 and
    2.0 GB); the nearest source-class mean classifies the
    embedded target rows as well as before (97.6% and 97.0%), while the
    pseudo-labels themselves are a little less accurate (82.4% of the
    target rows right, against 85.2% with every source row, linear).
    Up to 10,000 source rows nothing changes."""

_REFERENCES = """
    .. [1] M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu, "Transfer Feature
       Learning with Joint Distribution Adaptation", ICCV 2013, pp. 2200-2207.
    .. [2] J. Wang, Y. Chen, S. Hao, W. Feng and Z. Shen, "Balanced
       Distribution Adaptation for Transfer Learning", ICDM 2017, pp. 1129-1134.
    .. [3] C. Williams and M. Seeger, "Using the Nyström Method to Speed Up
       Kernel Machines", NIPS 2001."""


_BALANCE = """
    mu : float in [0, 1], default=0.5
        Balance factor: weight of the class-conditional terms against the
        marginal one. ``mu=0.5`` is JDA.
    weighted : bool, default=False
        Weight the class terms by the class-proportion ratio (W-BDA)."""


def _document(cls: type) -> type:
    """Fill the parameters, attributes, notes and references both estimators share into ``cls``'s docstring."""
    balance = _BALANCE.rstrip() if "mu" in cls._parameter_constraints else ""
    cls.__doc__ = cls.__doc__.format(
        parameters=_PARAMETERS.strip("\n").replace("{balance}", balance),
        attributes=_ATTRIBUTES.strip("\n"), notes=_NOTES.strip("\n"), references=_REFERENCES.strip("\n"),
    )
    return cls


@_document
class JointDistributionAdaptation(BaseJointAdaptation):
    """Joint distribution adaptation (JDA): match marginal and class-conditional distributions.

    JDA learns ``n_components`` directions that keep the variance of the
    pooled rows while shrinking the maximum mean discrepancy (MMD) between
    the domains' means and between the means of each class. Target labels
    are unknown, so the target rows get pseudo-labels from ``estimator``
    fitted on the embedded source rows; the class terms are rebuilt from
    them and the problem solved again, ``max_iter`` times.

    Parameters
    ----------
{parameters}

    Attributes
    ----------
{attributes}

    See Also
    --------
    BalancedDistributionAdaptation : Weigh the marginal and conditional terms (and classes).
    TransferComponentAnalysis : Match the marginal distributions only.

    Notes
    -----
    JDA is :class:`BalancedDistributionAdaptation` with ``mu=0.5``: the
    marginal and conditional terms summed with equal weight give the same
    normalised MMD matrix.

{notes}

    References
    ----------
{references}

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.alignment import JointDistributionAdaptation
    >>> X, y, sample_domain = make_domain_shift(n_samples=60, random_state=0)
    >>> jda = JointDistributionAdaptation(n_components=2)
    >>> jda.fit_transform(X, y, sample_domain=sample_domain).shape
    (120, 2)
    >>> jda.pseudo_labels_.shape
    (60,)
    """

    def __init__(
        self,
        n_components: int = 100,
        *,
        estimator=None,
        kernel: str = "linear",
        gamma: float | None = None,
        degree: int = 3,
        coef0: float = 1.0,
        alpha: float = 1e-4,
        max_iter: int = 10,
        approximation: str = "auto",
        n_landmarks: int = 1000,
        max_labeller_rows: int | str | None = "auto",
        random_state=None,
    ):
        self.n_components = n_components
        self.estimator = estimator
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.alpha = alpha
        self.max_iter = max_iter
        self.approximation = approximation
        self.n_landmarks = n_landmarks
        self.max_labeller_rows = max_labeller_rows
        self.random_state = random_state

    def _balance(self) -> tuple[float, bool]:
        return 0.5, False


@_document
class BalancedDistributionAdaptation(BaseJointAdaptation):
    """Balanced distribution adaptation (BDA, W-BDA): weigh marginal against conditional MMD.

    BDA is JDA with the balance factor ``mu``: the MMD matrix is ``(1 - mu)``
    times the marginal term plus ``mu`` times the class-conditional terms,
    so ``mu=0`` matches the domains' means only (as TCA does) and ``mu=1``
    the class means only. With ``weighted=True`` (W-BDA) the target side of
    each class term is weighted by ``P_t(c) / P_s(c)``, the ratio of the
    class's share among the target pseudo-labels to its share among the
    source labels, for classes whose proportions differ between domains.

    Parameters
    ----------
{parameters}

    Attributes
    ----------
{attributes}

    See Also
    --------
    JointDistributionAdaptation : BDA with ``mu=0.5``, unweighted.
    TransferComponentAnalysis : Match the marginal distributions only.

    Notes
    -----
    Departures from the authors' code: their W-BDA ignores ``mu`` after the
    first iteration and uses the class terms alone (``mu=1``); here ``mu``
    applies to W-BDA too, so pass ``mu=1.0`` to reproduce it. Their option
    to estimate ``mu`` from proxy A-distances is not offered.

{notes}

    References
    ----------
{references}

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.alignment import BalancedDistributionAdaptation
    >>> X, y, sample_domain = make_domain_shift(n_samples=60, random_state=0)
    >>> bda = BalancedDistributionAdaptation(n_components=2, mu=0.3, weighted=True)
    >>> bda.fit_transform(X, y, sample_domain=sample_domain).shape
    (120, 2)
    """

    _parameter_constraints: dict = {
        **BaseJointAdaptation._parameter_constraints,
        "mu": [Interval(Real, 0, 1, closed="both")],
        "weighted": ["boolean"],
    }

    def __init__(
        self,
        n_components: int = 100,
        *,
        estimator=None,
        kernel: str = "linear",
        gamma: float | None = None,
        degree: int = 3,
        coef0: float = 1.0,
        alpha: float = 1e-4,
        mu: float = 0.5,
        weighted: bool = False,
        max_iter: int = 10,
        approximation: str = "auto",
        n_landmarks: int = 1000,
        max_labeller_rows: int | str | None = "auto",
        random_state=None,
    ):
        self.n_components = n_components
        self.estimator = estimator
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.alpha = alpha
        self.mu = mu
        self.weighted = weighted
        self.max_iter = max_iter
        self.approximation = approximation
        self.n_landmarks = n_landmarks
        self.max_labeller_rows = max_labeller_rows
        self.random_state = random_state

    def _balance(self) -> tuple[float, bool]:
        return float(self.mu), bool(self.weighted)
