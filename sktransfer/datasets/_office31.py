"""Office-31 loader: SURF (800-d) and DeCAF (1000-d) features of the Saenko et al. (2010) release."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._bunch import dataset_folder, domain_bunch, finish, parse_domains, resolve_domain
from ._fetch import DataFileMissingError, RemoteFile, fetch_archive

__all__ = ["fetch_office31"]

DOMAINS = {"amazon": "A", "dslr": "D", "webcam": "W"}
_ALIASES = {**{d: d for d in DOMAINS}, "a": "amazon", "d": "dslr", "w": "webcam"}
#: The 31 categories, sorted by name: the class ids.
CATEGORIES = (
    "back_pack", "bike", "bike_helmet", "bookcase", "bottle", "calculator", "desk_chair", "desk_lamp",
    "desktop_computer", "file_cabinet", "headphones", "keyboard", "laptop_computer", "letter_tray",
    "mobile_phone", "monitor", "mouse", "mug", "paper_notebook", "pen", "phone", "printer", "projector",
    "punchers", "ring_binder", "ruler", "scissors", "speaker", "stapler", "tape_dispenser", "trash_can",
)


@dataclass(frozen=True)
class _Features:
    remote: RemoteFile
    root: str  # folder the archive extracts to ("" when it has none)
    subfolder: str  # between <domain> and <category>
    pattern: str  # the feature files in each category folder
    key: str  # the features' key in each .mat file
    n_features: int


#: Tarballs of the original release, mirrored on figshare (the URLs and sha256 of skada's loader).
FEATURES = {
    "surf": _Features(
        RemoteFile("domain_adaptation_features_20110616.tar.gz",
                   "https://figshare.com/ndownloader/files/41786493?private_link=dfe6af3ef4f0f9ae93b9",
                   "1bb83153343eb0d2c44f66ee63990639176855b2b894fae17ef82c7198123291"),
        "domain_adaptation_features", "interest_points",
        "histogram_*.SURF_SURF.amazon_800.SURF_SURF.mat", "histogram", 800,
    ),
    "decaf": _Features(
        RemoteFile("domain_adaptation_decaf_features_20140430.tar.gz",
                   "https://figshare.com/ndownloader/files/41786427?private_link=e145dd18e3d010c1f6d9",
                   "ea13d8ced0fb629937f25f4a4670e0e75fc1955fb439f4ac412e129dd78a19ee"),
        "", "decaf-fts", "*.mat", "fc8", 1000,
    ),
}
_NO_RESNET50 = (
    "No public file of ResNet-50 features of Office-31 is known (none was found from a source that "
    "can be checked), so features='resnet50' cannot be downloaded. Extract them from the Office-31 "
    "images with sktransfer.deep.ImageFeatureExtractor('torchvision:resnet50'), or use "
    "features='surf' or 'decaf'."
)

DESCR = """\
Office-31
---------

31 categories of office objects in three domains (Saenko, Kulis, Fritz and Darrell, ECCV 2010):
amazon (product photos from amazon.com), dslr (high-resolution DSLR photos) and webcam
(low-resolution webcam photos); about 2817, 498 and 795 images. Labels 0..30 are the categories
sorted by name. The six ordered pairs are the standard tasks.

features="surf": bags of 800 SURF visual words (codebook built on amazon, the files
``histogram_*.SURF_SURF.amazon_800.SURF_SURF.mat``, key ``histogram``), from the release's
``domain_adaptation_features_20110616.tar.gz``. features="decaf": 1000-d DeCAF activations (key
``fc8``; Donahue et al., ICML 2014) from ``domain_adaptation_decaf_features_20140430.tar.gz``. Both
tarballs are read from the figshare mirror used by the skada library. Values are returned raw
(float64); the usual SURF preprocessing (rows divided by their sum, then columns z-scored within
each domain) is left to the user. No public ResNet-50 features are known.

