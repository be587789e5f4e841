"""Protocols, training clips (determinism, augmentation), the synthetic generator and the loader benchmark."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from data_prep.augment import ClipTransform, augmented_view, draw_transform
from data_prep.datasets import TrainClips
from data_prep.catalog import kitti
from data_prep.preprocess import prepare
from data_prep.protocols import PROTOCOLS, get_protocol
from data_prep.synthetic import moving_shapes_video
from tests.data_fixtures import kitti_drive, video


def test_protocols_follow_the_paper_setups():
    assert get_protocol("cityscapes").input_indices == (2, 3) and get_protocol("cityscapes").horizon == 5
    assert (get_protocol("kitti").height, get_protocol("kitti").width) == (256, 832)
    assert get_protocol("vimeo").target_indices == (2,)
    assert get_protocol("ucfsports").horizon == 6 and get_protocol("human36m").horizon == 4
    assert get_protocol("vimeo_slow_int3").input_indices == (0, 3) and get_protocol("vimeo_slow_int3").target_indices == (6,)
    assert get_protocol("vimeo_slow_int5").routing_only and get_protocol("vimeo_slow_int5").frames_needed == 6
    for protocol in PROTOCOLS.values():
        assert protocol.height % 16 == 0 and protocol.width % 16 == 0, protocol.name
        assert protocol.channel_order == "RGB"
    with pytest.raises(KeyError, match="unknown protocol 'kitti-b'; known: "):
        get_protocol("kitti-b")


@pytest.fixture(scope="module")
def train_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw")
    # frame k of every sequence is constant k*10 + camera offset: crops of one clip must then differ by
    # exactly the frame step everywhere, which shows that one crop/augmentation serves the whole clip.
    for i, drive in enumerate(kitti.TRAIN_DRIVES[:2]):
        base = video(12, 40, 56, seed=i)
        ramp = (np.arange(12) * 10).astype(np.uint8)[:, None, None, None]
        kitti_drive(root, drive, np.minimum(base // 2 + ramp, 255).astype(np.uint8), cameras=("image_02", "image_03"))
    out = tmp_path_factory.mktemp("prep") / "kitti"
    prepare("kitti", root, out, size=(40, 56), subset=True, splits=("train",))
    return out


def test_train_clips_shape_and_determinism(train_tree):
    clips = TrainClips(train_tree, clip_length=5, crop=32, augmentation="official", seed=3)
    assert len(clips) == 2 * 2 * (12 - 8)
    first = clips[4]
    assert first.dtype == torch.uint8 and first.shape == (5, 3, 32, 32)
    assert torch.equal(first, TrainClips(train_tree, 5, 32, "official", seed=3)[4])
    clips.set_epoch(1)
    assert not torch.equal(first, clips[4])
    assert not torch.equal(first, TrainClips(train_tree, 5, 32, "official", seed=4)[4])
    assert len(TrainClips(train_tree, 3, 32, max_clips=5)) == 5


def _expected_clip(clips: TrainClips, item: int) -> tuple[np.ndarray, ClipTransform]:
    """Clip ``item`` as ``[T, H, W, 3]``, the augmentation spelled out on the stacked crops step by step, and the
    augmentation drawn for it."""
    rng = np.random.default_rng([clips.seed, clips.epoch, item])
    rows = clips.frame_rows(item, rng)
    store = clips.split.frames
    t = draw_transform(rng, int(store.height[rows[0]]), int(store.width[rows[0]]), clips.crop, clips.augmentation)
    frames = np.stack([store.crop(int(r), t.top, t.left, clips.crop, clips.crop) for r in rows])
    frames = np.rot90(frames, k=t.rotation, axes=(1, 2))
    frames = frames[..., ::-1] if t.reverse_channels else frames
    frames = frames[:, ::-1] if t.flip_vertical else frames
    return (frames[:, :, ::-1] if t.flip_horizontal else frames), t


@pytest.mark.parametrize("augmentation", ["paper", "official"])
def test_one_crop_and_one_augmentation_for_the_whole_clip(train_tree, augmentation):
    clips = TrainClips(train_tree, clip_length=9, crop=24, augmentation=augmentation, seed=0)
    drawn = set()
    for epoch in range(6):
        clips.set_epoch(epoch)
        for item in range(len(clips)):
            clip = clips[item]
            assert clip.is_contiguous() and clip.shape == (9, 3, 24, 24)
            expected, t = _expected_clip(clips, item)
            np.testing.assert_array_equal(clip.permute(0, 2, 3, 1).numpy(), expected)
            drawn |= {("rotation", t.rotation), ("channels", t.reverse_channels), ("vertical", t.flip_vertical),
                      ("horizontal", t.flip_horizontal)}
    rotations = {-1, 2, 1, 0} if augmentation == "official" else {0}
    assert {value for key, value in drawn if key == "rotation"} == rotations  # every branch was compared
    assert {("vertical", True), ("vertical", False), ("horizontal", True), ("horizontal", False)} <= drawn


def test_official_rotation_probabilities():
    rng = np.random.default_rng(0)
    draws = [draw_transform(rng, 300, 300, 256, "official") for _ in range(8000)]
    freq = {k: np.mean([d.rotation == k for d in draws]) for k in (-1, 2, 1, 0)}
    assert abs(freq[-1] - 1 / 2) < 0.02 and abs(freq[2] - 1 / 4) < 0.02
    assert abs(freq[1] - 1 / 8) < 0.015 and abs(freq[0] - 1 / 8) < 0.015
    assert abs(np.mean([d.reverse_channels for d in draws]) - 0.5) < 0.02
    paper = [draw_transform(rng, 300, 300, 224, "paper") for _ in range(200)]
    assert all(d.rotation == 0 and not d.reverse_channels for d in paper)
    with pytest.raises(ValueError, match="larger than the frames"):
        draw_transform(rng, 100, 300, 224, "paper")


def test_augmented_view_geometry():
    frames = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    out = augmented_view(frames, ClipTransform(0, 0, -1, True, False, False))
    np.testing.assert_array_equal(out, np.rot90(frames, -1, axes=(1, 2))[..., ::-1])
    assert np.shares_memory(out, frames)  # a view: the clip's tensor is the one copy
    np.testing.assert_array_equal(augmented_view(frames[0], ClipTransform(0, 0, 0, False, True, True)), frames[0, ::-1, ::-1])


def test_synthetic_video_is_deterministic_with_known_motion():
    frames, shapes = moving_shapes_video(6, 64, 80, seed=7, num_shapes=1, max_speed=2.0)
    again, _ = moving_shapes_video(6, 64, 80, seed=7, num_shapes=1, max_speed=2.0)
    assert np.array_equal(frames, again) and frames.dtype == np.uint8
    assert not np.array_equal(frames, moving_shapes_video(6, 64, 80, seed=8, num_shapes=1)[0])
    # the shape is the only moving thing: its centroid in the changed region follows the velocity
    vx, vy = shapes[0].velocity
    from data_prep.synthetic import _texture, render

    background = _texture(np.random.default_rng(0), 64, 80)
    def centroid(t):
        mask = np.abs(render(shapes, background, t).astype(int) - np.rint(background).astype(int)).sum(-1) > 30
        ys, xs = np.nonzero(mask)
        return xs.mean(), ys.mean()
    (x0, y0), (x3, y3) = centroid(0.0), centroid(3.0)
    assert abs((x3 - x0) - 3 * vx) < 0.6 and abs((y3 - y0) - 3 * vy) < 0.6


def test_loader_benchmark_times_every_recipe_on_every_codec(tmp_path):
    from vpbench.benchmarks import loader as bench_loader
    from vpbench.pipeline.config import load_config

    root = tmp_path / "raw"
    kitti_drive(root, kitti.TRAIN_DRIVES[0], video(30, 64, 96, seed=1), cameras=("image_02", "image_03"))
    trees = {}
    for codec in ("raw", "tiled-zstd"):
        prepare("kitti", root, tmp_path / f"p-{codec}", size=(64, 96), subset=True, splits=("train",), codec=codec)
        trees[codec] = tmp_path / f"p-{codec}"
    config = load_config(None)
    config["recipes"] = {"paper": {"recipe": "paper", "batch_size": 4, "crop": 32},
                         "official": {"recipe": "official", "batch_size": 2, "crop": 32, "clip_length": 9}}
    result = bench_loader.run(trees, config, seconds=0.2)
    paper, official = result["recipes"]["paper"], result["recipes"]["official"]
    assert (paper["clip_length"], paper["steps_per_batch"]) == (3, 1)
    assert (official["clip_length"], official["steps_per_batch"]) == (9, 7)
    for entry in (paper, official):
        for codec in trees:
            rate = entry["clips_per_s_per_worker"][codec]
            assert rate > 0
            needed = 20 * entry["batch_size"] / entry["steps_per_batch"]
            assert entry["workers_per_gpu"][codec]["20"] == math.ceil(needed / rate)
    assert result["codecs"]["raw"]["bytes_per_frame"] == 64 * 96 * 3
    assert 0 < result["codecs"]["tiled-zstd"]["bytes_ratio_vs_raw"] < 1.2
    for entry in (paper, official):  # what tiled-zstd costs a crop, against what the 0.5x goal allows
        ms, rates = entry["tiled_zstd_ms_per_crop"], entry["clips_per_s_per_worker"]
        assert ms["allowed_by_goal"] == pytest.approx(1e3 / (rates["raw"] * entry["clip_length"]), rel=0.02, abs=2e-3)
        over = (1 / rates["tiled-zstd"] - 1 / rates["raw"]) * 1e3 / entry["clip_length"]
        assert ms["over_raw_in_loader"] == pytest.approx(over, rel=0.02, abs=2e-3)
        assert 0 < ms["zstd_stage"] and 0 < ms["whole_read"]
    assert "tiled-zstd" in bench_loader.summary(result) and "zstd decompression" in bench_loader.summary(result)
