"""Pieces shared by the dataset loaders: domain names, pairs, Bunches, ``as_frame``, JDA ``.mat`` files.

Every ``fetch_*`` loader takes one domain or a ``(source, target)`` pair and
returns a Bunch per domain (``data``, ``target``, ``feature_names``,
``target_names``, ``domain``, ``frame``, ``DESCR``), a pair Bunch
(``source``, ``target``, ``task``, ``DESCR``), or with ``return_X_y`` the
``(X, y)`` / ``((Xs, ys), (Xt, yt))`` tuples that :func:`sktransfer.stack_domains`
takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.utils import Bunch

from ._fetch import RemoteFile, fetch_file, get_data_home


def resolve_domain(domain, aliases, dataset, expected):
    """The canonical name of ``domain`` (a string, case-insensitive) in ``aliases``."""
    if not isinstance(domain, str):
        raise TypeError(f"domain must be a string, got {type(domain).__name__}")
    code = aliases.get(domain.strip().lower())
    if code is None:
        raise ValueError(f"Unknown {dataset} domain {domain!r}; expected one of {expected}.")
    return code


def parse_domains(domains, resolve):
    """``(is_pair, [resolve(d) for each domain])`` for one domain or a ``(source, target)`` pair."""
    pair = not isinstance(domains, str)
    if pair and (not isinstance(domains, (tuple, list)) or len(domains) != 2):
        raise ValueError(f"domains must be one domain or a (source, target) pair, got {domains!r}.")
    names = list(domains) if pair else [domains]
    return pair, [resolve(d) for d in names]


def dataset_folder(data_home, subdir):
    """``<data_home>/<subdir>``, or ``data_home`` itself when it is that folder."""
    home = Path(get_data_home(data_home))
    return home if home.name == subdir else home / subdir


def domain_bunch(X, y, *, domain, feature_names, target_names, descr, as_frame, **extra):
    """The Bunch of one domain; ``as_frame`` makes ``data`` a DataFrame (sparse if X is sparse)."""
    bunch = Bunch(data=X, target=y, feature_names=feature_names, target_names=np.array(target_names),
                  domain=domain, frame=None, DESCR=descr, **extra)
    if as_frame:
        import pandas as pd

        if sparse.issparse(X):
            bunch.data = pd.DataFrame.sparse.from_spmatrix(X, columns=feature_names)
        else:
            bunch.data = pd.DataFrame(X, columns=feature_names)
        bunch.target = pd.Series(y, name="target")
        bunch.frame = pd.concat([bunch.data, bunch.target], axis=1)
    return bunch


def finish(bunches, *, pair, return_X_y, task, descr):
    """What a loader returns: a Bunch, a pair Bunch, ``(X, y)`` or ``((Xs, ys), (Xt, yt))``."""
    if return_X_y:
        pairs = [(b.data, b.target) for b in bunches]
        return tuple(pairs) if pair else pairs[0]
    if not pair:
        return bunches[0]
    return Bunch(source=bunches[0], target=bunches[1], task=task, DESCR=descr)


# --------------------------------------------------------------------------- JDA release files

#: The pinned commit of AngryCarrot/JDA holding byte-identical copies of the JDA release files
#: (MNIST/USPS, COIL20) and of Gong's Office-Caltech10 SURF files.
JDA_BASE_URL = ("https://raw.githubusercontent.com/AngryCarrot/JDA/"
                "12167daf32b01a07b85fdfa3db57a42b3be7eefe/data/")


@dataclass(frozen=True)
class JDAFile:
    """A ``.mat`` file of Long et al.'s JDA data release holding two domains.

    ``X_src``/``X_tar`` are (n_features, n_samples): columns are samples.
    ``Y_src``/``Y_tar`` hold labels 1..K, returned as 0..K-1.
    """

    dataset: str  # name in error messages
    remote: RemoteFile
    subdir: str
    n_features: int
    parts: dict  # canonical domain name -> "src" or "tar"
    aliases: dict  # lower-case alias -> canonical domain name
    codes: dict  # canonical domain name -> short code used in ``task``
    target_names: tuple
    feature_prefix: str
    descr: str


def _read_jda(spec, path):
    from scipy.io import loadmat

    mat = loadmat(path)
    out = {}
    for part in ("src", "tar"):
        if f"X_{part}" not in mat or f"Y_{part}" not in mat:
            raise ValueError(f"{str(path)!r} lacks the 'X_{part}'/'Y_{part}' keys.")
        X = np.ascontiguousarray(np.asarray(mat[f"X_{part}"], dtype=np.float64).T)
        y = np.asarray(mat[f"Y_{part}"]).ravel().astype(np.int64) - 1
        if X.ndim != 2 or X.shape != (y.shape[0], spec.n_features):
            raise ValueError(f"Unexpected shapes in {str(path)!r}: X_{part} {X.T.shape}, Y_{part} {y.shape}.")
        out[part] = (X, y)
    return out


def fetch_jda(spec, domains, *, data_home, download_if_missing, as_frame, return_X_y):
    """The body of a loader of JDA-release files (see :class:`JDAFile`)."""
    expected = ", ".join(repr(d) for d in spec.parts)
    pair, names = parse_domains(
        domains, lambda d: resolve_domain(d, spec.aliases, spec.dataset, expected)
    )
    folder = dataset_folder(data_home, spec.subdir)
    parts = _read_jda(spec, fetch_file(spec.remote, folder, download_if_missing=download_if_missing))
    feature_names = [f"{spec.feature_prefix}_{i}" for i in range(spec.n_features)]
    bunches = [
        domain_bunch(*parts[spec.parts[name]], domain=name, feature_names=feature_names,
                     target_names=spec.target_names, descr=spec.descr, as_frame=as_frame)
        for name in names
    ]
    task = "->".join(spec.codes[name] for name in names)
    return finish(bunches, pair=pair, return_X_y=return_X_y, task=task, descr=spec.descr)
