"""Office-Caltech10 loader: SURF (800-d, all four domains) and DeCAF (4096-d, dslr and webcam)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ._bunch import JDA_BASE_URL, dataset_folder, domain_bunch, finish, parse_domains, resolve_domain
from ._fetch import RemoteFile, fetch_file

__all__ = ["fetch_office_caltech"]

#: domain code -> (SURF file stem, human-readable name)
DOMAINS = {
    "A": ("amazon", "amazon"),
    "C": ("Caltech10", "caltech"),
    "D": ("dslr", "dslr"),
    "W": ("webcam", "webcam"),
}
_ALIASES = {
    "a": "A", "amazon": "A",
    "c": "C", "caltech": "C", "caltech10": "C", "caltech256": "C",
    "d": "D", "dslr": "D",
    "w": "W", "webcam": "W",
}
#: Labels 1..10 of the files, in order (checked against the image names of ``*_imgs.mat``).
TARGET_NAMES = (
    "back_pack", "bike", "calculator", "headphones", "keyboard",
    "laptop_computer", "monitor", "mouse", "mug", "projector",
)

#: sha256 of each file (SOURCES.md sections 1 and 2 of the shared data folder).
SURF_SHA256 = {
    "amazon_SURF_L10.mat": "df32548b994e18d364c99e1f317e1fae100597259f0423a41b90f4f68187bb1f",
    "Caltech10_SURF_L10.mat": "4f9334c8ced489d5054de97a5fd51a61f017f3bcd1f38c9a85c6d78cb9d7bda5",
    "dslr_SURF_L10.mat": "44d673c68e1d07b837893aa74dba3b986e4a6cc3fd66f0dd357683bdef059216",
    "webcam_SURF_L10.mat": "a6a9c78b4b7181dfbb58bcfd351d4ebd737f171c31247b8884948aa156d3f700",
}
DECAF_SHA256 = {
    "dslr.mat": "42443f5e82e98cbe6304cacdba905e24c8430ed977b3d6b7b279f088b76e108f",
    "webcam.mat": "e42207580fb1fadd3adba2504e1d8cff9620f464fca7536f9d7093f84c1459a3",
}
FILE_SIZES = {
    "amazon_SURF_L10.mat": 104970, "Caltech10_SURF_L10.mat": 150751,
    "dslr_SURF_L10.mat": 18348, "webcam_SURF_L10.mat": 32406,
    "dslr.mat": 748396, "webcam.mat": 1407979,
}
#: Pinned commits of public GitHub repositories holding byte-identical copies.
BASE_URLS = {
    "surf": JDA_BASE_URL,
    "decaf": "https://raw.githubusercontent.com/jindongwang/transferlearning/"
             "de0cd293cd4cc0e2f027a1cc58493ba4df07d6a8/code/traditional/TCA/data/",
}


def _l1_rows(X):
    s = X.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = X / s
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def _l2_rows(X):
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return X / n


def _zscore_cols(X):
    """Per-column z-score, population std (MATLAB ``zscore(X, 1)``); constant columns -> 0."""
    std = X.std(axis=0, ddof=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (X - X.mean(axis=0)) / std
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass(frozen=True)
class _Features:
    subdir: str
    key: str  # the features' key in the .mat files
    n_features: int
    filenames: dict  # domain code -> file name
    sha256: dict  # file name -> sha256 (the module-level table itself)
    steps: dict  # preprocess name -> transforms applied in order


_FEATURES = {
    "surf": _Features(
        "office_caltech10_surf", "fts", 800,
        {code: f"{stem}_SURF_L10.mat" for code, (stem, _) in DOMAINS.items()}, SURF_SHA256,
        {"none": (), "l1": (_l1_rows,), "l2": (_l2_rows,), "zscore": (_l1_rows, _zscore_cols),
         "zscore_l2": (_l1_rows, _zscore_cols, _l2_rows)},
    ),
    "decaf": _Features(
        "office_caltech10_decaf_partial", "feas", 4096, {"D": "dslr.mat", "W": "webcam.mat"},
        DECAF_SHA256, {"none": (), "l2": (_l2_rows,), "zscore": (_zscore_cols,)},
    ),
}
SURF_PREPROCESSINGS = tuple(_FEATURES["surf"].steps)

DESCR = """\
Office-Caltech10
----------------

The ten object classes shared by the Office dataset (Saenko et al., ECCV 2010: amazon = product
photos from amazon.com, dslr = high-resolution DSLR photos, webcam = low-resolution webcam photos)
and Caltech-256 (Griffin et al., 2007), as prepared by Gong et al. (GFK, CVPR 2012). Classes (labels
0..9): back_pack, bike, calculator, headphones, keyboard, laptop_computer, monitor, mouse, mug,
projector. Rows: amazon 958, caltech 1123, dslr 157, webcam 295.

