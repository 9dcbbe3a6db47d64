"""Download machinery shared by the dataset loaders: data folder, cached, verified files.

A loader describes each file it needs with a :class:`RemoteFile` (name, URL,
sha256) and calls :func:`fetch_file`, which returns the local copy when it is
there and intact, and otherwise downloads it (resuming a partial download),
checks its sha256 and moves it into place atomically. Without network, or with
``download_if_missing=False``, the error says which file to put where and
where to get it, so the data can be copied in by hand.

:func:`fetch_archive` does the same for a ``.tar``/``.tar.gz`` archive, then
extracts it once (refusing members that would land outside the folder).

Tests replace the module-level ``_urlopen`` to serve local bytes; nothing here
is called at import time.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = [
    "DATA_HOME_ENV",
    "ChecksumError",
    "DataFileMissingError",
    "RemoteFile",
    "fetch_archive",
    "fetch_file",
    "get_data_home",
    "sha256sum",
]

#: Environment variable naming the default data folder.
DATA_HOME_ENV = "SKTRANSFER_DATA_HOME"
_DEFAULT_HOME = Path("~") / "sktransfer_data"
_CHUNK = 1 << 16
_TIMEOUT = 60.0
# The opener; tests replace it (monkeypatch) to serve local bytes.
_urlopen = urllib.request.urlopen
# What "the server could not be reached / the transfer broke" looks like.
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)


class DataFileMissingError(FileNotFoundError):
    """A data file is absent and was not (or could not be) downloaded."""


class ChecksumError(ValueError):
    """A data file's sha256 is not the expected one."""


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file.

    Parameters
    ----------
    filename : str
        Name of the local copy, in the dataset's folder.
    url : str
        Where to download it from (``https://``, or ``file://`` in tests).
    sha256 : str or None, default=None
        Expected sha256 (hex). None skips the check.
    size : int or None, default=None
        Expected size in bytes, when known (lets a complete ``.part`` file be
        recognised without asking the server).
    """

    filename: str
    url: str
    sha256: str | None = None
    size: int | None = None


def get_data_home(data_home=None):
    """Return the folder that holds the downloaded datasets, creating it.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder. None reads the ``SKTRANSFER_DATA_HOME`` environment
        variable, and without it uses ``~/sktransfer_data``.

    Returns
    -------
    data_home : str
        The folder, with ``~`` expanded.
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or _DEFAULT_HOME
    path = Path(data_home).expanduser()
    if not path.is_dir():  # never touch an existing (maybe read-only) folder
        path.mkdir(parents=True, exist_ok=True)
    return str(path)


def sha256sum(path):
    """Return the sha256 (hex) of the file at ``path``."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _missing(remote, path, reason):
    sha = f" (sha256 {remote.sha256})" if remote.sha256 else ""
    return DataFileMissingError(
        f"Data file {remote.filename!r} is not in folder {str(path.parent)!r}: {reason}. "
        f"Download it from {remote.url} and save it as {str(path)!r}{sha}."
    )


#: files already verified in this process, keyed by path, inode, size, modification and change times and
#: expected hash: a loader called again (a benchmark reads its data once per task) does not hash hundreds of
#: MB again. The change time is in the key because a copy that keeps the size and restores the modification
#: time (``cp -p``, ``shutil.copy2``) cannot restore it: a same-size bad copy was used without a check.
_VERIFIED: set[tuple] = set()


def _check(path, remote, *, downloaded):
    if remote.sha256 is None:
        return
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, remote.sha256)
    if not downloaded and key in _VERIFIED:
        return
    got = sha256sum(path)
    if got == remote.sha256:
        if not downloaded:  # a download is renamed next, which keeps its stat but not its path
            _VERIFIED.add(key)
        return
    if downloaded:
        path.unlink()
        what = "The downloaded file was deleted; try again, or download it by hand from " + remote.url
    else:
        what = "The file is corrupted or is not the expected release; delete it to download it again"
    shown = path.with_name(remote.filename)
    raise ChecksumError(
        f"sha256 mismatch for {str(shown)!r}: expected {remote.sha256}, got {got}. {what}."
    )


def _content_range_start(headers):
    match = re.match(r"\s*bytes\s+(\d+)-", headers.get("Content-Range", "") or "")
    return int(match.group(1)) if match else None


def _download(remote, part, timeout):
    """Download ``remote`` into ``part``, resuming what ``part`` already holds."""
    start = part.stat().st_size if part.is_file() else 0
    if remote.size is not None and start >= remote.size:
        if start == remote.size:
            return  # complete; the caller checks it
        part.unlink()
        start = 0
    headers = {"User-Agent": "sktransfer"}
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = _urlopen(urllib.request.Request(remote.url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not start:  # 416: the range is past the end: start over
            raise
        part.unlink()
        return _download(remote, part, timeout)
    with response:
        status = getattr(response, "status", None) or response.getcode()
        if start and status == 206 and _content_range_start(response.headers) not in (None, start):
            part.unlink()  # a range we did not ask for: start over
            return _download(remote, part, timeout)
        # 206: the rest of the file. Anything else (200; file:// gives None) is
        # the whole file: the server ignored the range, so write from scratch.
        with open(part, "ab" if start and status == 206 else "wb") as f:
            shutil.copyfileobj(response, f, _CHUNK)


def fetch_file(remote, folder, *, download_if_missing=True, timeout=_TIMEOUT):
    """Return the local path of ``remote`` in ``folder``, downloading it if needed.

    Parameters
    ----------
    remote : RemoteFile
        The file: name, URL and expected sha256.
    folder : str or path-like
        The dataset's folder (created when a download is needed).
    download_if_missing : bool, default=True
        Download the file when it is absent. If False, raise instead.
    timeout : float, default=60
        Seconds to wait for the server.

    Returns
    -------
    path : Path
        ``folder / remote.filename``, verified.

    Raises
    ------
    DataFileMissingError
        The file is absent and ``download_if_missing=False``, or the download
        failed (no network, server unreachable, HTTP error, timeout). A
        subclass of ``FileNotFoundError``; the message names the file, the
        full path to save it at and the URL. A partial download is kept as
        ``<filename>.part`` and resumed next time.
    ChecksumError
        The local or downloaded file has another sha256 (a ``ValueError``
        subclass; the message gives both hashes). A downloaded file is
        deleted; a file that was already there is left alone.
    """
    path = Path(folder) / remote.filename
    if path.is_file():
        _check(path, remote, downloaded=False)
        return path
    if not download_if_missing:
        raise _missing(remote, path, "download_if_missing=False")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(remote.filename + ".part")
    try:
        _download(remote, part, timeout)
    except _NETWORK_ERRORS as exc:
        raise _missing(remote, path, f"downloading it failed ({exc})") from exc
    _check(part, remote, downloaded=True)
    os.replace(part, path)
    return path


def _check_member(member, archive):
    name = member.name
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
        why = "an absolute path or one that leaves the folder"
    elif not (member.isfile() or member.isdir()):
        why = "a link or special file"
    else:
        return member
    raise ValueError(f"Refusing to extract {str(archive)!r}: member {name!r} is {why}.")


def _extract(archive, folder):
    """Extract the tar ``archive`` into ``folder``, refusing unsafe members before writing any."""
    with tarfile.open(archive, "r:*") as tar:
        members = [_check_member(m, archive) for m in tar.getmembers()]
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: a second line of defence
            tar.extractall(folder, members=members, filter="data")
        else:  # pragma: no cover
            tar.extractall(folder, members=members)  # members checked above


def fetch_archive(remote, folder, *, download_if_missing=True, keep_archive=False, timeout=_TIMEOUT):
    """Download the tar archive ``remote`` into ``folder`` and extract it there, once.

    Parameters
    ----------
    remote : RemoteFile
        The archive (``.tar``, ``.tar.gz``, ``.tar.bz2`` or ``.tar.xz``).
    folder : str or path-like
        Where the archive is saved and extracted.
    download_if_missing : bool, default=True
        Download the archive when it is absent (and not yet extracted). If
        False, raise instead; an archive saved there by hand is extracted.
    keep_archive : bool, default=False
        Keep the archive after extracting it. By default it is deleted.
    timeout : float, default=60
        Seconds to wait for the server.

    Returns
    -------
    folder : Path
        The folder, holding the extracted files and a marker file
        ``<archive name>.extracted`` written once extraction succeeded (delete
        it to extract again).

    Raises
    ------
    DataFileMissingError, ChecksumError
        As :func:`fetch_file`, for the archive.
    ValueError
        A member of the archive has an absolute path, leaves the folder
        (``..``), or is a link or special file; nothing is extracted.
    """
    folder = Path(folder)
    marker = folder / (remote.filename + ".extracted")
    if marker.is_file():
        return folder
    archive = fetch_file(remote, folder, download_if_missing=download_if_missing, timeout=timeout)
    _extract(archive, folder)
    marker.write_text(f"{remote.url}\nsha256 {remote.sha256}\n")
    if not keep_archive:
        archive.unlink()
    return folder
