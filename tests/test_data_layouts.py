"""Layout parsing and the published counts, on mimicked trees (0-byte files where only listing matters)."""

from __future__ import annotations

import pytest

from data_prep.catalog import cityscapes, davis, human36m, kitti, kitti_a, ucf101, ucfsports, vimeo, vimeo_septuplet
from data_prep.errors import CountMismatchError, LayoutError, MissingInputError
from data_prep.layout import SplitPlan, WindowSpec
from data_prep.preprocess import check_counts
from data_prep.registry import get_dataset
from tests.data_fixtures import touch


def fake_plan(split: str, windows: int, subsets: dict[str, int] | None = None) -> SplitPlan:
    labels = [label for label, n in (subsets or {}).items() for _ in range(n)] or [""] * windows
    return SplitPlan(split, [], [WindowSpec(str(i), "s", 0, 1, label) for i, label in enumerate(labels)])


def kitti_tree(root, drives, cameras, frames_per_drive):
    for drive in drives:
        for cam in cameras:
            for k in range(frames_per_drive[drive]):
                touch(root / drive[:10] / drive / cam / "data" / f"{k:010d}.png")


def test_kitti_test_split_has_1337_windows(tmp_path):
    kitti_tree(tmp_path, kitti.TEST_DRIVES, ("image_02",), kitti.FRAMES_PER_DRIVE)
    plan = kitti.plan(tmp_path, "test")
    assert len(plan.windows) == 1337
    check_counts(get_dataset("kitti"), plan)
    first = plan.windows[0]
    assert (first.sequence, first.start, first.num_frames) == ("2011_09_26_drive_0060_sync_image_02", 0, 9)


def test_kitti_train_split_has_13500_windows(tmp_path):
    kitti_tree(tmp_path, kitti.TRAIN_DRIVES, ("image_02", "image_03"), kitti.FRAMES_PER_DRIVE)
    plan = kitti.plan(tmp_path, "train")
    assert len(plan.sequences) == 48
    assert len(plan.windows) == 13500


def test_kitti_missing_frame_and_short_drive_are_named(tmp_path):
    kitti_tree(tmp_path, kitti.TEST_DRIVES, ("image_02",), kitti.FRAMES_PER_DRIVE)
    gap = tmp_path / "2011_09_26/2011_09_26_drive_0084_sync/image_02/data/0000000005.png"
    gap.unlink()
    with pytest.raises(LayoutError, match="0000000005"):
        kitti.plan(tmp_path, "test")
    for k in range(5, 383):  # now a consistent but short drive
        (gap.parent / f"{k:010d}.png").unlink(missing_ok=True)
    with pytest.raises(LayoutError, match="5 frames, the synced drive has 383"):
        kitti.plan(tmp_path, "test")
    with pytest.raises(MissingInputError, match="drive_0060_sync.*image_02"):
        kitti.plan(tmp_path / "empty", "test")


def city_frames(root, split, city, seq, first, count):
    for k in range(count):
        touch(root / "leftImg8bit_sequence" / split / city / f"{city}_{seq:06d}_{first + k:06d}_leftImg8bit.png")


def test_cityscapes_snippets_and_counts(tmp_path):
    for city, seq, first in (("frankfurt", 0, 19), ("frankfurt", 1, 400), ("lindau", 0, 3)):
        city_frames(tmp_path, "val", city, seq, first, 30)
    plan = cityscapes.plan(tmp_path, "test")
    assert [s.name for s in plan.sequences] == ["frankfurt_000000_000019", "frankfurt_000001_000400", "lindau_000000_000003"]
    assert all(len(s.frames) == cityscapes.TEST_FRAMES for s in plan.sequences)
    spec = get_dataset("cityscapes")
    check_counts(spec, fake_plan("train", 2975))
    check_counts(spec, fake_plan("test", 500))
    with pytest.raises(CountMismatchError, match="2,974 windows.*2,975.*--subset"):
        check_counts(spec, fake_plan("train", 2974))


def test_cityscapes_several_snippets_in_one_sequence(tmp_path):
    # as released: frankfurt_000000 holds the snippets of the annotated frames 000294 and 000576 (each -19..+10);
    # a run of 60 consecutive frames is two adjacent snippets, cut in order
    city_frames(tmp_path, "train", "bochum", 0, 576 - 19, 30)
    city_frames(tmp_path, "train", "bochum", 0, 294 - 19, 30)
    city_frames(tmp_path, "train", "bochum", 1, 0, 60)
    plan = cityscapes.plan(tmp_path, "train")
    assert [s.name for s in plan.sequences] == [
        "bochum_000000_000275", "bochum_000000_000557", "bochum_000001_000000", "bochum_000001_000030"]
    assert [w.window_id for w in plan.windows] == [s.name for s in plan.sequences]
    assert [(s.frames[0].name, s.frames[-1].name) for s in plan.sequences][3] == (
        "bochum_000001_000030_leftImg8bit.png", "bochum_000001_000059_leftImg8bit.png")
    assert all(len(s.frames) == 30 for s in plan.sequences)


