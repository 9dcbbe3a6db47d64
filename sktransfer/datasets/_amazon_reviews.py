"""Amazon reviews loader: the 5000-d bag-of-n-grams sentiment data of the DANN experiments."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._bunch import dataset_folder, domain_bunch, finish, parse_domains, resolve_domain
from ._fetch import RemoteFile, fetch_file

__all__ = ["fetch_amazon_reviews"]

DOMAINS = ("books", "dvd", "electronics", "kitchen")
_ALIASES = {**{d: d for d in DOMAINS}, "b": "books", "d": "dvd", "e": "electronics", "k": "kitchen"}
SPLITS = ("train", "test", "all")
N_FEATURES = 5000
TARGET_NAMES = ("negative", "positive")
SUBDIR = "amazon_reviews_dann_5000"
BASE_URL = ("https://raw.githubusercontent.com/GRAAL-Research/domain_adversarial_neural_network/"
            "74eec5e0ae06bd6614bce048abba492c16a633e3/data/")
#: sha256 of each file (SOURCES.md section 3 of the shared data folder).
SHA256 = {
    "books_train.svmlight": "317f9a2ec34b81de770b63a84d8c5cc2dc16bd0be6e079d2ff5b5bad5213ea19",
    "books_test.svmlight": "fe4605c7dcf0e0a9410fd2a32f247caaf9abb352cc6e4c3e0f400853163ad9c4",
    "dvd_train.svmlight": "95f602aa08bf6b55758f7b0b18df3882fe30acb11987ee60b6b4bb3c44cba733",
    "dvd_test.svmlight": "4fe1b1a15010f78d8d0c49fe362d35fd4677463a45f1ac02a9f410ae1e638060",
    "electronics_train.svmlight": "7d0061f03ff3827e4f8036b051b5e5828fddc0cd115aa5b212cd28d624dc14e4",
    "electronics_test.svmlight": "641783bc941839c3a111d3488a1b7e3bd820a61ec14a129e7429b47703aa961d",
    "kitchen_train.svmlight": "a70b5ebfe1413e0e16280360905f5c3b64389c435cd20c0165dc9d7f293b31b5",
    "kitchen_test.svmlight": "e1502b97a824eb12314be4447394fa736fecb781c0724e6529cd6733ac7ff6d8",
}

DESCR = """\
Amazon reviews (Blitzer et al. 2007), DANN 5000-d version
---------------------------------------------------------

Product reviews from four Amazon categories (books, dvd, electronics, kitchen), labelled negative
(0) or positive (1), from the Multi-Domain Sentiment Dataset of Blitzer, Dredze and Pereira (ACL
2007), in the preprocessing of Chen et al. (mSDA, ICML 2012): counts of the 5000 most frequent
unigrams and bigrams (sparse, the vocabulary is not released). Rows: 2000 train reviews per domain
(1000 per class); test reviews: books 4465, dvd 3586, electronics 5681, kitchen 5945.

Files ``<domain>_{train,test}.svmlight`` from GRAAL-Research/domain_adversarial_neural_network
@74eec5e0 (``data/``), the copy used by Ganin et al. (DANN, JMLR 2016, Section 5.1, Table 1);
that repository's BSD-style licence covers it. Labels -1/+1 become 0/1.