features="surf": Boqing Gong's ``*_SURF_L10.mat`` files (GFK package): 800-d bags of SURF visual
words (uint8 counts). Byte-identical copies are in AngryCarrot/JDA@12167daf (``data/``) and
VisionLearningGroup/CORAL. The default preprocessing "zscore" (rows divided by their sum, then each
column z-scored within the domain, population std) is that of the GFK, SA, CORAL, JDA, BDA and MEDA
code; a 1-NN from the source to the target rows under it reproduces the "1NN" column of MEDA (ACM MM
2018), Table 2, on all 12 tasks.

features="decaf": 4096-d DeCAF6 activations (non-negative, about 83% zeros), from
jindongwang/transferlearning@de0cd293 (``code/traditional/TCA/data``). Only dslr and webcam are
publicly available from a known source, so only the D->W and W->D tasks can be run. The files carry
no README; that they are DeCAF6 is what the code beside them says, not verified.

No licence is stated for the data. Cite Gong, Shi, Sha and Grauman, "Geodesic Flow Kernel for
Unsupervised Domain Adaptation", CVPR 2012, and Saenko, Kulis, Fritz and Darrell, "Adapting Visual
Category Models to New Domains", ECCV 2010.
"""


def _domain_code(domain):
    return resolve_domain(domain, _ALIASES, "Office-Caltech10",
                          "'A' (amazon), 'C' (caltech), 'D' (dslr), 'W' (webcam)")


def _spec(features):
    if features not in _FEATURES:
        raise ValueError(f"Unknown features {features!r}; expected one of {tuple(_FEATURES)}.")
    return _FEATURES[features]


def _check_preprocess(features, preprocess):
    steps = _spec(features).steps
    if preprocess not in steps:
        raise ValueError(
            f"Unknown preprocess {preprocess!r} for features={features!r}; expected one of {tuple(steps)}."
        )
    return steps[preprocess]


def _preprocess(X, preprocess="zscore", features="surf"):
    """Apply one preprocessing to the raw features of ONE domain (float64 copy)."""
    steps = _check_preprocess(features, preprocess)
    X = np.array(X, dtype=np.float64)
    for step in steps:
        X = step(X)
    return X


def _remote(features, code):
    spec = _spec(features)
    if code not in spec.filenames:
        raise ValueError(
            f"The {features!r} features of the {DOMAINS[code][1]} domain are not publicly available "
            f"from a known source; only {', '.join(DOMAINS[c][1] for c in spec.filenames)} are. "
            "Use features='surf' for the four domains."
        )
    name = spec.filenames[code]
    return RemoteFile(name, BASE_URLS[features] + name, spec.sha256[name], FILE_SIZES.get(name))


def _dataset_folder(data_home, features):
    """``<data_home>/<subdir>``, or ``data_home`` itself when it is that folder."""
    return dataset_folder(data_home, _spec(features).subdir)


def _load_domain(folder, domain, features="surf", preprocess="zscore", *,
                 download_if_missing=True, check_hash=True):
    """``(X, y)`` of one domain read from ``folder``: preprocessed X, labels 0..9."""
    from scipy.io import loadmat

    _check_preprocess(features, preprocess)
    spec = _spec(features)
    remote = _remote(features, _domain_code(domain))
    if not check_hash:
        remote = replace(remote, sha256=None)
    path = fetch_file(remote, folder, download_if_missing=download_if_missing)
    mat = loadmat(path)
    if spec.key not in mat or "labels" not in mat:
        raise ValueError(f"{str(path)!r} lacks the {spec.key!r}/'labels' keys.")
    X = np.asarray(mat[spec.key])
    y = np.asarray(mat["labels"]).ravel().astype(np.int64) - 1
    if X.ndim != 2 or X.shape[1] != spec.n_features or X.shape[0] != y.shape[0]:
        raise ValueError(f"Unexpected shapes in {str(path)!r}: {spec.key} {X.shape}, labels {y.shape}.")
    return _preprocess(X, preprocess, features), y


def _domain_bunch(X, y, domain, features, as_frame):
    feature_names = [f"{features}_{i}" for i in range(X.shape[1])]
    return domain_bunch(X, y, domain=domain, feature_names=feature_names, target_names=TARGET_NAMES,
                        descr=DESCR, as_frame=as_frame)


def fetch_office_caltech(domains, *, features="surf", preprocess="zscore", data_home=None,
                         download_if_missing=True, as_frame=False, return_X_y=False):
    """Load one Office-Caltech10 domain, or a (source, target) pair, downloading if needed.

    Four domains (amazon, caltech, dslr, webcam) of the same 10 object
    classes; the 12 ordered pairs are the standard tasks. Each file is
    checked against its sha256 and cached in ``data_home``. Preprocessing is
    computed on each domain on its own, never across domains.

    Parameters
    ----------
    domains : str or (str, str)
        One domain, or a ``(source, target)`` pair: ``"A"``/``"amazon"``,
        ``"C"``/``"caltech"``/``"Caltech10"``, ``"D"``/``"dslr"``,
        ``"W"``/``"webcam"`` (case-insensitive).
    features : {"surf", "decaf"}, default="surf"
        ``"surf"``: 800-d bags of SURF visual words, all four domains.
        ``"decaf"``: 4096-d DeCAF6 activations, dslr and webcam only.
    preprocess : str, default="zscore"
        For ``"surf"``: ``"none"`` (raw counts), ``"l1"`` or ``"l2"``
        (unit rows), ``"zscore"`` (L1 rows, then each column z-scored with
        the population std; the standard protocol) or ``"zscore_l2"``
        (``"zscore"`` then unit L2 rows, as the JDA/BDA code). For
        ``"decaf"``: ``"none"``, ``"l2"`` or ``"zscore"`` (columns
        z-scored, no L1 step). ``"zscore"`` is the default for both, so that
        the two feature sets get the same per-domain standardization; use
        ``"none"`` for the raw values. Constant columns become 0.
    data_home : str or path-like, default=None
        Folder holding (or to receive) ``office_caltech10_surf/`` and
        ``office_caltech10_decaf_partial/``; it may also be one of those
        folders. None reads ``SKTRANSFER_DATA_HOME``, else uses
        ``~/sktransfer_data``.
    download_if_missing : bool, default=True
        Download absent files. If False, raise an error instead.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame (columns ``surf_0`` ...
        ``surf_799`` or ``decaf_0`` ... ``decaf_4095``) and ``target`` as a
        Series (needs pandas).
    return_X_y : bool, default=False
        Return ``(X, y)``, or ``((Xs, ys), (Xt, yt))`` for a pair, instead of
        a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        For one domain, a dictionary-like object with attributes:

        data : ndarray or DataFrame of shape (n_samples, n_features)
            The preprocessed features, float64.
        target : ndarray or Series of shape (n_samples,)
            Class labels 0..9 (the files' 1..10 minus 1), int64.
        feature_names : list of str
            ``surf_0`` ... or ``decaf_0`` ....
        target_names : ndarray of shape (10,)
            The class names, in label order.
        domain : str
            ``"amazon"``, ``"caltech"``, ``"dslr"`` or ``"webcam"``.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance and citations.

        For a pair: a Bunch with ``source`` and ``target`` (Bunches as
        above), ``task`` (e.g. ``"C->A"``) and ``DESCR``.
    (X, y) or ((Xs, ys), (Xt, yt)) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` of the domain, or of each domain of the pair.

    Raises
    ------
    ValueError
        Unknown domain, features or preprocessing; DeCAF features asked for
        amazon or caltech (not publicly available from a known source); a
        file whose sha256 is wrong (``ChecksumError``).
    FileNotFoundError
        A file is absent and ``download_if_missing=False`` or the download
        failed; the message names the file, the full path to save it at and
        its URL, to copy it in by hand.

    See Also
    --------
    sktransfer.stack_domains : Turn the pair into ``X, y, sample_domain``.
    load_digits_shift : An offline digits domain-shift dataset.

    Notes
    -----
    Files and layout: ``<data_home>/office_caltech10_surf/{amazon,Caltech10,
    dslr,webcam}_SURF_L10.mat`` (keys ``fts``, ``labels``), downloaded from
    AngryCarrot/JDA at commit 12167daf; and
    ``<data_home>/office_caltech10_decaf_partial/{dslr,webcam}.mat`` (keys
    ``feas``, ``labels``), from jindongwang/transferlearning at commit
    de0cd293. No licence is stated for the data.

    References
    ----------
    .. [1] B. Gong, Y. Shi, F. Sha and K. Grauman, "Geodesic flow kernel for
       unsupervised domain adaptation", CVPR 2012.
    .. [2] K. Saenko, B. Kulis, M. Fritz and T. Darrell, "Adapting visual
       category models to new domains", ECCV 2010.

    Examples
    --------
    >>> from sktransfer import stack_domains
    >>> from sktransfer.datasets import fetch_office_caltech
    >>> (Xs, ys), (Xt, yt) = fetch_office_caltech(
    ...     ("caltech", "amazon"), return_X_y=True)  # doctest: +SKIP
    >>> Xs.shape, Xt.shape  # doctest: +SKIP
    ((1123, 800), (958, 800))
    >>> X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)  # doctest: +SKIP
    >>> X.shape, (y == -1).sum()  # doctest: +SKIP
    ((2081, 800), 958)
    """
    pair, codes = parse_domains(domains, _domain_code)
    _check_preprocess(features, preprocess)
    for code in codes:
        _remote(features, code)  # fail on unavailable DeCAF domains before any IO
    folder = _dataset_folder(data_home, features)
    loaded = [
        _load_domain(folder, code, features, preprocess, download_if_missing=download_if_missing)
        for code in codes
    ]
    bunches = [_domain_bunch(X, y, DOMAINS[c][1], features, as_frame) for (X, y), c in zip(loaded, codes)]
    return finish(bunches, pair=pair, return_X_y=return_X_y, task="->".join(codes), descr=DESCR)
