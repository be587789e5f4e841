"""Acquisition: make each dataset's raw layout exist under ``--root``, downloading what may be downloaded.

Per dataset: if the extracted layout is already there (placed by the user or extracted earlier) nothing is
fetched; otherwise the archive is found in ``--root`` or downloaded (resumable, size + sha256 verified, or
recorded in ``<root>/vpbench-hashes.lock.json`` on first use), then the needed members are extracted safely.
Login-walled data (Cityscapes, Human3.6M) and KITTI-A's list raise an error that says what to place where.
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
from data_prep.extract import extract
from data_prep.integrity import HashLock
from data_prep.layouts import kitti, kitti_a, ucf101, vimeo

LOCK_NAME = "vpbench-hashes.lock.json"


class Acquirer:
    """Shared helpers: the raw folder, its lock file, and whether downloads are allowed."""

    def __init__(self, root: Path, allow_download: bool = True, subset: bool = False) -> None:
        self.root = Path(root)
        self.allow_download = allow_download
        self.subset = subset
        self.lock = HashLock(self.root / LOCK_NAME)

    def archive(self, remote: RemoteFile, hint: str = "") -> Path:
        """The verified local copy of ``remote`` (downloaded when missing and allowed)."""
        path = self.root / remote.name
        if path.exists():
            verify_file(path, remote, self.lock)
            return path
        if remote.url is None or not self.allow_download:
            where = f" from {remote.url}" if remote.url else ""
            raise MissingInputError(f"{path} is missing: download {remote.name}{where} and place it there. {hint}".strip())
        return download(remote, path, self.lock)


def acquire_cityscapes(acq: Acquirer) -> None:
    base = acq.root / "leftImg8bit_sequence"
    if (base / "train").is_dir() and (base / "val").is_dir():
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
            f"An already extracted {base}/{{train,val}} works too."
        )
    acq.lock.check_or_record(remote.name, archive)
    extract(archive, acq.root, lambda n: n.startswith(("leftImg8bit_sequence/train/", "leftImg8bit_sequence/val/")))


def acquire_kitti(acq: Acquirer, drives_by_split: dict[str, tuple[str, ...]] | None = None) -> None:
    drives_by_split = drives_by_split or {"train": kitti.TRAIN_DRIVES, "test": kitti.TEST_DRIVES}
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
            extract(archive, acq.root, lambda n, wanted=wanted: n.startswith(wanted))


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
        extract(splits, acq.root, lambda n: n == "ucfTrainTestlist/trainlist01.txt")
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
    extract(joined, acq.root, lambda n: n.startswith("jpegs_256/"))


def acquire_davis(acq: Acquirer) -> None:
    if (acq.root / "DAVIS" / "JPEGImages" / "480p").is_dir():
        return
    archive = acq.archive(sources.DAVIS_TRAINVAL_480P)
    extract(archive, acq.root, lambda n: n.startswith("DAVIS/JPEGImages/480p/") or n == "DAVIS/ImageSets/2017/val.txt")


def acquire_vimeo(acq: Acquirer) -> None:
    if (acq.root / "vimeo_triplet" / "sequences").is_dir():
        return
    extract(acq.archive(sources.VIMEO_TRIPLET), acq.root)


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
    extract(acq.archive(sources.VIMEO_SEPTUPLET_TEST), acq.root)


def acquire_ucfsports(acq: Acquirer) -> None:
    for split, remote in sources.UCF_SPORTS_LISTS.items():
        path = acq.root / "lists" / f"{split}.txt"
        if not path.exists():
            if not acq.allow_download:
                raise MissingInputError(f"{path} is missing: download the STRPM list from {remote.url}")
            download(remote, path)
    if (acq.root / "ucf_sports_actions" / "ucf action").is_dir():
        return
    extract(acq.archive(sources.UCF_SPORTS_ZIP), acq.root)


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


def acquire(dataset: str, root: Path, allow_download: bool = True, subset: bool = False, list_path: Path | None = None) -> None:
    """Make ``dataset``'s raw layout exist under ``root`` (see the module docstring)."""
    if dataset not in ACQUIRERS:
        raise KeyError(f"unknown dataset {dataset!r}; choose from {sorted(ACQUIRERS)}")
    acq = Acquirer(root, allow_download, subset)
    acq.root.mkdir(parents=True, exist_ok=True)
    if dataset == "kitti_a":
        acquire_kitti_a(acq, list_path)
    else:
        ACQUIRERS[dataset](acq)
