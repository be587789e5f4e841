"""Every published name of each release prepares to the windows the official code and the papers give.

For each dataset whose release has a published file or split list (``tests/data/releases/``, sources in its
``SOURCES.md``), a raw tree holding every name of the list in the release's own layout (names, padding, list files
byte for byte as published) is built from hard links to one tiny generated frame, planned and prepared without
``--subset`` (so the full-set count and list checks apply), and the prepared window ids are checked one to one
against the list entries. Where the full prepare of a training split would take minutes (Vimeo-90K triplets train,
Human3.6M train), the planner is checked on every name and the prepare runs on the test split.

Marked ``release`` and left out of ``make test``: ``make test-release`` runs them (9 tests, about 100 s of CPU time,
one core; about 700,000 hard links at the peak, in ``/dev/shm`` where there is one).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from data_prep.catalog import cityscapes, human36m, kitti, ucf101, vimeo
from data_prep.datasets import open_prepared
from data_prep.preprocess import check_counts, check_pinned_lists, prepare
from data_prep.registry import get_dataset

pytestmark = pytest.mark.release

RELEASES = Path(__file__).parent / "data" / "releases"
SIZE = (8, 16)  # prepared frame size: the layout and the windows are under test, not the pixels


def published(name: str) -> bytes:
    """A published list's bytes (committed gzipped when large)."""
    path = RELEASES / name
    return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()


def entries(name: str) -> list[str]:
    """The non-empty lines of a published list, stripped (CR LF too)."""
    return [line.strip() for line in published(name).decode().splitlines() if line.strip()]


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """The test's folder for its trees, removed at its end: in memory (``/dev/shm``) where there is one, since the
    trees hold up to half a million hard links and deleting those from a disk takes minutes (pytest would leave that
    to a later session)."""
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="vpbench-release-", dir=shm)) if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class Tree:
    """A raw tree whose every frame is a hard link to one tiny frame of its format (a copy where links fail)."""

    def __init__(self, root: Path) -> None:
        self.root, self.folders = root, set()
        image = np.random.default_rng(0).integers(0, 256, (*SIZE, 3), dtype=np.uint8)
        self.tiny = {suffix: root.parent / f"tiny.{suffix}" for suffix in ("png", "jpg")}
        for path in self.tiny.values():
            assert cv2.imwrite(str(path), image)

    def frame(self, relative: str) -> None:
        path = self.root / relative
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)
        source = self.tiny[path.suffix[1:]]
        try:
            os.link(source, path)
        except OSError:
            shutil.copyfile(source, path)

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def prepared_ids(out: Path, split: str) -> list[str]:
    return open_prepared(out).split(split).windows.window_id


def full_plan_checks(dataset: str, plan) -> None:
    """The checks a full (non-subset) prepare applies: published counts and pinned list hashes."""
    spec = get_dataset(dataset)
    check_pinned_lists(spec, plan)
    check_counts(spec, plan)


# --- Cityscapes: 2,975 train / 500 val snippets, each the annotated frame -19..+10 -------------------------------
_ANNOTATED = re.compile(r"^leftImg8bit/(?P<split>train|val)/(?P<city>[a-z_]+)/(?P=city)_(?P<seq>\d{6})_(?P<frame>\d{6})_leftImg8bit\.png$")


def cityscapes_tree(tree: Tree, list_name: str) -> list[tuple[str, str, int]]:
    """The snippets of every annotated frame of a split list; returns (city, seq, annotated frame) in list order."""
    annotated = []
    for line in entries(list_name):
        match = _ANNOTATED.match(line.split()[0])
        assert match, line
        city, seq, frame = match["city"], match["seq"], int(match["frame"])
        for number in range(frame - 19, frame + 11):
            tree.frame(f"leftImg8bit_sequence/{match['split']}/{city}/{city}_{seq}_{number:06d}_leftImg8bit.png")
        annotated.append((city, seq, frame))
    return annotated


