"""MNIST <-> USPS loader: the 16x16 (256-d) digits of the JDA data release."""

from __future__ import annotations

from ._bunch import JDA_BASE_URL, JDAFile, fetch_jda
from ._fetch import RemoteFile

__all__ = ["fetch_mnist_usps"]

FILENAME = "MNIST_vs_USPS.mat"
#: sha256 (SOURCES.md section 4 of the shared data folder).
SHA256 = "2b87e5a793e77826417e6c483e0850d6666c9746717bce2561db43f3f30efd4d"
SIZE = 3303450

DESCR = """\
MNIST <-> USPS (JDA release)
----------------------------

Handwritten digits 0..9 from two sources, as released by Long et al. with Joint Distribution
Adaptation (JDA, ICCV 2013): 2000 MNIST images and 1800 USPS images, all resized to 16x16
grey levels and flattened row by row into 256 features with values in [0, 1]. Labels 0..9 are
the digits (the files' labels 1..10 minus 1; checked on the class-mean images).

The file ``MNIST_vs_USPS.mat`` holds both domains (MNIST as ``X_src``, USPS as ``X_tar``; columns
are samples). Its twin ``USPS_vs_MNIST.mat`` holds the same arrays with the roles swapped, so one
file serves both tasks, M->U and U->M. Byte-identical copy: AngryCarrot/JDA@12167daf, ``data/``.

Protocol of JDA and of its followers (TJM, BDA, MEDA, JGSA): all labelled source rows, all
unlabelled target rows, accuracy on all target rows, 1-NN classifier. The JDA code divides each
sample by its L2 norm inside the algorithm (``X*diag(1./sqrt(sum(X.^2)))``), and the projected
samples again; the loader returns the raw values (use ``sklearn.preprocessing.normalize`` for unit
rows). No licence is stated for the data. Cite Long, Wang, Ding, Sun and Yu, "Transfer Feature
Learning with Joint Distribution Adaptation", ICCV 2013, and LeCun et al. (MNIST) and Hull (USPS).
"""

_SPEC = JDAFile(
    dataset="MNIST/USPS",
    remote=RemoteFile(FILENAME, JDA_BASE_URL + FILENAME, SHA256, SIZE),
    subdir="mnist_usps",
    n_features=256,
    parts={"mnist": "src", "usps": "tar"},
    aliases={"mnist": "mnist", "m": "mnist", "usps": "usps", "u": "usps"},
    codes={"mnist": "M", "usps": "U"},
    target_names=tuple(str(d) for d in range(10)),
    feature_prefix="pixel",
    descr=DESCR,
)


def fetch_mnist_usps(domains=("mnist", "usps"), *, data_home=None, download_if_missing=True,
                     as_frame=False, return_X_y=False):
    """Load the MNIST or USPS digits of the JDA release, or a (source, target) pair.

    2000 MNIST and 1800 USPS images of the digits 0..9, 16x16 grey levels
    flattened into 256 features in [0, 1]. Both domains come from one file
    (3.3 MB), checked against its sha256 and cached in ``data_home``.

    Parameters
    ----------
    domains : str or (str, str), default=("mnist", "usps")
        One domain, ``"mnist"`` (or ``"M"``) or ``"usps"`` (or ``"U"``),
        case-insensitive, or a ``(source, target)`` pair in either order.
    data_home : str or path-like, default=None
        Folder holding (or to receive) ``mnist_usps/MNIST_vs_USPS.mat``; it
        may also be the ``mnist_usps`` folder itself. None reads
        ``SKTRANSFER_DATA_HOME``, else uses ``~/sktransfer_data``.
    download_if_missing : bool, default=True
        Download the file when absent. If False, raise an error instead.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame (columns ``pixel_0`` ...
        ``pixel_255``) and ``target`` as a Series (needs pandas).
    return_X_y : bool, default=False
        Return ``(X, y)``, or ``((Xs, ys), (Xt, yt))`` for a pair, instead of
        a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        For one domain, a dictionary-like object with attributes:

        data : ndarray or DataFrame of shape (n_samples, 256)
            Pixel values in [0, 1], float64, row-major 16x16 images.
        target : ndarray or Series of shape (n_samples,)
            The digits 0..9 (the file's labels 1..10 minus 1), int64.
        feature_names : list of str
            ``pixel_0`` ... ``pixel_255``.
        target_names : ndarray of shape (10,)
            ``"0"`` ... ``"9"``.
        domain : str
            ``"mnist"`` or ``"usps"``.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance, protocol and citations.

        For a pair: a Bunch with ``source`` and ``target`` (Bunches as
        above), ``task`` (``"M->U"`` or ``"U->M"``) and ``DESCR``.
    (X, y) or ((Xs, ys), (Xt, yt)) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` of the domain, or of each domain of the pair.

    Raises
    ------
    ValueError
        Unknown domain, or a file whose sha256 is wrong (``ChecksumError``).
    FileNotFoundError
        The file is absent and ``download_if_missing=False`` or the download
        failed; the message names the file, the path to save it at and its
        URL, to copy it in by hand.

    See Also
    --------
    sktransfer.stack_domains : Turn the pair into ``X, y, sample_domain``.
    fetch_coil20 : The COIL20 pair of the same release.

    Notes
    -----
    File and layout: ``<data_home>/mnist_usps/MNIST_vs_USPS.mat`` (keys
    ``X_src`` (256, 2000), ``Y_src``, ``X_tar`` (256, 1800), ``Y_tar``),
    downloaded from AngryCarrot/JDA at commit 12167daf. The JDA protocol
    uses all source and all target rows and a 1-NN classifier; the JDA code
    L2-normalises each sample inside the algorithm, this loader returns the
    raw pixels. No licence is stated for the data.

    References
    ----------
    .. [1] M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu, "Transfer feature
       learning with joint distribution adaptation", ICCV 2013.

    Examples
    --------
    >>> from sktransfer import stack_domains
    >>> from sktransfer.datasets import fetch_mnist_usps
    >>> (Xs, ys), (Xt, yt) = fetch_mnist_usps(
    ...     ("usps", "mnist"), return_X_y=True)  # doctest: +SKIP
    >>> Xs.shape, Xt.shape  # doctest: +SKIP
    ((1800, 256), (2000, 256))
    >>> X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (3800, 256)
    """
    return fetch_jda(_SPEC, domains, data_home=data_home, download_if_missing=download_if_missing,
                     as_frame=as_frame, return_X_y=return_X_y)