def test_cityscapes_short_run_names_the_missing_frame_and_snippet(tmp_path):
    city_frames(tmp_path, "train", "aachen", 0, 0, 29)
    with pytest.raises(LayoutError, match=r"aachen_000000_000029_leftImg8bit.png: frame is missing \(Cityscapes snippet "
                       r"aachen_000000_000000 has 29 consecutive frames"):
        cityscapes.plan(tmp_path, "train")
    # a run of 45: the second snippet of the run is short
    city_frames(tmp_path, "val", "lindau", 3, 100, 45)
    with pytest.raises(LayoutError, match=r"val/lindau/lindau_000003_000145_leftImg8bit.png: frame is missing "
                       r"\(Cityscapes snippet lindau_000003_000130 has 15"):
        cityscapes.plan(tmp_path, "test")


def test_davis_val_list_and_30_videos(tmp_path):
    names = [f"seq-{i}" for i in range(30)]
    (tmp_path / "DAVIS/ImageSets/2017").mkdir(parents=True)
    (tmp_path / "DAVIS/ImageSets/2017/val.txt").write_text("\n".join(names) + "\n")
    for name in names:
        for k in range(12):
            touch(tmp_path / "DAVIS/JPEGImages/480p" / name / f"{k:05d}.jpg")
    plan = davis.plan(tmp_path)
    check_counts(get_dataset("davis"), plan)
    assert len(plan.windows) == 30 and all(len(s.frames) == 9 for s in plan.sequences)
    assert plan.sequences[0].frames[-1].name == "00008.jpg"
    (tmp_path / "DAVIS/ImageSets/2017/val.txt").write_text("a b\n")
    with pytest.raises(LayoutError, match="val.txt:1"):
        davis.plan(tmp_path)


def test_vimeo_triplet_lists_and_counts(tmp_path):
    base = tmp_path / "vimeo_triplet"
    base.mkdir()
    (base / "tri_testlist.txt").write_text("00001/0001\n00001/0002\n\n")
    for clip in ("00001/0001", "00001/0002"):
        for k in (1, 2, 3):
            touch(base / "sequences" / clip / f"im{k}.png")
    plan = vimeo.plan_triplets(tmp_path, "test")
    assert [w.window_id for w in plan.windows] == ["00001_0001", "00001_0002"]
    check_counts(get_dataset("vimeo"), fake_plan("test", 3782))
    check_counts(get_dataset("vimeo"), fake_plan("train", 51313))
    with pytest.raises(CountMismatchError):
        check_counts(get_dataset("vimeo"), fake_plan("test", 3781))
    (base / "sequences/00001/0002/im3.png").unlink()
    with pytest.raises(MissingInputError, match="00001/0002/im3.png"):
        vimeo.plan_triplets(tmp_path, "test")
    (base / "tri_testlist.txt").write_text("00001-0001\n")
    with pytest.raises(LayoutError, match="tri_testlist.txt:1"):
        vimeo.plan_triplets(tmp_path, "test")


def test_vimeo_septuplet_motion_subsets(tmp_path):
    lists = {"fast": ["00001/0001"], "medium": ["00001/0002", "00002/0001"], "slow": ["00003/0001 7 (256,448,3)"]}
    for subset, ids in lists.items():
        touch(tmp_path / "meta_info" / f"{subset}_testset.txt").write_text("\n".join(ids))
        for clip in ids:
            for k in range(1, 8):
                touch(tmp_path / "vimeo_test_clean/sequences" / clip.split()[0] / f"im{k}.png")
    plan = vimeo_septuplet.plan_septuplets(tmp_path)
    assert [w.subset for w in plan.windows] == ["fast", "medium", "medium", "slow"]
    spec = get_dataset("vimeo_septuplet")
    check_counts(spec, fake_plan("test", 7815, {"fast": 1225, "medium": 4977, "slow": 1613}))
    with pytest.raises(CountMismatchError, match="fast list has 1224"):
        check_counts(spec, fake_plan("test", 7815, {"fast": 1224, "medium": 4978, "slow": 1613}))


