"""Preprocessing: reproducible bytes, errors naming the culprit, no half-written trees, acquisition flow."""

from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np
import pytest

from data_prep.acquire import acquire
from data_prep.catalog import davis, kitti, vimeo
from data_prep.datasets import EvalWindows, open_prepared
from data_prep.download import RemoteFile
from data_prep.errors import ChecksumError, CorruptFrameError, LayoutError, MissingInputError, PreparedTreeError
from data_prep.preprocess import prepare
from tests.data_fixtures import kitti_drive, video, write_image


@pytest.fixture
def kitti_raw(tmp_path):
    root = tmp_path / "raw"
    for i, drive in enumerate(kitti.TEST_DRIVES[:2]):
        kitti_drive(root, drive, video(11, seed=i))
    return root


def tree_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_preparing_twice_gives_identical_bytes(kitti_raw, tmp_path):
    prepare("kitti", kitti_raw, tmp_path / "a", size=(32, 48), subset=True, splits=("test",))
    prepare("kitti", kitti_raw, tmp_path / "b", size=(32, 48), subset=True, splits=("test",))
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")


def test_manifest_records_counts_hashes_size_and_tools(kitti_raw, tmp_path):
    manifest = prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    on_disk = json.loads((tmp_path / "p/manifest.json").read_text())
    assert on_disk == manifest
    test = manifest["splits"]["test"]
    assert (test["sequences"], test["frames"], test["windows"]) == (2, 22, 6)  # 2 drives x (11 - 8)
    assert manifest["size_override"] == [32, 48] and manifest["subset"] and not manifest["counts_checked"]
    assert manifest["channel_order"] == "RGB" and "opencv" in manifest["tools"]
    blob = (tmp_path / "p/test/frames.bin").read_bytes()
    assert test["files"]["frames.bin"]["sha256"] == hashlib.sha256(blob).hexdigest()
    assert len(blob) == 22 * 32 * 48 * 3


def test_frames_round_trip_exactly_at_native_size(kitti_raw, tmp_path):
    prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    windows = EvalWindows(tmp_path / "p", "kitti")
    item = windows[1]
    source = video(11, seed=0)  # drive 0060, window starting at frame 1
    assert item["clip_id"] == "2011_09_26_drive_0060_sync_image_02_000001"
    np.testing.assert_array_equal(item["frames"].permute(0, 2, 3, 1).numpy(), source[1:10])