def test_cityscapes_val_names_give_the_500_test_windows(scratch, capsys):
    from vpbench.cli import main

    annotated = cityscapes_tree(Tree(scratch / "raw"), "cityscapes/val.lst")
    assert len(annotated) == 500
    shared = Counter((city, seq) for city, seq, _ in annotated)
    assert sum(n for n in shared.values() if n > 1) == 267  # snippets in sequence numbers holding several
    # every snippet's 20th frame is its annotated frame
    snippets = cityscapes.snippets(scratch / "raw/leftImg8bit_sequence/val")
    assert sorted(s.frames[19].name for s in snippets) == sorted(
        f"{c}_{s}_{f:06d}_leftImg8bit.png" for c, s, f in annotated)
    out = scratch / "prepared"
    assert main(["prepare", "cityscapes", "--root", str(scratch / "raw"), "--out", str(out), "--splits", "test",
                 "--size", "8x16", "--no-download"]) == 0
    printed = capsys.readouterr().out
    assert "cityscapes/test: 500 windows, 7000 frames" in printed  # 14 frames of each snippet are kept
    # window i is the official prepare_city.py's folder i: cities, then files, in sorted order
    assert prepared_ids(out, "test") == [f"{c}_{s}_{f - 19:06d}" for c, s, f in sorted(annotated)]


def test_cityscapes_train_names_give_2975_windows(scratch):
    annotated = cityscapes_tree(Tree(scratch / "raw"), "cityscapes/train.lst.gz")
    assert len(annotated) == 2975
    assert sum(n for n in Counter((c, s) for c, s, _ in annotated).values() if n > 1) == 1098
    manifest = prepare("cityscapes", scratch / "raw", scratch / "p", size=SIZE, splits=("train",))
    assert (manifest["splits"]["train"]["windows"], manifest["splits"]["train"]["frames"]) == (2975, 89250)
    assert prepared_ids(scratch / "p", "train") == [f"{c}_{s}_{f - 19:06d}" for c, s, f in sorted(annotated)]


# --- KITTI: the FVS drive split, stride-1 windows of 9 ----------------------------------------------------------
def test_kitti_fvs_drives_give_13500_and_1337_windows(scratch):
    listed = {split: [d for line in entries(f"kitti/fvs_{split}_drives.txt") for d in line.split()] for split in ("train", "test")}
    assert (sorted(listed["train"]), sorted(listed["test"])) == (sorted(kitti.TRAIN_DRIVES), sorted(kitti.TEST_DRIVES))
    tree = Tree(scratch / "raw")
    for split, drives in listed.items():
        for drive in drives:
            for camera in kitti.CAMERAS[split]:
                for k in range(kitti.FRAMES_PER_DRIVE[drive]):
                    tree.frame(f"{drive[:10]}/{drive}/{camera}/data/{k:010d}.png")
    manifest = prepare("kitti", scratch / "raw", scratch / "p", size=SIZE)
    assert {s: manifest["splits"][s]["windows"] for s in ("train", "test")} == {"train": 13500, "test": 1337}
    for split, drives in listed.items():
        expected = {f"{d}_{cam}_{start:06d}" for d in drives for cam in kitti.CAMERAS[split]
                    for start in range(kitti.FRAMES_PER_DRIVE[d] - 8)}
        ids = prepared_ids(scratch / "p", split)
        assert len(ids) == len(expected) and set(ids) == expected


# --- Vimeo-90K: triplet lists, septuplet test list and the motion lists --------------------------------------------
def vimeo_clips(tree: Tree, folder: str, clips: list[str], frames: int) -> None:
    for clip in clips:
        for k in range(1, frames + 1):
            tree.frame(f"{folder}/sequences/{clip}/im{k}.png")


def test_vimeo_triplet_lists(scratch):
    tree = Tree(scratch / "raw")
    lists = {"train": "tri_trainlist.txt", "test": "tri_testlist.txt"}
    clips = {}
    for split, name in lists.items():
        tree.write(f"vimeo_triplet/{name}", published(f"vimeo/{name}" + (".gz" if split == "train" else "")))
        clips[split] = entries(f"vimeo/{name}" + (".gz" if split == "train" else ""))
        vimeo_clips(tree, "vimeo_triplet", clips[split], 3)
    assert (len(clips["train"]), len(clips["test"])) == (51313, 3782)
    assert not set(clips["train"]) & set(clips["test"])
    # test: the real prepare; train: every name through the planner and the full-set checks
    manifest = prepare("vimeo", scratch / "raw", scratch / "p", size=SIZE, splits=("test",))
    assert manifest["splits"]["test"]["windows"] == 3782
    assert prepared_ids(scratch / "p", "test") == [c.replace("/", "_") for c in clips["test"]]
    plan = vimeo.plan_triplets(scratch / "raw", "train")
    full_plan_checks("vimeo", plan)
    assert [w.window_id for w in plan.windows] == [c.replace("/", "_") for c in clips["train"]]