def test_ucf101_trainlist(tmp_path):
    touch(tmp_path / ucf101.LIST).write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nBiking/v_Biking_g01_c01.avi 11\n")
    for video in ("v_ApplyEyeMakeup_g08_c01", "v_Biking_g01_c01"):
        for k in (1, 2, 3):
            touch(tmp_path / "jpegs_256" / video / f"frame{k:06d}.jpg")
    plan = ucf101.plan(tmp_path)
    assert plan.max_temporal_stride == 5
    assert [p.name for p in plan.sequences[0].frames] == ["frame000001.jpg", "frame000002.jpg", "frame000003.jpg"]
    check_counts(get_dataset("ucf101"), fake_plan("train", 9537))
    (tmp_path / ucf101.LIST).write_text("Biking/v_Biking_g01_c01 11\n")
    with pytest.raises(LayoutError, match="trainlist01.txt:1"):
        ucf101.plan(tmp_path)


def test_ucfsports_strpm_lists(tmp_path):
    for k in range(12):
        touch(tmp_path / "ucf_sports_actions/ucf action/Diving-Side/001" / f"2538-5_{70133 + k}.jpg")
    prefix = "E:/datasets/UCF-sport/ucf_sports_actions/ucf_action_images"
    touch(tmp_path / "lists/test.txt").write_text(f"{prefix}/Diving-Side/001/,3\n{prefix}/Diving-Side/001/,3\n")
    plan = ucfsports.plan(tmp_path, "test")
    assert [(w.window_id, w.start, w.num_frames) for w in plan.windows] == [
        ("Diving-Side_001_0003", 2, 10), ("Diving-Side_001_0003_dup2", 2, 10)]
    check_counts(get_dataset("ucfsports"), fake_plan("test", 752))
    (tmp_path / "lists/test.txt").write_text(f"{prefix}/Diving-Side/001/,4\n")
    with pytest.raises(LayoutError, match="frames 4..13 do not exist"):
        ucfsports.plan(tmp_path, "test")
    (tmp_path / "lists/test.txt").write_text(f"{prefix}/Diving-Side/001/;4\n")
    with pytest.raises(LayoutError, match="test.txt:1"):
        ucfsports.plan(tmp_path, "test")


def test_human36m_windows_are_contiguous_runs(tmp_path):
    prefix = "S1_Walking.54138969_"
    for k in range(1, 200, 5):
        touch(tmp_path / "images" / f"{prefix}{k:06d}.jpg")
    touch(tmp_path / "test.txt").write_text(
        f"E:/h36m/S1/,{prefix},26,96\nE:/h36m/S1/,{prefix},1,71\nE:/h36m/S1/,{prefix},101,171\n"
    )
    plan = human36m.plan(tmp_path, "test")
    assert len(plan.sequences) == 1  # overlapping windows share stored frames
    frames = plan.sequences[0].frames
    for window, begin in zip(plan.windows, (26, 1, 101)):
        numbers = [int(p.stem[-6:]) for p in frames[window.start : window.start + window.num_frames]]
        assert numbers == [begin + 5 * j for j in range(8)]
    check_counts(get_dataset("human36m"), fake_plan("test", 8582))
    (tmp_path / "test.txt").write_text(f"E:/h36m/S1/,{prefix},26\n")
    with pytest.raises(LayoutError, match="test.txt:1"):
        human36m.plan(tmp_path, "test")
    (tmp_path / "test.txt").write_text("E:/h36m/S9/,S9_Eating.1_,26,96\n")
    with pytest.raises(MissingInputError, match="S9_Eating.1_"):
        human36m.plan(tmp_path, "test")


def test_kitti_a_user_list(tmp_path):
    drive = kitti.TEST_DRIVES[1]
    kitti_tree(tmp_path, (drive,), ("image_02",), {drive: 20})
    touch(tmp_path / "kitti_a.txt").write_text(f"# fast cars\n{drive} 0\n{drive} 11\n")
    plan = kitti_a.plan(tmp_path)
    assert [w.start for w in plan.windows] == [0, 11]
    check_counts(get_dataset("kitti_a"), fake_plan("test", 103))
    (tmp_path / "kitti_a.txt").write_text(f"{drive} 12\n")
    with pytest.raises(LayoutError, match="runs past"):
        kitti_a.plan(tmp_path)
    (tmp_path / "kitti_a.txt").write_text("drive_0001 12\n")
    with pytest.raises(LayoutError, match="kitti_a.txt:1"):
        kitti_a.plan(tmp_path)
