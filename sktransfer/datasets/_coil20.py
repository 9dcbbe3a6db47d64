"""COIL20 loader: the two 32x32 (1024-d) domains COIL1 and COIL2 of the JDA data release."""

from __future__ import annotations

from ._bunch import JDA_BASE_URL, JDAFile, fetch_jda
from ._fetch import RemoteFile

__all__ = ["fetch_coil20"]

FILENAME = "COIL_1.mat"
#: sha256 (SOURCES.md section 5 of the shared data folder).
SHA256 = "5001c5bcef8d95217d66a08bdccbcaae2bc8cd3142540ed4ec38ca0796342534"
SIZE = 3016148

DESCR = """\
COIL20: COIL1 <-> COIL2 (JDA release)
-------------------------------------

The Columbia Object Image Library (COIL-20, Nene, Nayar and Murase, 1996): 20 objects, each
photographed on a turntable every 5 degrees (72 poses), as released by Long et al. with Joint
Distribution Adaptation (JDA, ICCV 2013): 32x32 grey levels flattened into 1024 features with
values in [0, 1]. Following the JDA paper, COIL1 holds the poses of [0, 85] and [180, 265]
degrees, COIL2 those of [90, 175] and [270, 355] degrees: 36 images per object, 720 per domain
(the files do show two runs of 18 consecutive poses per object, and no image in both domains).
Labels 0..19 are the objects (the files' labels 1..20 minus 1, taken to be COIL-20's obj1..obj20).

The file ``COIL_1.mat`` holds both domains (COIL1 as ``X_src``, COIL2 as ``X_tar``; columns are
samples); its twin ``COIL_2.mat`` holds the same arrays with the roles swapped, so one file serves
both tasks. Byte-identical copy: AngryCarrot/JDA@12167daf, ``data/``.

Protocol of JDA: all labelled source rows, all unlabelled target rows, accuracy on all target
rows, 1-NN classifier; the JDA code L2-normalises each sample inside the algorithm, the loader
returns the raw values. No verified published accuracies for COIL1<->COIL2 are at hand. No licence
is stated for the data. Cite Long, Wang, Ding, Sun and Yu, "Transfer Feature Learning with Joint
Distribution Adaptation", ICCV 2013, and Nene, Nayar and Murase, "Columbia Object Image Library
(COIL-20)", Technical Report CUCS-005-96, 1996.
"""

_SPEC = JDAFile(
    dataset="COIL20",
    remote=RemoteFile(FILENAME, JDA_BASE_URL + FILENAME, SHA256, SIZE),
    subdir="coil20",
    n_features=1024,
    parts={"coil1": "src", "coil2": "tar"},
    aliases={"coil1": "coil1", "c1": "coil1", "1": "coil1", "coil2": "coil2", "c2": "coil2", "2": "coil2"},
    codes={"coil1": "C1", "coil2": "C2"},
    target_names=tuple(f"obj{k}" for k in range(1, 21)),
    feature_prefix="pixel",
    descr=DESCR,
)


def fetch_coil20(domains=("coil1", "coil2"), *, data_home=None, download_if_missing=True,
                 as_frame=False, return_X_y=False):
    """Load the COIL1 or COIL2 domain of COIL20 (JDA release), or a (source, target) pair.

    20 objects, 720 images per domain (36 per object, two disjoint sets of
    poses), 32x32 grey levels flattened into 1024 features in [0, 1]. Both
    domains come from one file (3 MB), checked against its sha256 and
    cached in ``data_home``.

    Parameters
    ----------
    domains : str or (str, str), default=("coil1", "coil2")
        One domain, ``"coil1"`` (or ``"C1"``, ``"1"``) or ``"coil2"`` (or
        ``"C2"``, ``"2"``), case-insensitive, or a ``(source, target)`` pair
        in either order.
    data_home : str or path-like, default=None
        Folder holding (or to receive) ``coil20/COIL_1.mat``; it may also be
        the ``coil20`` folder itself. None reads ``SKTRANSFER_DATA_HOME``,
        else uses ``~/sktransfer_data``.
    download_if_missing : bool, default=True
        Download the file when absent. If False, raise an error instead.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame (columns ``pixel_0`` ...
        ``pixel_1023``) and ``target`` as a Series (needs pandas).
    return_X_y : bool, default=False
        Return ``(X, y)``, or ``((Xs, ys), (Xt, yt))`` for a pair, instead of
        a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        For one domain, a dictionary-like object with attributes:

        data : ndarray or DataFrame of shape (720, 1024)
            Pixel values in [0, 1], float64.
        target : ndarray or Series of shape (720,)
            Object ids 0..19 (the file's labels 1..20 minus 1), int64.
        feature_names : list of str
            ``pixel_0`` ... ``pixel_1023``.
        target_names : ndarray of shape (20,)
            ``"obj1"`` ... ``"obj20"`` (the COIL-20 object numbers).
        domain : str
            ``"coil1"`` or ``"coil2"``.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance, protocol and citations.

        For a pair: a Bunch with ``source`` and ``target`` (Bunches as
        above), ``task`` (``"C1->C2"`` or ``"C2->C1"``) and ``DESCR``.
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
    fetch_mnist_usps : The MNIST/USPS pair of the same release.

    Notes
    -----
    File and layout: ``<data_home>/coil20/COIL_1.mat`` (keys ``X_src`` and
    ``X_tar`` of shape (1024, 720), ``Y_src``, ``Y_tar``), downloaded from
    AngryCarrot/JDA at commit 12167daf. The JDA protocol uses all source and
    all target rows and a 1-NN classifier. No licence is stated for the
    data.

    References
    ----------
    .. [1] M. Long, J. Wang, G. Ding, J. Sun and P. S. Yu, "Transfer feature
       learning with joint distribution adaptation", ICCV 2013.
    .. [2] S. A. Nene, S. K. Nayar and H. Murase, "Columbia Object Image
       Library (COIL-20)", Technical Report CUCS-005-96, Columbia
       University, 1996.

    Examples
    --------
    >>> from sktransfer.datasets import fetch_coil20
    >>> pair = fetch_coil20(("coil2", "coil1"))  # doctest: +SKIP
    >>> pair.task, pair.source.data.shape, pair.target.data.shape  # doctest: +SKIP
    ('C2->C1', (720, 1024), (720, 1024))
    """
    return fetch_jda(_SPEC, domains, data_home=data_home, download_if_missing=download_if_missing,
                     as_frame=as_frame, return_X_y=return_X_y)
