"""Hashes, atomic writes and the trust-on-first-use lock file of downloaded archives."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data_prep.errors import ChecksumError
from vpbench.assets import sha256_file  # one implementation for every hash the harness checks


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def directory_written_aside(final: Path) -> Iterator[Path]:
    """Yield a fresh sibling folder to fill; on success it replaces ``final`` in one rename.

    On any error the partial folder is deleted, so a later step never mistakes it for a finished one.
    An existing ``final`` is moved aside first and deleted only after the new tree is in place.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.{os.getpid()}.old")
        os.replace(final, old)
    os.replace(work, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class HashLock:
    """``<raw>/vpbench-hashes.lock.json``: sha256 of archives whose publishers give none.

    The first download that passes the size check records its hash; every later use must match it
    (trust on first use), so a silently changed or corrupted mirror is caught.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, dict[str, object]]:
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ChecksumError(f"{self.path} is not valid JSON ({err}); delete it to re-record the hashes") from err

    def recorded(self, name: str) -> str | None:
        entry = self._load().get(name)
        return None if entry is None else str(entry["sha256"])

    def check_or_record(self, name: str, file: Path, digest: str | None = None) -> str:
        """Compare ``file`` with the locked hash of ``name``; record it when there is none yet."""
        digest = digest or sha256_file(file)
        entries = self._load()
        if name in entries:
            locked = entries[name]["sha256"]
            if locked != digest:
                raise ChecksumError(
                    f"{file}: sha256 {digest} differs from {locked} recorded for {name!r} in {self.path} "
                    "on its first download. Delete the file and download it again; if the publisher really "
                    f"changed it, remove the {name!r} entry from the lock file."
                )
            return digest
        entries[name] = {"sha256": digest, "bytes": file.stat().st_size}
        write_text_atomic(self.path, json.dumps(entries, indent=2, sort_keys=True) + "\n")
        return digest
