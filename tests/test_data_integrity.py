"""No silent gaps, trust on first use done right, nothing left half-written.

Every bad case exits non-zero naming the culprit, writes no prepared tree, and leaves the raw folder
byte-identical (a digest of the whole raw tree before and after).
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import cv2
import pytest

from data_prep.catalog import kitti, ucfsports
from data_prep.download import RemoteFile
from tests.data_fixtures import kitti_drive, tree_digest, video, write_image


@pytest.fixture(autouse=True)
def project_state(tmp_path, monkeypatch):
    """The hash lock lives in the project's state folder: a private one per test."""
    monkeypatch.setenv("VPBENCH_CACHE", str(tmp_path / "state"))
    return tmp_path / "state"


def run_cli(*args):
    from vpbench.cli import main

    return main(["prepare", *map(str, args)])


def refused(capsys, tmp_path, root, dataset, *extra, expect):
    """Run ``prepare`` on a bad tree: exit 2, message naming the culprit, no output, raw tree untouched."""
    before = tree_digest(root)
    out = tmp_path / "out"
    assert run_cli(dataset, "--root", root, "--out", out, "--no-download", *extra) == 2
    err = capsys.readouterr().err
    assert expect in err, err
    assert not out.exists() and not list(out.parent.glob(".out.*"))
    assert tree_digest(root) == before


# --- frame numbering: the first missing frame is named ------------------------------------------------------------


def davis_tree(root, frames=10, size=(16, 32)):
    (root / "DAVIS/ImageSets/2017").mkdir(parents=True)
    (root / "DAVIS/ImageSets/2017/val.txt").write_text("blackswan\r\ncows\r\n\r\n")
    for name in ("blackswan", "cows"):
        for k, image in enumerate(video(frames, *size, seed=len(name))):
            write_image(root / "DAVIS/JPEGImages/480p" / name / f"{k:05d}.jpg", image)


def test_davis_gap_in_the_first_frames_is_named(tmp_path, capsys):
    root = tmp_path / "raw"
    davis_tree(root)
    (root / "DAVIS/JPEGImages/480p/cows/00003.jpg").unlink()
    refused(capsys, tmp_path, root, "davis", "--subset", "--size", "16x32",
            expect="cows/00003.jpg: frame is missing (DAVIS sequence cows; re-extract the DAVIS archive; after 00002.jpg")


def test_davis_sequence_must_start_at_its_first_frame(tmp_path, capsys):
    root = tmp_path / "raw"
    davis_tree(root)
    (root / "DAVIS/JPEGImages/480p/blackswan/00000.jpg").unlink()
    refused(capsys, tmp_path, root, "davis", "--subset", "--size", "16x32", expect="blackswan/00000.jpg: frame is missing")


def test_ucf101_jpegs_gap_is_named(tmp_path, capsys):
    root = tmp_path / "raw"
    (root / "ucfTrainTestlist").mkdir(parents=True)
    (root / "ucfTrainTestlist/trainlist01.txt").write_text("Biking/v_Biking_g01_c01.avi 11\n")
    for k in (1, 2, 3, 5, 6):
        write_image(root / "jpegs_256/v_Biking_g01_c01" / f"frame{k:06d}.jpg", video(1, 16, 16, seed=k)[0])
    refused(capsys, tmp_path, root, "ucf101", "--subset", expect="v_Biking_g01_c01/frame000004.jpg: frame is missing")


def test_ucfsports_gap_is_named(tmp_path, capsys):
    root = tmp_path / "raw"
    folder = root / "ucf_sports_actions/ucf action/Diving-Side/001"
    for k in range(14):
        if k != 7:
            write_image(folder / f"2538-5_{70133 + k}.jpg", video(1, 16, 16, seed=k)[0])
    (root / "lists").mkdir()
    for split in ("train", "test"):
        (root / "lists" / f"{split}.txt").write_text("E:/datasets/UCF-sport/ucf_sports_actions/ucf_action_images/Diving-Side/001/,1\r\n")
    refused(capsys, tmp_path, root, "ucfsports", "--subset", "--size", "16x16", "--splits", "test",
            expect="001/2538-5_70140.jpg: frame is missing")