No licence is stated for the data. Cite Saenko, Kulis, Fritz and Darrell, "Adapting Visual
Category Models to New Domains", ECCV 2010 (and Donahue et al. for DeCAF).
"""


def _domain(domain):
    return resolve_domain(domain, _ALIASES, "Office-31", "'amazon' (A), 'dslr' (D), 'webcam' (W)")


def _spec(features):
    if features == "resnet50":
        raise ValueError(_NO_RESNET50)
    if features not in FEATURES:
        raise ValueError(f"Unknown features {features!r}; expected 'surf', 'decaf' (or 'resnet50').")
    return FEATURES[features]


def _load_domain(folder, spec, domain):
    """``(X, y, filenames)`` of one domain from the extracted files under ``folder``."""
    from scipy.io import loadmat

    base = folder / spec.root / domain / spec.subfolder
    if not base.is_dir():
        raise DataFileMissingError(
            f"Folder {str(base)!r} is missing. Delete {str(folder / (spec.remote.filename + '.extracted'))!r} "
            "to download and extract the archive again."
        )
    rows, labels, names = [], [], []
    for category in sorted(p.name for p in base.iterdir() if p.is_dir()):
        if category not in CATEGORIES:
            raise ValueError(f"Unknown Office-31 category folder {str(base / category)!r}.")
        for path in sorted((base / category).glob(spec.pattern)):
            x = np.asarray(loadmat(path)[spec.key], dtype=np.float64).reshape(-1)
            if x.size != spec.n_features:
                raise ValueError(f"{str(path)!r}: {spec.key} has {x.size} values, not {spec.n_features}.")
            rows.append(x)
            labels.append(CATEGORIES.index(category))
            names.append(path.relative_to(folder).as_posix())
    if not rows:
        raise ValueError(f"No feature file matching {spec.pattern!r} under {str(base)!r}.")
    return np.vstack(rows), np.array(labels, dtype=np.int64), names


def fetch_office31(domains, *, features="surf", data_home=None, download_if_missing=True,
                   as_frame=False, return_X_y=False):
    """Load one Office-31 domain, or a (source, target) pair, downloading if needed.

    Three domains (amazon, dslr, webcam) of the same 31 office object
    categories. On first use the features' tarball (from the original
    release, mirrored on figshare) is downloaded, checked against its
    sha256, extracted into ``data_home`` and deleted.

    Parameters
    ----------
    domains : str or (str, str)
        One domain, or a ``(source, target)`` pair: ``"amazon"``/``"A"``,
        ``"dslr"``/``"D"``, ``"webcam"``/``"W"`` (case-insensitive).
    features : {"surf", "decaf", "resnet50"}, default="surf"
        ``"surf"``: 800-d bags of SURF visual words. ``"decaf"``: 1000-d
        DeCAF ``fc8`` activations. ``"resnet50"``: no public feature file is
        known, so this raises a ``ValueError`` that says how to compute them.
    data_home : str or path-like, default=None
        Folder holding (or to receive) ``office31_surf/`` and
        ``office31_decaf/``; it may also be one of those folders. None reads
        ``SKTRANSFER_DATA_HOME``, else uses ``~/sktransfer_data``.
    download_if_missing : bool, default=True
        Download the archive when the features are absent. If False, raise
        an error instead.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame (columns ``surf_0`` ... or
        ``decaf_0`` ...) and ``target`` as a Series (needs pandas).
    return_X_y : bool, default=False
        Return ``(X, y)``, or ``((Xs, ys), (Xt, yt))`` for a pair, instead of
        a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        For one domain, a dictionary-like object with attributes:

        data : ndarray or DataFrame of shape (n_samples, n_features)
            The raw features, float64, one row per image.
        target : ndarray or Series of shape (n_samples,)
            Category ids 0..30 (the categories sorted by name), int64.
        feature_names : list of str
            ``surf_0`` ... or ``decaf_0`` ....
        target_names : ndarray of shape (31,)
            The category names, in label order.
        domain : str
            ``"amazon"``, ``"dslr"`` or ``"webcam"``.
        filenames : list of str
            Each row's feature file, relative to the dataset folder.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance and citations.

        For a pair: a Bunch with ``source`` and ``target`` (Bunches as
        above), ``task`` (e.g. ``"A->W"``) and ``DESCR``.
    (X, y) or ((Xs, ys), (Xt, yt)) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` of the domain, or of each domain of the pair.

    Raises
    ------
    ValueError
        Unknown domain or features, ``features="resnet50"``, an archive
        whose sha256 is wrong (``ChecksumError``) or that holds a member with
        an absolute path, a ``..`` or a link (nothing is extracted).
    FileNotFoundError
        The features are absent and ``download_if_missing=False`` or the
        download failed; the message names the archive, the path to save it
        at (it is extracted on the next call) and its URL.

    See Also
    --------
    fetch_office_caltech : The 10 categories shared with Caltech-256.
    sktransfer.stack_domains : Turn the pair into ``X, y, sample_domain``.

    Notes
    -----
    Layout: ``<data_home>/office31_surf/domain_adaptation_features/<domain>/
    interest_points/<category>/histogram_*.SURF_SURF.amazon_800.SURF_SURF.mat``
    and ``<data_home>/office31_decaf/<domain>/decaf-fts/<category>/*.mat``,
    each folder with a marker file ``<archive>.extracted``. The archive is
    deleted once extracted. The sample counts and the DeCAF layer were taken
    from the skada library's loader, not checked against the files here.

    References
    ----------
    .. [1] K. Saenko, B. Kulis, M. Fritz and T. Darrell, "Adapting visual
       category models to new domains", ECCV 2010.
    .. [2] J. Donahue, Y. Jia, O. Vinyals, J. Hoffman, N. Zhang, E. Tzeng
       and T. Darrell, "DeCAF: a deep convolutional activation feature for
       generic visual recognition", ICML 2014.

    Examples
    --------
    >>> from sktransfer.datasets import fetch_office31
    >>> (Xs, ys), (Xt, yt) = fetch_office31(
    ...     ("amazon", "webcam"), features="decaf", return_X_y=True)  # doctest: +SKIP
    >>> Xs.shape[1], len(set(ys))  # doctest: +SKIP
    (1000, 31)
    """
    pair, names = parse_domains(domains, _domain)
    spec = _spec(features)
    folder = dataset_folder(data_home, f"office31_{features}")
    fetch_archive(spec.remote, folder, download_if_missing=download_if_missing)
    feature_names = [f"{features}_{i}" for i in range(spec.n_features)]
    bunches = []
    for name in names:
        X, y, filenames = _load_domain(folder, spec, name)
        bunches.append(domain_bunch(X, y, domain=name, feature_names=feature_names,
                                    target_names=CATEGORIES, descr=DESCR, as_frame=as_frame,
                                    filenames=filenames))
    task = "->".join(DOMAINS[name] for name in names)
    return finish(bunches, pair=pair, return_X_y=return_X_y, task=task, descr=DESCR)
