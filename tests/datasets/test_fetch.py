"""Tests for the shared download machinery (sktransfer.datasets._fetch); never uses the network."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.response
from email.message import Message

import pytest

from sktransfer.datasets import _fetch
from sktransfer.datasets._fetch import (
    ChecksumError,
    DataFileMissingError,
    RemoteFile,
    fetch_file,
    get_data_home,
)

CONTENT = bytes(range(256)) * 40  # 10240 bytes
URL = "https://example.invalid/data/blob.bin"


def _remote(content=CONTENT, **kw):
    return RemoteFile("blob.bin", URL, hashlib.sha256(content).hexdigest(), **kw)


class FakeOpener:
    """Serves ``content`` like an HTTP server; records each request's Range header."""

    def __init__(self, content=CONTENT, *, honour_range=True, error=None):
        self.content, self.honour_range, self.error = content, honour_range, error
        self.ranges = []

    def __call__(self, request, timeout=None):
        rng = request.get_header("Range")
        self.ranges.append(rng)
        if self.error is not None:
            raise self.error
        headers, code, body = Message(), 200, self.content
        if rng and self.honour_range:
            start = int(rng.split("=")[1].rstrip("-"))
            body, code = self.content[start:], 206
            headers["Content-Range"] = f"bytes {start}-{len(self.content) - 1}/{len(self.content)}"
        return urllib.response.addinfourl(io.BytesIO(body), headers, request.full_url, code=code)


@pytest.fixture
def opener(monkeypatch):
    fake = FakeOpener()
    monkeypatch.setattr(_fetch, "_urlopen", fake)
    return fake


def test_download_then_cached_file_is_reused(tmp_path, opener):
    path = fetch_file(_remote(), tmp_path / "ds")
    assert path == tmp_path / "ds" / "blob.bin" and path.read_bytes() == CONTENT
    assert not (tmp_path / "ds" / "blob.bin.part").exists()
    assert fetch_file(_remote(), tmp_path / "ds") == path
    assert opener.ranges == [None]  # one request, no second download


def test_file_url_with_the_real_opener(tmp_path):
    src = tmp_path / "server" / "blob.bin"
    src.parent.mkdir()
    src.write_bytes(CONTENT)
    remote = RemoteFile("blob.bin", src.as_uri(), hashlib.sha256(CONTENT).hexdigest())
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "blob.bin.part").write_bytes(CONTENT[:100])  # file:// ignores Range
    assert fetch_file(remote, tmp_path / "home").read_bytes() == CONTENT


def test_checksum_mismatch_on_download_removes_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_fetch, "_urlopen", FakeOpener(b"corrupted bytes"))
    remote = _remote()
    with pytest.raises(ChecksumError, match="sha256 mismatch") as info:
        fetch_file(remote, tmp_path)
    msg = str(info.value)
    assert "blob.bin" in msg and remote.sha256 in msg
    assert hashlib.sha256(b"corrupted bytes").hexdigest() in msg
    assert list(tmp_path.iterdir()) == []  # neither the file nor the .part is left
    assert isinstance(info.value, ValueError)


def test_checksum_mismatch_of_an_existing_file_keeps_it(tmp_path, opener):
    (tmp_path / "blob.bin").write_bytes(b"user's own bytes")
    with pytest.raises(ChecksumError, match="delete it"):
        fetch_file(_remote(), tmp_path)
    assert (tmp_path / "blob.bin").read_bytes() == b"user's own bytes"
    assert opener.ranges == []


@pytest.mark.parametrize(
    "error", [urllib.error.URLError("no route to host"), TimeoutError("timed out"),
              ConnectionResetError("reset"), urllib.error.HTTPError(URL, 404, "Not Found", None, None)],
)
def test_offline_error_names_file_folder_and_url(tmp_path, monkeypatch, error):
    monkeypatch.setattr(_fetch, "_urlopen", FakeOpener(error=error))
    with pytest.raises(DataFileMissingError) as info:
        fetch_file(_remote(), tmp_path / "ds")
    msg = str(info.value)
    assert "'blob.bin'" in msg and URL in msg
    assert str(tmp_path / "ds") in msg and str(tmp_path / "ds" / "blob.bin") in msg
    assert isinstance(info.value, FileNotFoundError)


def test_download_if_missing_false(tmp_path, opener):
    with pytest.raises(FileNotFoundError, match="download_if_missing=False") as info:
        fetch_file(_remote(), tmp_path, download_if_missing=False)
    assert URL in str(info.value) and str(tmp_path / "blob.bin") in str(info.value)
    assert opener.ranges == []