Protocol of DANN (``experiments_amazon.py``): for a task S->T, train on the labelled ``S`` train
split and the unlabelled ``T`` train split (2000 + 2000 rows), and report the accuracy on the ``T``
test split. DANN holds out the last 10% of the source rows for early stopping. Cite Blitzer,
Dredze and Pereira, "Biographies, Bollywood, Boom-boxes and Blenders: Domain Adaptation for
Sentiment Classification", ACL 2007, and Ganin et al., "Domain-Adversarial Training of Neural
Networks", JMLR 17(59), 2016.
"""


def _domain(domain):
    return resolve_domain(domain, _ALIASES, "Amazon reviews", ", ".join(repr(d) for d in DOMAINS))


def _read(folder, domain, split, download_if_missing):
    from sklearn.datasets import load_svmlight_file

    name = f"{domain}_{split}.svmlight"
    path = fetch_file(RemoteFile(name, BASE_URL + name, SHA256[name]), folder,
                      download_if_missing=download_if_missing)
    X, y = load_svmlight_file(str(path), n_features=N_FEATURES, zero_based=True)
    if not np.isin(y, (-1, 1)).all():
        raise ValueError(f"{str(path)!r} holds labels other than -1 and +1: {np.unique(y)}.")
    return X.tocsr(), (y > 0).astype(np.int64)


def _load(folder, domain, split, download_if_missing):
    splits = ("train", "test") if split == "all" else (split,)
    parts = [_read(folder, domain, s, download_if_missing) for s in splits]
    return sparse.vstack([X for X, _ in parts], format="csr"), np.concatenate([y for _, y in parts])


def fetch_amazon_reviews(domains, *, split="train", data_home=None, download_if_missing=True,
                         as_frame=False, return_X_y=False):
    """Load one Amazon reviews domain (DANN 5000-d features), or a (source, target) pair.

    Sentiment (negative 0 / positive 1) of product reviews in four domains,
    books, dvd, electronics and kitchen, described by the counts of 5000
    unigrams and bigrams, as a sparse CSR matrix. Each file is checked
    against its sha256 and cached in ``data_home``.

    Parameters
    ----------
    domains : str or (str, str)
        One domain, or a ``(source, target)`` pair: ``"books"``/``"B"``,
        ``"dvd"``/``"D"``, ``"electronics"``/``"E"``, ``"kitchen"``/``"K"``
        (case-insensitive).
    split : {"train", "test", "all"}, default="train"
        ``"train"``: the 2000 reviews per domain used for training (source
        labelled, target unlabelled); ``"test"``: the 3586 to 5945 held-out
        reviews on which DANN reports its target accuracy; ``"all"``: the
        train rows then the test rows. The same split is read for both
        domains of a pair.
    data_home : str or path-like, default=None
        Folder holding (or to receive) ``amazon_reviews_dann_5000/``; it may
        also be that folder itself. None reads ``SKTRANSFER_DATA_HOME``, else
        uses ``~/sktransfer_data``.
    download_if_missing : bool, default=True
        Download absent files. If False, raise an error instead.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame with sparse columns
        (``pd.DataFrame.sparse.from_spmatrix``, columns ``ngram_0`` ...
        ``ngram_4999``) and ``target`` as a Series (needs pandas).
    return_X_y : bool, default=False
        Return ``(X, y)``, or ``((Xs, ys), (Xt, yt))`` for a pair, instead of
        a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        For one domain, a dictionary-like object with attributes:

        data : scipy.sparse.csr_matrix or DataFrame of shape (n_samples, 5000)
            N-gram counts, float64.
        target : ndarray or Series of shape (n_samples,)
            0 (negative, the files' -1) or 1 (positive, +1), int64.
        feature_names : list of str
            ``ngram_0`` ... ``ngram_4999`` (the vocabulary is not released).
        target_names : ndarray of shape (2,)
            ``"negative"``, ``"positive"``.
        domain : str
            ``"books"``, ``"dvd"``, ``"electronics"`` or ``"kitchen"``.
        split : str
            The ``split`` read.
        frame : DataFrame or None
            ``data`` with a ``target`` column when ``as_frame=True``.
        DESCR : str
            Description, provenance, protocol and citations.

        For a pair: a Bunch with ``source`` and ``target`` (Bunches as
        above), ``task`` (e.g. ``"B->K"``) and ``DESCR``.
    (X, y) or ((Xs, ys), (Xt, yt)) : tuple if ``return_X_y`` is True
        ``data`` and ``target`` of the domain, or of each domain of the pair.

    Raises
    ------
    ValueError
        Unknown domain or split, or a file whose sha256 is wrong
        (``ChecksumError``).
    FileNotFoundError
        A file is absent and ``download_if_missing=False`` or the download
        failed; the message names the file, the path to save it at and its
        URL, to copy it in by hand.

    See Also
    --------
    sktransfer.stack_domains : Turn the pair into ``X, y, sample_domain``.

    Notes
    -----
    The DANN protocol for a task S->T: fit on the ``"train"`` split of S
    (labelled) and of T (labels hidden), score on the ``"test"`` split of T,
    as in the example below. Files and layout:
    ``<data_home>/amazon_reviews_dann_5000/<domain>_{train,test}.svmlight``
    (0-based indices), downloaded from GRAAL-Research/
    domain_adversarial_neural_network at commit 74eec5e0.

    References
    ----------
    .. [1] J. Blitzer, M. Dredze and F. Pereira, "Biographies, Bollywood,
       boom-boxes and blenders: domain adaptation for sentiment
       classification", ACL 2007.
    .. [2] Y. Ganin, E. Ustinova, H. Ajakan, P. Germain, H. Larochelle,
       F. Laviolette, M. Marchand and V. Lempitsky, "Domain-adversarial
       training of neural networks", JMLR 17(59), 2016.

    Examples
    --------
    >>> from sktransfer import stack_domains
    >>> from sktransfer.datasets import fetch_amazon_reviews
    >>> (Xs, ys), (Xt, _) = fetch_amazon_reviews(
    ...     ("books", "kitchen"), return_X_y=True)  # doctest: +SKIP
    >>> X_test, y_test = fetch_amazon_reviews(
    ...     "kitchen", split="test", return_X_y=True)  # doctest: +SKIP
    >>> Xs.shape, Xt.shape, X_test.shape  # doctest: +SKIP
    ((2000, 5000), (2000, 5000), (5945, 5000))
    >>> X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)  # doctest: +SKIP
    >>> X.format, X.shape  # doctest: +SKIP
    ('csr', (4000, 5000))
    """
    pair, names = parse_domains(domains, _domain)
    if split not in SPLITS:
        raise ValueError(f"Unknown split {split!r}; expected one of {SPLITS}.")
    folder = dataset_folder(data_home, SUBDIR)
    feature_names = [f"ngram_{i}" for i in range(N_FEATURES)]
    bunches = [
        domain_bunch(*_load(folder, name, split, download_if_missing), domain=name,
                     feature_names=feature_names, target_names=TARGET_NAMES, descr=DESCR,
                     as_frame=as_frame, split=split)
        for name in names
    ]
    task = "->".join(name[0].upper() for name in names)
    return finish(bunches, pair=pair, return_X_y=return_X_y, task=task, descr=DESCR)