def test_cityscapes_gap_inside_a_snippet_is_named(tmp_path, capsys):
    root = tmp_path / "raw"
    for k in range(30):
        if k != 5:
            write_image(root / "leftImg8bit_sequence/val/lindau" / f"lindau_000000_{k:06d}_leftImg8bit.png", video(1, 8, 16)[0])
    refused(capsys, tmp_path, root, "cityscapes", "--subset", "--size", "8x16", "--splits", "test",
            expect="lindau_000000_000005_leftImg8bit.png: frame is missing")


# --- sizes, empty splits, short sequences -------------------------------------------------------------------------


def test_one_frame_of_another_size_is_named_not_resized(tmp_path, capsys):
    root = tmp_path / "raw"
    davis_tree(root)
    write_image(root / "DAVIS/JPEGImages/480p/cows/00004.jpg", video(1, 16, 48)[0])
    refused(capsys, tmp_path, root, "davis", "--subset", "--size", "16x32",
            expect="cows/00004.jpg: frame is 16x48 (HxW), the other frames of its sequence are 16x32")


def test_a_split_without_windows_is_an_error(tmp_path, capsys):
    root = tmp_path / "raw"
    root.mkdir()
    (root / "README").write_text("no drives here\n")
    refused(capsys, tmp_path, root, "kitti", "--subset", "--size", "16x48", "--splits", "test",
            expect="kitti test: no window could be formed")


def test_dropped_short_sequences_are_counted_and_printed(tmp_path, capsys):
    root = tmp_path / "raw"
    kitti_drive(root, kitti.TEST_DRIVES[0], video(11, 16, 48))
    kitti_drive(root, kitti.TEST_DRIVES[1], video(5, 16, 48, seed=1))  # shorter than one 9-frame window
    out = tmp_path / "out"
    assert run_cli("kitti", "--root", root, "--out", out, "--no-download", "--subset", "--size", "16x48", "--splits", "test") == 0
    printed = capsys.readouterr().out
    assert "kitti/test: 1 sequence(s) shorter than one window dropped: 2011_09_26_drive_0084_sync_image_02" in printed
    split = json.loads((out / "manifest.json").read_text())["splits"]["test"]
    assert split["dropped_sequences"] == {"count": 1, "names": ["2011_09_26_drive_0084_sync_image_02"]}
    assert (split["sequences"], split["windows"]) == (1, 3)


# --- Cityscapes test needs only val/ ------------------------------------------------------------------------------


def test_cityscapes_test_split_needs_only_val(tmp_path, capsys):
    root = tmp_path / "raw"
    for k in range(30):
        write_image(root / "leftImg8bit_sequence/val/lindau" / f"lindau_000000_{k:06d}_leftImg8bit.png", video(1, 8, 16)[0])
    out = tmp_path / "out"
    assert run_cli("cityscapes", "--root", root, "--out", out, "--no-download", "--subset", "--size", "8x16", "--splits", "test") == 0
    assert json.loads((out / "manifest.json").read_text())["splits"]["test"]["windows"] == 1


# --- interrupted runs leave no litter -----------------------------------------------------------------------------


def test_work_folders_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    from data_prep.preprocess import prepare

    root = tmp_path / "raw"
    kitti_drive(root, kitti.TEST_DRIVES[0], video(10, 16, 48))
    dead = tmp_path / ".out.999999999.k2j4h5.partial"  # a pid that cannot be running
    legacy = tmp_path / ".out.a8f3k2lq.partial"  # the name an older version gave its work folder
    alive = tmp_path / f".out.{os.getppid()}.zz99zz.partial"  # a run that is still going keeps its folder
    for folder in (dead, legacy, alive):
        (folder / "test").mkdir(parents=True)
        (folder / "test/frames.bin").write_bytes(b"half")
    prepare("kitti", root, tmp_path / "out", size=(16, 48), subset=True, splits=("test",))
    assert not dead.exists() and not legacy.exists() and alive.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["manifest.json", "test"]


def test_killed_extraction_staging_is_removed(tmp_path):
    from data_prep.extract import extract

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x/y.txt", "y")
    target = tmp_path / "raw"
    (target / ".a.zip.999999999.q1w2e3.partial/x").mkdir(parents=True)
    extract(archive, target)
    assert sorted(p.name for p in target.iterdir()) == ["x"]


# --- trust on first use -------------------------------------------------------------------------------------------