def test_vimeo_septuplet_motion_lists(scratch):
    tree = Tree(scratch / "raw")
    septuplets = entries("vimeo_septuplet/sep_testlist.txt")
    assert len(septuplets) == 7824
    tree.write("vimeo_septuplet/sep_testlist.txt", published("vimeo_septuplet/sep_testlist.txt"))
    vimeo_clips(tree, "vimeo_septuplet", septuplets, 7)
    motion = {}
    for subset in ("fast", "medium", "slow"):
        tree.write(f"meta_info/{subset}_testset.txt", published(f"vimeo_septuplet/{subset}_testset.txt"))
        motion[subset] = entries(f"vimeo_septuplet/{subset}_testset.txt")
    listed = [c for ids in motion.values() for c in ids]
    assert set(listed) <= set(septuplets) and len(set(listed)) == len(listed) == 7815  # 9 septuplets in no list
    manifest = prepare("vimeo_septuplet", scratch / "raw", scratch / "p", size=SIZE)
    assert manifest["splits"]["test"]["windows"] == 7815
    split = open_prepared(scratch / "p").split("test")
    assert split.windows.window_id == [c.replace("/", "_") for c in listed]
    assert Counter(split.windows.subset) == {s: len(ids) for s, ids in motion.items()}


# --- DAVIS 2017 val: the 30 sequences of ImageSets/2017/val.txt ------------------------------------------------------
def test_davis_2017_val_gives_30_windows(scratch):
    sequences = yaml.safe_load(published("davis/db_info.yaml"))["sequences"]
    tree = Tree(scratch / "raw")
    names = {}
    for split in ("train", "val"):  # DAVIS-2017-trainval-480p.zip holds both
        chosen = [s for s in sequences if s["set"] == split]
        for sequence in chosen:
            for k in range(sequence["num_frames"]):
                tree.frame(f"DAVIS/JPEGImages/480p/{sequence['name']}/{k:05d}.jpg")
        names[split] = [s["name"] for s in chosen]
        tree.write(f"DAVIS/ImageSets/2017/{split}.txt", "".join(f"{n}\n" for n in names[split]).encode())
    assert (len(names["train"]), len(names["val"])) == (60, 30)
    manifest = prepare("davis", scratch / "raw", scratch / "p", size=SIZE)
    assert manifest["splits"]["test"]["windows"] == 30
    assert prepared_ids(scratch / "p", "test") == names["val"]


# --- UCF101: the 9,537 training videos of split 1 -------------------------------------------------------------------
def test_ucf101_trainlist01_gives_9537_training_videos(scratch):
    tree = Tree(scratch / "raw")
    for name in ("trainlist01.txt", "classInd.txt"):
        tree.write(f"ucfTrainTestlist/{name}", published(f"ucf101/{name}"))
    classes = dict(reversed(line.split()) for line in entries("ucf101/classInd.txt"))
    lines = [line.split() for line in entries("ucf101/trainlist01.txt")]
    assert len(lines) == 9537 and len(classes) == 101
    assert all(classes[path.split("/")[0]] == label for path, label in lines)  # labels agree with classInd
    videos = [path.split("/")[1][: -len(".avi")] for path, _ in lines]
    for video in videos:
        for k in range(1, 4):  # the frame count of each jpegs_256 video is not published (and not under test): 3
            tree.frame(f"jpegs_256/{video}/frame{k:06d}.jpg")
    manifest = prepare("ucf101", scratch / "raw", scratch / "p")
    assert (manifest["splits"]["train"]["windows"], manifest["splits"]["train"]["frames"]) == (9537, 3 * 9537)
    assert prepared_ids(scratch / "p", "train") == videos
    # the official videos, UCF-101/<Class>/<video>.avi, as the list names them: every name through the planner
    for path, _ in lines:
        (scratch / "raw/UCF-101" / path).parent.mkdir(parents=True, exist_ok=True)
        (scratch / "raw/UCF-101" / path).touch()
    plan = ucf101.plan_avi(scratch / "raw", "train")
    full_plan_checks("ucf101", plan)
    assert [w.window_id for w in plan.windows] == videos