def test_resize_is_cv2_inter_linear(kitti_raw, tmp_path):
    import cv2

    prepare("kitti", kitti_raw, tmp_path / "p", size=(16, 32), subset=True, splits=("test",))
    frame = EvalWindows(tmp_path / "p", "kitti")[0]["frames"][0].permute(1, 2, 0).numpy()
    expected = cv2.resize(video(11, seed=0)[0], (32, 16), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(frame, expected)


def test_full_dataset_count_check_without_subset(kitti_raw, tmp_path):
    with pytest.raises(LayoutError, match="11 frames, the synced drive has 78"):
        prepare("kitti", kitti_raw, tmp_path / "p", splits=("test",))
    assert not (tmp_path / "p").exists()


def test_corrupt_frame_fails_naming_it_and_leaves_nothing(kitti_raw, tmp_path):
    bad = kitti_raw / "2011_09_26/2011_09_26_drive_0084_sync/image_02/data/0000000004.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(CorruptFrameError, match="0000000004.png"):
        prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    assert not (tmp_path / "p").exists()
    assert not list(tmp_path.glob(".p.*"))  # no partial folder left behind


def test_failed_rerun_keeps_the_previous_complete_tree(kitti_raw, tmp_path):
    prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    before = tree_bytes(tmp_path / "p")
    (kitti_raw / "2011_09_26/2011_09_26_drive_0060_sync/image_02/data/0000000002.png").write_bytes(b"")
    with pytest.raises(CorruptFrameError, match="empty image"):
        prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    assert tree_bytes(tmp_path / "p") == before


def test_open_prepared_rejects_missing_or_damaged_trees(kitti_raw, tmp_path):
    with pytest.raises(PreparedTreeError, match="manifest.json is missing"):
        open_prepared(tmp_path / "nothing")
    prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    with open(tmp_path / "p/test/frames.bin", "r+b") as handle:
        handle.truncate(100)
    with pytest.raises(PreparedTreeError, match="frames.bin is missing or has the wrong size"):
        open_prepared(tmp_path / "p")


def test_eval_windows_checks_dataset_and_resolution(kitti_raw, tmp_path):
    prepare("kitti", kitti_raw, tmp_path / "p", size=(32, 48), subset=True, splits=("test",))
    with pytest.raises(PreparedTreeError, match="reads prepared dataset 'davis'"):
        EvalWindows(tmp_path / "p", "davis")
    manifest = json.loads((tmp_path / "p/manifest.json").read_text())
    manifest["size_override"] = None  # as if prepared at the wrong size without saying so
    (tmp_path / "p/manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PreparedTreeError, match="needs 256x832"):
        EvalWindows(tmp_path / "p", "kitti")


def test_pinned_list_hash_is_enforced_for_full_sets(tmp_path):
    root = tmp_path / "raw"
    for k in range(12):
        write_image(root / "ucf_sports_actions/ucf action/Diving-Side/001" / f"{k:03d}.jpg", video(1, seed=k)[0])
    for split in ("train", "test"):
        (root / "lists").mkdir(parents=True, exist_ok=True)
        (root / "lists" / f"{split}.txt").write_text("x/ucf_action_images/Diving-Side/001/,1\n")
    with pytest.raises(ChecksumError, match="test.txt: sha256 differs from the published list"):
        prepare("ucfsports", root, tmp_path / "p", splits=("test",))
    prepare("ucfsports", root, tmp_path / "p", subset=True, splits=("test",), size=(32, 32))


def test_acquire_extracts_a_placed_archive_and_checks_its_hash(tmp_path, monkeypatch):
    root = tmp_path / "raw"
    root.mkdir()
    archive = root / "DAVIS-2017-trainval-480p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("DAVIS/ImageSets/2017/val.txt", "blackswan\n")
        zf.writestr("DAVIS/ImageSets/2017/train.txt", "bear\n")
        zf.writestr("DAVIS/JPEGImages/480p/blackswan/00000.jpg", b"jpg")
        zf.writestr("DAVIS/Annotations/480p/blackswan/00000.png", b"png")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    wrong = RemoteFile(archive.name, None, archive.stat().st_size, "0" * 64)
    monkeypatch.setattr(davis, "TRAINVAL_480P", wrong)
    with pytest.raises(ChecksumError, match="DAVIS-2017-trainval-480p.zip"):
        acquire("davis", root, allow_download=False)
    monkeypatch.setattr(davis, "TRAINVAL_480P", RemoteFile(archive.name, None, archive.stat().st_size, digest))
    acquire("davis", root, allow_download=False)
    assert (root / "DAVIS/JPEGImages/480p/blackswan/00000.jpg").exists()
    assert (root / "DAVIS/ImageSets/2017/val.txt").exists()
    assert not (root / "DAVIS/Annotations").exists() and not (root / "DAVIS/ImageSets/2017/train.txt").exists()


def test_acquire_downloads_a_missing_archive(tmp_path, monkeypatch):
    served = tmp_path / "mirror" / "vimeo_triplet.zip"
    served.parent.mkdir()
    with zipfile.ZipFile(served, "w") as zf:
        zf.writestr("vimeo_triplet/tri_testlist.txt", "00001/0001\n")
        zf.writestr("vimeo_triplet/sequences/00001/0001/im1.png", b"x")
    monkeypatch.setattr(vimeo, "TRIPLET_ZIP", RemoteFile("vimeo_triplet.zip", served.as_uri()))
    monkeypatch.setenv("VPBENCH_CACHE", str(tmp_path / "state"))
    root = tmp_path / "raw"
    acquire("vimeo", root)
    assert (root / "vimeo_triplet/sequences/00001/0001/im1.png").exists()
    entry = json.loads((tmp_path / "state/hashes.lock.json").read_text())["vimeo_triplet.zip"]
    assert entry["sha256"] == hashlib.sha256(served.read_bytes()).hexdigest() and "CRC" in entry["checked"]
    assert sorted(p.name for p in root.iterdir()) == ["vimeo_triplet", "vimeo_triplet.zip"]  # no lock in the raw folder


def test_login_walled_and_user_supplied_data_say_what_to_place_where(tmp_path):
    with pytest.raises(MissingInputError, match=r"csDownload.*leftImg8bit_sequence_trainvaltest.zip"):
        acquire("cityscapes", tmp_path / "city", allow_download=False)
    with pytest.raises(MissingInputError, match="licence"):
        (tmp_path / "h36m").mkdir()
        (tmp_path / "h36m/train.txt").write_text("")
        (tmp_path / "h36m/test.txt").write_text("")
        acquire("human36m", tmp_path / "h36m", allow_download=False)
    with pytest.raises(MissingInputError, match="kitti_a.txt is missing.*no public list"):
        acquire("kitti_a", tmp_path / "kitti", allow_download=False)
