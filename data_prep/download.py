"""HTTP(S)/file downloads with resume (HTTP Range) and size + sha256 verification.

A download goes to ``<dest>.part``; an interrupted one resumes from the bytes already there. Only a
file whose size and hash check out is renamed to ``dest``, so ``dest`` existing means "verified".
"""

from __future__ import annotations

import http.client
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from data_prep.errors import ChecksumError, MissingInputError, TruncatedDownloadError
from data_prep.integrity import HashLock
from vpbench.utils import sha256_file

CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: where it lives and what it must look like once here."""

    name: str  # file name under the raw folder
    url: str | None  # None: login-walled or user-supplied (no URL to fetch from)
    size: int | None = None  # bytes, when published
    sha256: str | None = None  # when published; otherwise pinned once the archive checked out (HashLock)
    md5: str | None = None  # informative (Cityscapes publishes md5 behind its login)


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def _open(url: str, start: int, timeout: float) -> tuple[object, int | None, bool]:
    """Open ``url`` at byte ``start``; returns (response, total size or None, whether it resumed)."""
    request = urllib.request.Request(url, headers={"User-Agent": "vpbench-data-prep"})
    if start > 0:
        request.add_header("Range", f"bytes={start}-")
    response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - URLs come from the catalog
    status = getattr(response, "status", None)
    resumed = start > 0 and status == 206
    length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
    total = None
    if resumed:
        content_range = response.headers.get("Content-Range", "")  # "bytes 100-999/1000"
        if "/" in content_range and not content_range.endswith("*"):
            total = int(content_range.rsplit("/", 1)[1])
    elif length is not None:
        total = int(length)
    return response, total, resumed


def verify_file(path: Path, remote: RemoteFile, lock: HashLock | None = None) -> str:
    """Check ``path`` against ``remote``'s size and hash (or the lock file's); return its sha256."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        kind = TruncatedDownloadError if size < remote.size else ChecksumError
        raise kind(
            f"{path}: {size:,} bytes, expected {remote.size:,} for {remote.name}. "
            "Delete it and download again (or re-run to resume a .part file)."
        )
    digest = sha256_file(path)
    if remote.sha256 is not None and digest != remote.sha256:
        raise ChecksumError(
            f"{path}: sha256 {digest} does not match the published {remote.sha256} of {remote.name}. "
            "The file is corrupt or a different version: delete it and download again."
        )
    if remote.sha256 is None and lock is not None:
        lock.check(remote.name, path, digest)  # recording waits until the archive was shown to be whole
    return digest


def download(remote: RemoteFile, dest: Path, lock: HashLock | None = None, timeout: float = 60.0) -> Path:
    """Fetch ``remote`` to ``dest`` (resuming a ``.part`` file), verify it, and return ``dest``."""
    dest = Path(dest)
    if dest.exists():
        verify_file(dest, remote, lock)
        return dest
    if remote.url is None:
        raise MissingInputError(f"{dest} is missing and {remote.name} has no public URL; place it there by hand.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(dest)
    start = part.stat().st_size if part.exists() else 0
    if remote.size is not None and start > remote.size:
        part.unlink()  # longer than the real file: cannot be a prefix of it
        start = 0
    try:
        response, total, resumed = _open(remote.url, start, timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and remote.size is not None and start == remote.size:
            response, total, resumed = None, remote.size, True  # already complete
        else:
            raise MissingInputError(f"downloading {remote.url} failed: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise MissingInputError(
            f"cannot reach {remote.url} ({err}). Check the connection, or place {remote.name} at {dest} by hand."
        ) from err
    if response is not None:
        mode = "ab" if resumed else "wb"  # server ignored Range: start over
        done = start if resumed else 0
        expected = remote.size or total
        try:
            with response, open(part, mode) as out, tqdm(
                total=expected, initial=done, unit="B", unit_scale=True, desc=remote.name, leave=False
            ) as bar:
                shutil.copyfileobj(_Progress(response, bar), out, CHUNK)
        except (http.client.IncompleteRead, ConnectionError, TimeoutError) as err:
            # keep the bytes that arrived: the next run resumes from them
            raise TruncatedDownloadError(
                f"{remote.url}: the connection broke after {part.stat().st_size:,} bytes ({err}); {part} is kept, "
                "run the same command again to resume."
            ) from err
    got = part.stat().st_size
    expected = remote.size if remote.size is not None else total
    if expected is not None and got < expected:
        raise TruncatedDownloadError(
            f"{remote.url}: the transfer stopped after {got:,} of {expected:,} bytes; {part} is kept, "
            "run the same command again to resume."
        )
    try:
        digest = verify_file(part, RemoteFile(remote.name, remote.url, expected, remote.sha256))
    except ChecksumError:
        part.unlink(missing_ok=True)  # a complete but wrong file cannot be resumed into a right one
        raise
    if remote.sha256 is None and lock is not None:
        try:
            lock.check(remote.name, part, digest)
        except ChecksumError as err:
            part.unlink(missing_ok=True)
            raise ChecksumError(
                f"{remote.url}: the downloaded file's sha256 {digest} differs from {lock.recorded(remote.name)} pinned "
                f"for {remote.name} in {lock.path}, and was deleted. If the publisher changed the file, run "
                f"`vpbench prepare --forget-hash {remote.name}` and run again; otherwise the mirror serves a damaged copy."
            ) from err
    os.replace(part, dest)
    return dest


class _Progress:
    """File-like wrapper that advances a progress bar as bytes are read."""

    def __init__(self, raw: object, bar: tqdm) -> None:
        self.raw, self.bar = raw, bar

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)  # type: ignore[attr-defined]
        self.bar.update(len(data))
        return data

