"""Folders written aside (a tree appears complete or not at all) and the trust-on-first-use lock file of archives."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from data_prep.errors import ChecksumError
from vpbench.utils import atomic_write, process_alive


def remove_stale_work(folder: Path, stem: str) -> list[Path]:
    """Delete ``.<stem>.<pid>.*.partial`` / ``.old`` work folders left in ``folder`` by a killed run.

    A run that is still going (its process id is alive) keeps its folder; names without a process id
    come from an older version of this code and are always stale.
    """
    pattern = re.compile(rf"^\.{re.escape(stem)}\.(?:(?P<pid>\d+)\.)?[^.]+\.(?:partial|old)$")
    removed = []
    for path in sorted(Path(folder).glob(f".{glob.escape(stem)}.*")):
        match = pattern.match(path.name)
        if match is None:
            continue
        pid = int(match["pid"]) if match["pid"] else None
        if pid is not None and pid != os.getpid() and process_alive(pid):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def work_folder(parent: Path, stem: str) -> Path:
    """A fresh hidden folder ``.<stem>.<pid>.<random>.partial`` in ``parent`` (see ``remove_stale_work``)."""
    return Path(tempfile.mkdtemp(prefix=f".{stem}.{os.getpid()}.", suffix=".partial", dir=parent))


@contextmanager
def directory_written_aside(final: Path) -> Iterator[Path]:
    """Yield a fresh sibling folder to fill; on success it replaces ``final`` in one rename.

    On any error the partial folder is deleted, so a later step never mistakes it for a finished one; what
    a killed run left behind is deleted by the next run. An existing ``final`` is moved aside first and
    deleted only after the new tree is in place.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_work(final.parent, final.name)
    work = work_folder(final.parent, final.name)
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.{os.getpid()}.replaced.old")
        os.replace(final, old)
    os.replace(work, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


LOCK_NAME = "hashes.lock.json"


def default_lock_path() -> Path:
    """The lock file lives with the project's state (``$VPBENCH_CACHE`` or ``<repo>/.cache/vpbench``), never in
    a raw folder: raw folders are only read."""
    from vpbench.assets import cache_dir

    return cache_dir() / LOCK_NAME


class HashLock:
    """sha256 of archives whose publishers give none (trust on first use).

    A hash is recorded only after its archive was opened and every member listed and read back (for a zip,
    every CRC checked): a truncated or damaged download is never pinned. Every later use must match, so a
    silently changed or corrupted copy is caught; ``forget`` un-pins one file (``vpbench prepare --forget-hash``).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_lock_path()

    def _load(self) -> dict[str, dict[str, object]]:
        if not self.path.exists():
            return {}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ChecksumError(f"{self.path} is not valid JSON ({err}); delete it to re-record the hashes") from err

    def _save(self, entries: dict[str, dict[str, object]]) -> None:
        atomic_write(self.path, json.dumps(entries, indent=2, sort_keys=True) + "\n")

    def recorded(self, name: str) -> str | None:
        entry = self._load().get(name)
        return None if entry is None else str(entry["sha256"])

    def check(self, name: str, file: Path, digest: str) -> bool:
        """True when ``name`` is pinned and ``file`` matches; False when not pinned; an error when it differs."""
        entry = self._load().get(name)
        if entry is None:
            return False
        if entry["sha256"] != digest:
            raise ChecksumError(
                f"{file}: sha256 {digest} differs from {entry['sha256']} pinned for {name!r} in {self.path} "
                f"(recorded {entry.get('recorded', 'earlier')} after that copy opened and checked out). If you trust this "
                f"file (the publisher changed it), run `vpbench prepare --forget-hash {name}` and run again; "
                "otherwise delete it and download it again."
            )
        return True

    def record(self, name: str, file: Path, digest: str, checked: str) -> None:
        """Pin ``digest`` for ``name``; ``checked`` says how the archive was shown to be whole."""
        entries = self._load()
        entries[name] = {
            "sha256": digest,
            "bytes": file.stat().st_size,
            "checked": checked,
            "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
        self._save(entries)

    def forget(self, name: str) -> str | None:
        """Un-pin ``name``; return the hash it had (None: it was not pinned)."""
        entries = self._load()
        entry = entries.pop(name, None)
        if entry is None:
            return None
        self._save(entries)
        return str(entry["sha256"])

    def names(self) -> list[str]:
        return sorted(self._load())