def zip_bytes(tmp_path, members):
    path = tmp_path / "build.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = path.read_bytes()
    path.unlink()
    return data


def ucfsports_archive(tmp_path):
    members = {}
    for k in range(12):
        ok, png = cv2.imencode(".png", video(1, 16, 16, seed=k)[0])
        members[f"ucf_sports_actions/ucf action/Diving-Side/001/2538-5_{70133 + k}.png"] = png.tobytes()
    return zip_bytes(tmp_path, members)


@pytest.fixture
def ucfsports_raw(tmp_path, monkeypatch):
    """A raw folder with the STRPM lists and the (unhashed) UCF Sports zip placed by the user."""
    root = tmp_path / "raw"
    (root / "lists").mkdir(parents=True)
    for split in ("train", "test"):
        (root / "lists" / f"{split}.txt").write_text("E:/x/ucf_action_images/Diving-Side/001/,1\n")
    monkeypatch.setattr(ucfsports, "ZIP", RemoteFile("ucf_sports_actions.zip", None))
    return root


def test_truncated_archive_is_not_pinned_and_the_error_says_so(tmp_path, ucfsports_raw, project_state, capsys):
    good = ucfsports_archive(tmp_path)
    (ucfsports_raw / "ucf_sports_actions.zip").write_bytes(good[: len(good) // 2])
    refused(capsys, tmp_path, ucfsports_raw, "ucfsports", "--subset", "--size", "16x16", "--splits", "test",
            expect="ucf_sports_actions.zip is neither a zip nor a tar archive")
    assert not (project_state / "hashes.lock.json").exists()
    # the complete file is then accepted: nothing wrong was pinned
    (ucfsports_raw / "ucf_sports_actions.zip").write_bytes(good)
    assert run_cli("ucfsports", "--root", ucfsports_raw, "--out", tmp_path / "out", "--no-download", "--subset",
                   "--size", "16x16", "--splits", "test") == 0
    lock = json.loads((project_state / "hashes.lock.json").read_text())
    assert "every CRC checked" in lock["ucf_sports_actions.zip"]["checked"]
    assert not (ucfsports_raw / "vpbench-hashes.lock.json").exists()


def test_archive_with_a_bad_crc_is_not_pinned(tmp_path, ucfsports_raw, project_state, capsys):
    data = bytearray(ucfsports_archive(tmp_path))
    first = data.index(b"\x89PNG")  # stored (not compressed): flip a byte inside the first member
    data[first + 40] ^= 0xFF
    (ucfsports_raw / "ucf_sports_actions.zip").write_bytes(bytes(data))
    refused(capsys, tmp_path, ucfsports_raw, "ucfsports", "--subset", "--size", "16x16", "--splits", "test",
            expect="fails its CRC check")
    assert not (project_state / "hashes.lock.json").exists()


def test_pinned_hash_mismatch_and_forget_hash(tmp_path, ucfsports_raw, project_state, capsys):
    archive = ucfsports_raw / "ucf_sports_actions.zip"
    archive.write_bytes(ucfsports_archive(tmp_path))
    args = ("ucfsports", "--root", ucfsports_raw, "--out", tmp_path / "out", "--no-download", "--subset", "--size", "16x16",
            "--splits", "test")
    assert run_cli(*args) == 0
    pinned = json.loads((project_state / "hashes.lock.json").read_text())["ucf_sports_actions.zip"]["sha256"]
    # another copy (say, the publisher's new version) in a fresh raw folder is refused with the way out
    shutil.rmtree(ucfsports_raw / "ucf_sports_actions")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("ucf_sports_actions/README.txt", "new")
    assert run_cli(*args) == 2
    err = capsys.readouterr().err
    assert f"differs from {pinned} pinned for 'ucf_sports_actions.zip'" in err
    assert "vpbench prepare --forget-hash ucf_sports_actions.zip" in err
    assert run_cli("--forget-hash", archive) == 0
    assert "un-pinned ucf_sports_actions.zip" in capsys.readouterr().out
    assert run_cli(*args) == 0  # checked again and re-pinned
    assert json.loads((project_state / "hashes.lock.json").read_text())["ucf_sports_actions.zip"]["sha256"] != pinned
    assert run_cli("--forget-hash", "nothing.zip") == 1
    assert "nothing.zip is not pinned" in capsys.readouterr().err
