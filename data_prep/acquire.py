"""Acquisition: make each dataset's raw layout exist under ``--root``, downloading what may be downloaded.

Per dataset: if the extracted layout is already there (placed by the user or extracted earlier) nothing is
fetched; otherwise the archive is found in ``--root`` or downloaded (resumable, size + sha256 verified), then
the needed members are extracted safely. Where no sha256 is published, the archive's hash is pinned in the
project's lock file (``data_prep.integrity.HashLock``, not in the raw folder) once the archive was opened and
every member read back, and later uses must match it. Login-walled data (Cityscapes, Human3.6M) and KITTI-A's
list raise an error that says what to place where. Formats the user places by hand (the authors' distributed
test sets) have no acquisition step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from data_prep import sources
from data_prep.download import RemoteFile, download, verify_file
from data_prep.errors import MissingInputError
from data_prep.extract import MemberFilter, extract, verify_archive
from data_prep.integrity import HashLock
from data_prep.layouts import kitti, kitti_a, ucf101, vimeo


class Acquirer:
    """Shared helpers: the raw folder, the hash lock, and whether downloads are allowed."""

    def __init__(
        self, root: Path, allow_download: bool = True, subset: bool = False, lock: HashLock | None = None,
        splits: tuple[str, ...] | None = None, source: str | None = None,
    ) -> None:
        self.root = Path(root)
        self.allow_download = allow_download
        self.subset = subset
        self.lock = lock or HashLock()
        self.splits = splits  # None: every split of the dataset
        self.source = source
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


def acquire_cityscapes(acq: Acquirer) -> None:
    base = acq.root / "leftImg8bit_sequence"
    needed = [raw for split, raw in (("train", "train"), ("test", "val")) if acq.wants(split)]
    if all((base / raw).is_dir() for raw in needed):
        return
    remote = sources.CITYSCAPES_SEQUENCE_ZIP
    archive = acq.root / remote.name
    if not archive.exists() and acq.allow_download and shutil.which("csDownload"):
        # cityscapesscripts asks for the account interactively (or reads its stored credentials), resumes
        # with -r and checks the server's md5 itself.
        subprocess.run(["csDownload", "-r", "-d", str(acq.root), remote.name], check=True)
    if not archive.exists():
        raise MissingInputError(
            f"{archive} is missing. Cityscapes needs an account: either `pip install cityscapesscripts` and run "
            f"`csDownload -d {acq.root} {remote.name}` (it asks for your cityscapes-dataset.com login), or "
            "download leftImg8bit_sequence_trainvaltest.zip (packageID=14, 324 GB) from "
            f"https://www.cityscapes-dataset.com/downloads/ and place it at {archive}. "
            f"An already extracted {base}/{{{','.join(needed)}}} works too, and so does the test split distributed "
            "with the official DMVFN code (<root>/cityscapes/test/<n>/, see docs/data.md)."
        )
    acq.placed(remote, archive)
    prefixes = tuple(f"leftImg8bit_sequence/{raw}/" for raw in needed)
    acq.extract(archive, lambda n: n.startswith(prefixes))


def acquire_kitti(acq: Acquirer, drives_by_split: dict[str, tuple[str, ...]] | None = None) -> None:
    drives_by_split = drives_by_split or {
        split: drives for split, drives in (("train", kitti.TRAIN_DRIVES), ("test", kitti.TEST_DRIVES)) if acq.wants(split)
    }
    for split, drives in drives_by_split.items():
        cameras = kitti.CAMERAS[split]
        for drive in drives:
            folder = kitti.drive_dir(acq.root, drive)
            if all((folder / cam / "data").is_dir() for cam in cameras):
                continue
            remote = sources.kitti_zip(drive)
            if acq.subset and not (acq.root / remote.name).exists():
                continue  # a declared subset uses the drives that are there
            archive = acq.archive(remote)
            wanted = tuple(f"{drive[:10]}/{drive}/{cam}/data/" for cam in cameras)
            acq.extract(archive, lambda n, wanted=wanted: n.startswith(wanted))


def acquire_kitti_a(acq: Acquirer, list_path: Path | None = None) -> None:
    list_path = list_path or acq.root / kitti_a.LIST_NAME
    if not list_path.is_file():
        raise MissingInputError(
            f"{list_path} is missing. KITTI-A (103 windows with a fast car) has no public list: write one window per "
            "line as '<date>_drive_<nnnn>_sync <first frame>' (9 frames of image_02 from that frame) and place it there."
        )
    drives = tuple(sorted({d for d, _ in kitti_a.parse_list(list_path)}))
    acquire_kitti(acq, {"test": drives})


def acquire_ucf101(acq: Acquirer) -> None:
    if not (acq.root / ucf101.LIST).is_file():
        splits = acq.archive(sources.UCF101_SPLITS)
        acq.extract(splits, lambda n: n == "ucfTrainTestlist/trainlist01.txt")
    if acq.source == "ucf101_avi":
        if not (acq.root / ucf101.VIDEO_ROOT).is_dir():
            raise MissingInputError(
                f"{acq.root / ucf101.VIDEO_ROOT} is missing: unpack the official UCF101.rar "
                "(https://www.crcv.ucf.edu/data/UCF101.php) there, e.g. `unrar x UCF101.rar`"
            )
        return
    if (acq.root / "jpegs_256").is_dir():
        return
    joined = acq.root / "ucf101_jpegs_256.zip"
    if not joined.exists():
        parts = [acq.archive(part) for part in sources.UCF101_JPEG_PARTS]
        tmp = joined.with_name(joined.name + ".part")
        with open(tmp, "wb") as out:  # the release is one zip split into three pieces
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, joined)
    acq.extract(joined, lambda n: n.startswith("jpegs_256/"), parts=tuple(acq.root / p.name for p in sources.UCF101_JPEG_PARTS))


def acquire_davis(acq: Acquirer) -> None:
    if (acq.root / "DAVIS" / "JPEGImages" / "480p").is_dir():
        return
    archive = acq.archive(sources.DAVIS_TRAINVAL_480P)
    acq.extract(archive, lambda n: n.startswith("DAVIS/JPEGImages/480p/") or n == "DAVIS/ImageSets/2017/val.txt")


def acquire_vimeo(acq: Acquirer) -> None:
    if (acq.root / "vimeo_triplet" / "sequences").is_dir():
        return
    acq.extract(acq.archive(sources.VIMEO_TRIPLET))


def acquire_vimeo_septuplet(acq: Acquirer) -> None:
    for remote in sources.VIMEO_MOTION_LISTS.values():
        path = acq.root / "meta_info" / remote.name
        if path.exists() and acq.subset:
            continue  # a shortened list is allowed for a declared subset
        if path.exists():
            verify_file(path, remote)
        elif acq.allow_download:
            download(remote, path)
        else:
            raise MissingInputError(f"{path} is missing: download it from {remote.url}")
    if any((acq.root / name / "sequences").is_dir() for name in vimeo.SEPTUPLET_DIRS):
        return
    acq.extract(acq.archive(sources.VIMEO_SEPTUPLET_TEST))


def acquire_ucfsports(acq: Acquirer) -> None:
    for split, remote in sources.UCF_SPORTS_LISTS.items():
        path = acq.root / "lists" / f"{split}.txt"
        if not path.exists():
            if not acq.allow_download:
                raise MissingInputError(f"{path} is missing: download the STRPM list from {remote.url}")
            download(remote, path)
    if (acq.root / "ucf_sports_actions" / "ucf action").is_dir():
        return
    acq.extract(acq.archive(sources.UCF_SPORTS_ZIP))


def acquire_human36m(acq: Acquirer) -> None:
    test_list = acq.root / "test.txt"
    if not test_list.exists() and acq.allow_download:
        download(sources.HUMAN36M_TEST_LIST, test_list)
    missing = [p for p in (acq.root / "train.txt", test_list) if not p.is_file()]
    if missing:
        raise MissingInputError(
            f"{missing[0]} is missing: place the STRPM/OpenSTL Human3.6M lists there (train.txt: OpenSTL "
            f"tools/prepare_data/meta/human/train.txt; test.txt: {sources.HUMAN36M_TEST_LIST.url})."
        )
    if not any(acq.root.glob("images/*.jpg")) and not any(acq.root.glob("S*/images/*.jpg")) and not any(acq.root.glob("S*/*.jpg")):
        raise MissingInputError(
            "Human3.6M frames are missing. They need your own Human3.6M licence (http://vision.imar.ro/human3.6m/); "
            f"place the frames named <S>_<Action>.<camera>_<frame:06d>.jpg (every 5th frame, as released for "
            f"STRPM/OpenSTL) in {acq.root / 'images'}/ (or {acq.root}/<S>/images/)."
        )


ACQUIRERS: dict[str, Callable[[Acquirer], None]] = {
    "cityscapes": acquire_cityscapes,
    "kitti": acquire_kitti,
    "kitti_a": acquire_kitti_a,
    "ucf101": acquire_ucf101,
    "davis": acquire_davis,
    "vimeo": acquire_vimeo,
    "vimeo_septuplet": acquire_vimeo_septuplet,
    "ucfsports": acquire_ucfsports,
    "human36m": acquire_human36m,
}


def acquire(
    dataset: str, root: Path, allow_download: bool = True, subset: bool = False, list_path: Path | None = None,
    splits: tuple[str, ...] | None = None, source: str | None = None, lock: HashLock | None = None,
) -> None:
    """Make ``dataset``'s raw layout exist under ``root`` (see the module docstring).

    ``splits``: only what these splits need; ``source``: the source format (default: the one found under
    ``root``); a format that users place by hand has nothing to acquire.
    """
    from data_prep.catalog import choose_format, get_dataset

    if dataset not in ACQUIRERS:
        raise KeyError(f"unknown dataset {dataset!r}; choose from {sorted(ACQUIRERS)}")
    fmt = choose_format(get_dataset(dataset), Path(root), source)
    if not fmt.acquirable:
        return
    acq = Acquirer(root, allow_download, subset, lock, splits, fmt.name)
    acq.root.mkdir(parents=True, exist_ok=True)
    if dataset == "kitti_a":
        acquire_kitti_a(acq, list_path)
    else:
        ACQUIRERS[dataset](acq)