def test_resume_with_range_request(tmp_path, opener):
    (tmp_path / "blob.bin.part").write_bytes(CONTENT[:3000])
    assert fetch_file(_remote(), tmp_path).read_bytes() == CONTENT
    assert opener.ranges == ["bytes=3000-"]


def test_resume_falls_back_when_the_server_answers_200(tmp_path, monkeypatch):
    fake = FakeOpener(honour_range=False)
    monkeypatch.setattr(_fetch, "_urlopen", fake)
    (tmp_path / "blob.bin.part").write_bytes(CONTENT[:3000])
    assert fetch_file(_remote(), tmp_path).read_bytes() == CONTENT  # restarted, not appended
    assert fake.ranges == ["bytes=3000-"]


def test_resume_restarts_after_416(tmp_path, monkeypatch):
    calls = []

    def opener(request, timeout=None):
        calls.append(request.get_header("Range"))
        if request.get_header("Range"):
            raise urllib.error.HTTPError(URL, 416, "Range Not Satisfiable", None, None)
        return urllib.response.addinfourl(io.BytesIO(CONTENT), Message(), URL, code=200)

    monkeypatch.setattr(_fetch, "_urlopen", opener)
    (tmp_path / "blob.bin.part").write_bytes(b"x" * 20000)
    assert fetch_file(_remote(), tmp_path).read_bytes() == CONTENT
    assert calls == ["bytes=20000-", None]


def test_complete_part_file_with_known_size_needs_no_request(tmp_path, opener):
    (tmp_path / "blob.bin.part").write_bytes(CONTENT)
    assert fetch_file(_remote(size=len(CONTENT)), tmp_path).read_bytes() == CONTENT
    assert opener.ranges == []


def test_partial_download_is_kept_for_resume(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() >= 4096:
                raise ConnectionResetError("connection lost")
            return super().read(min(n, 4096) if n and n > 0 else 4096)

    monkeypatch.setattr(_fetch, "_urlopen", lambda request, timeout=None: urllib.response.addinfourl(
        Broken(CONTENT), Message(), URL, code=200))
    with pytest.raises(DataFileMissingError, match="connection lost"):
        fetch_file(_remote(), tmp_path)
    assert (tmp_path / "blob.bin.part").read_bytes() == CONTENT[:4096]


def test_get_data_home(tmp_path, monkeypatch):
    target = tmp_path / "from_env" / "nested"
    monkeypatch.setenv("SKTRANSFER_DATA_HOME", str(target))
    assert get_data_home() == str(target) and target.is_dir()
    monkeypatch.delenv("SKTRANSFER_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == str(tmp_path / "sktransfer_data")
    assert get_data_home(tmp_path / "explicit") == str(tmp_path / "explicit")


def test_a_verified_file_is_not_hashed_again_until_it_changes(tmp_path, monkeypatch):
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "blob.bin").write_bytes(CONTENT)
    calls = []
    real = _fetch.sha256sum
    monkeypatch.setattr(_fetch, "sha256sum", lambda p: calls.append(p) or real(p))
    fetch_file(_remote(), folder, download_if_missing=False)
    fetch_file(_remote(), folder, download_if_missing=False)
    assert len(calls) == 1
    # Same size, other bytes, a new modification time: hashed again, and the change is caught.
    import os

    corrupted = bytes(reversed(CONTENT))
    (folder / "blob.bin").write_bytes(corrupted)
    st = os.stat(folder / "blob.bin")
    os.utime(folder / "blob.bin", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        fetch_file(_remote(), folder, download_if_missing=False)
    assert len(calls) == 2


def test_a_same_size_copy_with_the_old_modification_time_is_hashed_again(tmp_path):
    """``cp -p`` or ``shutil.copy2`` of a bad file keeps the size and restores the modification time;
    it cannot restore the change time, which the verified-file key now holds (the bad copy was used)."""
    import os
    import time

    folder = tmp_path / "ds"
    folder.mkdir()
    path = folder / "blob.bin"
    path.write_bytes(CONTENT)
    fetch_file(_remote(), folder, download_if_missing=False)
    st = os.stat(path)
    time.sleep(0.01)  # a change time the kernel can tell apart
    path.write_bytes(bytes(reversed(CONTENT)))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        fetch_file(_remote(), folder, download_if_missing=False)
