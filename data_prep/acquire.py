"""Acquisition: make each dataset's raw layout exist under ``--root``, downloading what may be downloaded.

Per dataset: if the extracted layout is already there (placed by the user or extracted earlier) nothing is
fetched; otherwise the archive is found in ``--root`` or downloaded (resumable, size + sha256 verified), then
the needed members are extracted safely. Where no sha256 is published, the archive's hash is pinned in the
project's lock file (``data_prep.integrity.HashLock``, not in the raw folder) once the archive was opened and
every member read back, and later uses must match it. Login-walled data (Cityscapes, Human3.6M) and KITTI-A's
list raise an error that says what to place where. Formats the user places by hand (the authors' distributed
test sets) have no acquisition step. What each dataset fetches is its catalog module's ``acquire``
(``data_prep.catalog.<dataset>``); this module holds the shared machinery and the dispatch.
"""

from __future__ import annotations

from pathlib import Path

from data_prep.download import RemoteFile, download, verify_file
from data_prep.errors import MissingInputError
from data_prep.extract import MemberFilter, extract, verify_archive
from data_prep.integrity import HashLock
from data_prep.registry import choose_format, get_dataset


class Acquirer:
    """Shared helpers: the raw folder, the hash lock, and whether downloads are allowed."""

    def __init__(
        self, root: Path, allow_download: bool = True, subset: bool = False, lock: HashLock | None = None,
        splits: tuple[str, ...] | None = None, source: str | None = None, list_path: Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.allow_download = allow_download
        self.subset = subset
        self.lock = lock or HashLock()
        self.splits = splits  # None: every split of the dataset
        self.source = source
        self.list_path = list_path  # a user's window list (``--list``; KITTI-A)
        self._unpinned: dict[Path, tuple[RemoteFile, str]] = {}  # verified files whose hash awaits pinning

    def wants(self, split: str) -> bool:
        return self.splits is None or split in self.splits

    def _verified(self, remote: RemoteFile, path: Path) -> Path:
        digest = verify_file(path, remote, self.lock)
        if remote.sha256 is None and self.lock.recorded(remote.name) is None:
            self._unpinned[path] = (remote, digest)
        return path

    def archive(self, remote: RemoteFile, hint: str = "") -> Path:
        """The verified local copy of ``remote`` (downloaded when missing and allowed)."""
        path = self.root / remote.name
        if not path.exists():
            if remote.url is None or not self.allow_download:
                where = f" from {remote.url}" if remote.url else ""
                raise MissingInputError(f"{path} is missing: download {remote.name}{where} and place it there. {hint}".strip())
            download(remote, path, self.lock)
        return self._verified(remote, path)

    def placed(self, remote: RemoteFile, path: Path) -> Path:
        """A file placed by the user (no download): verified like a downloaded one."""
        return self._verified(remote, path)

    def extract(self, archive: Path, keep: MemberFilter = lambda name: True, parts: tuple[Path, ...] = ()) -> None:
        """Extract ``archive`` (made of ``parts`` when it was joined from pieces); pin what was unpinned.

        An unpinned archive is first opened and read back in full; only then are the hashes recorded.
        """
        sources = parts or (archive,)
        pending = [p for p in sources if p in self._unpinned]
        checked = verify_archive(archive) if pending else ""
        extract(archive, self.root, keep)
        for path in pending:
            remote, digest = self._unpinned.pop(path)
            self.lock.record(remote.name, path, digest, checked + (f" (joined as {archive.name})" if parts else ""))


def acquire(
    dataset: str, root: Path, allow_download: bool = True, subset: bool = False, list_path: Path | None = None,
    splits: tuple[str, ...] | None = None, source: str | None = None, lock: HashLock | None = None,
) -> None:
    """Make ``dataset``'s raw layout exist under ``root`` (see the module docstring).

    ``splits``: only what these splits need; ``source``: the source format (default: the one found under
    ``root``); a format that users place by hand has nothing to acquire.
    """
    spec = get_dataset(dataset)
    fmt = choose_format(spec, Path(root), source)
    if not fmt.acquirable or spec.acquire is None:
        return
    acq = Acquirer(root, allow_download, subset, lock, splits, fmt.name, list_path)
    acq.root.mkdir(parents=True, exist_ok=True)
    spec.acquire(acq)