# --- UCF Sports and Human3.6M: the STRPM / OpenSTL window lists -----------------------------------------------------
def test_ucfsports_strpm_lists(scratch):
    tree = Tree(scratch / "raw")
    lines = {"train": entries("ucfsports/train.txt.gz"), "test": entries("ucfsports/test.txt")}
    assert (len(lines["train"]), len(lines["test"])) == (6288, 752)
    needed: dict[tuple[str, str], int] = {}
    for split, listed in lines.items():
        tree.write(f"lists/{split}.txt", published(f"ucfsports/{split}.txt" + (".gz" if split == "train" else "")))
        for line in listed:
            folder, start = line.rsplit(",", 1)
            action, video = folder.rstrip("/").split("/")[-2:]
            needed[action, video] = max(needed.get((action, video), 0), int(start) + 9)
    # the frames of each video: as many as its last window needs (the release's counts and names are not published)
    for (action, video), count in needed.items():
        for k in range(count):
            tree.frame(f"ucf_sports_actions/ucf action/{action}/{video}/{video}_{70000 + k}.jpg")
    manifest = prepare("ucfsports", scratch / "raw", scratch / "p", size=SIZE)
    assert {s: manifest["splits"][s]["windows"] for s in lines} == {"train": 6288, "test": 752}
    for split, listed in lines.items():
        expected, seen = [], Counter()
        for line in listed:
            folder, start = line.rsplit(",", 1)
            base = "_".join(folder.rstrip("/").split("/")[-2:]) + f"_{int(start):04d}"
            seen[base] += 1
            expected.append(base if seen[base] == 1 else f"{base}_dup{seen[base]}")
        assert prepared_ids(scratch / "p", split) == expected


def human36m_windows(listed: list[str]) -> list[tuple[str, int]]:
    """(prefix, begin) of each line of either list format."""
    result = []
    for line in listed:
        fields = line.split(",")
        prefix, begin = (fields[1], fields[2]) if len(fields) == 4 else (fields[0].split("/")[-1], fields[1])
        result.append((prefix, int(begin)))
    return result


def test_human36m_lists(scratch):
    lists = {"strpm_test": entries("human36m/strpm_test.txt.gz"), "openstl_test": entries("human36m/openstl_test.txt.gz"),
             "openstl_train": entries("human36m/openstl_train.txt.gz")}
    windows = {name: human36m_windows(listed) for name, listed in lists.items()}
    assert windows["strpm_test"] == windows["openstl_test"] and len(windows["strpm_test"]) == 8582
    assert len(windows["openstl_train"]) == 73404
    tree = Tree(scratch / "raw")
    frames = {(p, b + human36m.FRAME_STEP * j) for listed in windows.values() for p, b in listed for j in range(human36m.WINDOW)}
    for prefix, number in sorted(frames):
        tree.frame(f"images/{prefix}{number:06d}.jpg")
    # test: STRPM's list prepared; OpenSTL's test list gives the same windows
    tree.write("test.txt", published("human36m/strpm_test.txt.gz"))
    tree.write("train.txt", published("human36m/openstl_train.txt.gz"))
    manifest = prepare("human36m", scratch / "raw", scratch / "p", size=SIZE, splits=("test",))
    assert manifest["splits"]["test"]["windows"] == 8582
    assert manifest["source"]["list_formats"] == {"test.txt": "strpm"}
    expected = [f"{p.rstrip('_')}_{b:06d}" for p, b in windows["strpm_test"]]
    assert prepared_ids(scratch / "p", "test") == expected
    tree.write("test.txt", published("human36m/openstl_test.txt.gz"))
    openstl_test = human36m.plan(scratch / "raw", "test")
    full_plan_checks("human36m", openstl_test)
    assert [w.window_id for w in openstl_test.windows] == expected
    # train (73,404 windows over 392k frames): every name through the planner and the full-set checks
    plan = human36m.plan(scratch / "raw", "train")
    full_plan_checks("human36m", plan)
    assert [w.window_id for w in plan.windows] == [f"{p.rstrip('_')}_{b:06d}" for p, b in windows["openstl_train"]]
