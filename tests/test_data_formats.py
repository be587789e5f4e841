"""Every published source format prepares to the protocol's windows, from raw trees in their real layouts.

Each format: the prepared windows hold the right source frames at the right protocol positions, and the
manifest names the format. Layouts follow the publishers: the official DMVFN test splits
(``cityscapes/test/<n:06d>/<k:010d>.png``...), OpenSTL's and STRPM's Human3.6M lists (CRLF, blank lines),
UCF101's ``UCF-101/<Class>/<video>.avi`` with ``ucfTrainTestlist/``.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from data_prep.datasets import EvalWindows, TrainClips
from data_prep.errors import LayoutError
from data_prep.preprocess import prepare
from data_prep.store import FrameStore
from tests.data_fixtures import tree_digest, video, write_image, write_video


def frames_of(prepared, protocol, index=0):
    """RGB uint8 [T, H, W, 3] of one prepared evaluation window."""
    return EvalWindows(prepared, protocol)[index]["frames"].permute(0, 2, 3, 1).numpy()


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def numbered_clips(base, count, frames, height, width, digits=10):
    """``base/<n:06d>/<k:0{digits}d>.png`` clips as written by the official preparation scripts."""
    clips = []
    for n in range(count):
        clip = video(frames, height, width, seed=n)
        for k, image in enumerate(clip):
            write_image(base / f"{n:06d}" / f"{k:0{digits}d}.png", image)
        clips.append(clip)
    return clips


# --- the test splits distributed with the official code ---------------------------------------------------------


def test_cityscapes_distributed_test_split_needs_no_archive(tmp_path, capsys):
    from vpbench.cli import main

    root = tmp_path / "data"
    clips = numbered_clips(root / "cityscapes/test", 3, 30, 16, 32)
    before = tree_digest(root)
    out = tmp_path / "prepared"
    # at another size than the protocol's 512x1024 the authors' frames are refused, not resized
    assert main(["prepare", "cityscapes", "--root", str(root), "--out", str(out), "--no-download", "--subset"]) == 2
    err = capsys.readouterr().err
    assert "000000/0000000000.png: frames are 16x32 (HxW), the protocol needs 512x1024" in err and "--size 16x32" in err
    assert not out.exists()
    assert main(["prepare", "cityscapes", "--root", str(root), "--out", str(out), "--no-download", "--subset",
                 "--size", "16x32"]) == 0
    assert "source format dmvfn_test" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"]["format"] == "dmvfn_test" and list(manifest["splits"]) == ["test"]
    assert manifest["splits"]["test"]["frames"] == 3 * 14  # the 14 frames the official loader reads
    np.testing.assert_array_equal(frames_of(out, "cityscapes", 2), clips[2][:9])
    assert tree_digest(root) == before


def test_kitti_distributed_test_split(tmp_path):
    root = tmp_path / "data"
    clips = numbered_clips(root / "KITTI/test", 2, 9, 16, 48)
    manifest = prepare("kitti", root, tmp_path / "p", size=(16, 48), subset=True)
    assert manifest["source"]["format"] == "dmvfn_test"
    assert manifest["splits"]["test"]["windows"] == 2
    np.testing.assert_array_equal(frames_of(tmp_path / "p", "kitti", 1), clips[1])
    with pytest.raises(LayoutError, match="only the test split"):
        prepare("kitti", root, tmp_path / "q", size=(16, 48), subset=True, splits=("train",))


def test_kitti_distributed_test_split_with_a_missing_window_folder(tmp_path):
    root = tmp_path / "data"
    numbered_clips(root / "KITTI/test", 3, 9, 16, 48)
    for frame in (root / "KITTI/test/000001").iterdir():
        frame.unlink()
    (root / "KITTI/test/000001").rmdir()
    with pytest.raises(LayoutError, match=r"test/000001: frame is missing .*next found: 000002"):
        prepare("kitti", root, tmp_path / "p", size=(16, 48), subset=True)
    assert not (tmp_path / "p").exists()


def test_davis_distributed_test_set(tmp_path):
    root = tmp_path / "data"
    clips = {}
    for name in ("blackswan", "bmx-trees"):
        clips[name] = video(12, 16, 32, seed=len(name))
        for k, image in enumerate(clips[name]):
            write_image(root / "DAVIS" / name / f"{k:05d}.png", image)
    manifest = prepare("davis", root, tmp_path / "p", size=(16, 32), subset=True)
    assert manifest["source"]["format"] == "dmvfn_test"
    windows = EvalWindows(tmp_path / "p", "davis")
    assert [windows[i]["clip_id"] for i in range(len(windows))] == ["blackswan", "bmx-trees"]
    np.testing.assert_array_equal(frames_of(tmp_path / "p", "davis", 1), clips["bmx-trees"][:9])
    # without --size: the protocol's 480x864 is required
    with pytest.raises(LayoutError, match="frames are 16x32 .* needs 480x864"):
        prepare("davis", root, tmp_path / "q", subset=True)


def test_vimeo_interp_test_as_distributed_and_as_released_by_toflow(tmp_path):
    # the authors' copy: im1..im3 in target/
    authors = tmp_path / "authors"
    clip = video(3, 16, 32, seed=1)
    for k in range(3):
        write_image(authors / "vimeo_interp_test/target/00001/0625" / f"im{k + 1}.png", clip[k])
    manifest = prepare("vimeo", authors, tmp_path / "a", size=(16, 32), subset=True)
    assert manifest["source"]["format"] == "vimeo_interp_test"
    np.testing.assert_array_equal(frames_of(tmp_path / "a", "vimeo"), clip)
    # TOFlow's vimeo_interp_test.zip: im2 in target/, im1 and im3 in input/
    toflow = tmp_path / "toflow"
    write_image(toflow / "vimeo_interp_test/target/00001/0625/im2.png", clip[1])
    write_image(toflow / "vimeo_interp_test/input/00001/0625/im1.png", clip[0])
    write_image(toflow / "vimeo_interp_test/input/00001/0625/im3.png", clip[2])
    prepare("vimeo", toflow, tmp_path / "b", size=(16, 32), subset=True)
    np.testing.assert_array_equal(frames_of(tmp_path / "b", "vimeo"), clip)
    (toflow / "vimeo_interp_test/input/00001/0625/im3.png").unlink()
    with pytest.raises(Exception, match=r"target/00001/0625/im3.png is missing .*input/"):
        prepare("vimeo", toflow, tmp_path / "c", size=(16, 32), subset=True)


def test_two_formats_under_one_root_need_a_choice(tmp_path):
    root = tmp_path / "data"
    numbered_clips(root / "KITTI/test", 1, 9, 16, 48)
    for k, image in enumerate(video(10, 16, 48)):
        write_image(root / "2011_09_26/2011_09_26_drive_0060_sync/image_02/data" / f"{k:010d}.png", image)
    with pytest.raises(LayoutError, match="several kitti formats .*--source"):
        prepare("kitti", root, tmp_path / "p", size=(16, 48), subset=True, splits=("test",))
    manifest = prepare("kitti", root, tmp_path / "p", size=(16, 48), subset=True, splits=("test",), source="kitti_raw")
    assert manifest["source"]["format"] == "kitti_raw" and manifest["splits"]["test"]["windows"] == 2


# --- Human3.6M: OpenSTL (3 fields) and STRPM (4 fields) lists ---------------------------------------------------


def human_tree(root, size=32):
    """Frames every 5th index (1, 6, 11, ...) under images/, as released for STRPM / OpenSTL."""
    frames = {}
    for n, prefix in enumerate(("S1_Directions.54138969_", "S9_Walking 1.55011271_")):
        clip = video(12, size, size, seed=n)
        for k, image in enumerate(clip):
            number = 1 + 5 * k
            frames[(prefix, number)] = write_image(root / "images" / f"{prefix}{number:06d}.jpg", image)
    return frames


def test_human36m_openstl_lists_with_crlf_and_blank_lines(tmp_path):
    root = tmp_path / "human"
    frames = human_tree(root)
    (root / "train.txt").write_bytes(b"images/S1_Directions.54138969_,1,71\r\nimages/S9_Walking 1.55011271_,6,76\r\n\r\n\r\n")
    (root / "test.txt").write_bytes(b"images/S1_Directions.54138969_,21,91\r\n\r\n")
    with pytest.raises(LayoutError, match=r"frames are 32x32 \(HxW\), the protocol needs 1024x1024.*--size 32x32"):
        prepare("human36m", root, tmp_path / "p", subset=True)
    manifest = prepare("human36m", root, tmp_path / "p", subset=True, size=(32, 32))
    assert manifest["source"]["list_formats"] == {"test.txt": "openstl", "train.txt": "openstl"}
    assert manifest["size_override"] == [32, 32]
    window = frames_of(tmp_path / "p", "human36m")  # S1, begin 21: frames 21, 26, ..., 56
    expected = np.stack([read_rgb(frames[("S1_Directions.54138969_", 21 + 5 * j)]) for j in range(8)])
    np.testing.assert_array_equal(window, expected)
    assert manifest["splits"]["train"]["windows"] == 2


def test_human36m_strpm_lists_give_the_same_windows(tmp_path):
    root = tmp_path / "human"
    human_tree(root)
    (root / "train.txt").write_text("E:/datasets/human3.6m/S1/,S1_Directions.54138969_,1,71\n")
    (root / "test.txt").write_text("E:/datasets/human3.6m/S1/,S1_Directions.54138969_,21,91\n")
    strpm = prepare("human36m", root, tmp_path / "strpm", subset=True, size=(32, 32))
    assert strpm["source"]["list_formats"] == {"test.txt": "strpm", "train.txt": "strpm"}
    (root / "test.txt").write_text("images/S1_Directions.54138969_,21,91\n")
    prepare("human36m", root, tmp_path / "openstl", subset=True, size=(32, 32), splits=("test",))
    np.testing.assert_array_equal(frames_of(tmp_path / "strpm", "human36m"), frames_of(tmp_path / "openstl", "human36m"))


def test_human36m_missing_frame_and_mixed_list_are_named(tmp_path):
    root = tmp_path / "human"
    frames = human_tree(root)
    (root / "test.txt").write_text("images/S1_Directions.54138969_,21,91\n")
    frames[("S1_Directions.54138969_", 36)].unlink()
    with pytest.raises(Exception, match=r"S1_Directions.54138969_000036.jpg: frame is missing"):
        prepare("human36m", root, tmp_path / "p", subset=True, size=(32, 32), splits=("test",))
    (root / "test.txt").write_text("images/S1_Directions.54138969_,1,71\nx/,S1_Directions.54138969_,1,71\n")
    with pytest.raises(LayoutError, match=r"test.txt: mixes lines of \[3, 4\] fields"):
        prepare("human36m", root, tmp_path / "p", subset=True, size=(32, 32), splits=("test",))
    assert not (tmp_path / "p").exists()


# --- UCF101: the official .avi release decoded with PyAV, beside jpegs_256 ---------------------------------------


def ucf_lists(root, videos):
    (root / "ucfTrainTestlist").mkdir(parents=True)
    lines = [f"{v.split('_')[1]}/{v}.avi {i + 1}" for i, v in enumerate(videos)]
    (root / "ucfTrainTestlist/trainlist01.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode())


def test_ucf101_official_videos_are_decoded_with_pyav(tmp_path):
    root = tmp_path / "ucf"
    videos = ("v_ApplyEyeMakeup_g08_c01", "v_Biking_g10_c02")
    clips = {}
    for n, name in enumerate(videos):
        clips[name] = video(12 + n, 24, 32, seed=n)
        write_video(root / "UCF-101" / name.split("_")[1] / f"{name}.avi", clips[name])
    ucf_lists(root, videos)
    manifest = prepare("ucf101", root, tmp_path / "p", subset=True)
    assert manifest["source"]["format"] == "ucf101_avi" and manifest["source"]["decoder"].startswith("PyAV")
    train = manifest["splits"]["train"]
    assert (train["windows"], train["frames"]) == (2, 25)
    store = FrameStore(tmp_path / "p/train", "encoded")
    decoded = np.stack([store.frame(12 + k) for k in range(13)])  # the second video's frames, in order
    np.testing.assert_array_equal(decoded, clips["v_Biking_g10_c02"])
    assert TrainClips(tmp_path / "p", 10, 16)[1].shape == (10, 3, 16, 16)


def test_ucf101_both_sources_present_need_a_choice(tmp_path):
    root = tmp_path / "ucf"
    name = "v_Biking_g10_c02"
    clip = video(10, 24, 32)
    write_video(root / "UCF-101/Biking" / f"{name}.avi", clip)
    for k, image in enumerate(clip):
        write_image(root / "jpegs_256" / name / f"frame{k + 1:06d}.jpg", image)
    ucf_lists(root, (name,))
    with pytest.raises(LayoutError, match="several ucf101 formats .*jpegs_256, ucf101_avi"):
        prepare("ucf101", root, tmp_path / "p", subset=True)
    assert prepare("ucf101", root, tmp_path / "p", subset=True, source="jpegs_256")["source"]["format"] == "jpegs_256"
    assert prepare("ucf101", root, tmp_path / "q", subset=True, source="ucf101_avi")["source"]["format"] == "ucf101_avi"


def test_ucf101_damaged_video_is_named(tmp_path):
    root = tmp_path / "ucf"
    name = "v_Biking_g10_c02"
    (root / "UCF-101/Biking").mkdir(parents=True)
    (root / "UCF-101/Biking" / f"{name}.avi").write_bytes(b"RIFF not a video")
    ucf_lists(root, (name,))
    with pytest.raises(Exception, match=f"{name}.avi"):
        prepare("ucf101", root, tmp_path / "p", subset=True)
    assert not (tmp_path / "p").exists()
