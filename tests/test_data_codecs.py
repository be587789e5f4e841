"""Frame codecs (data_prep.codecs) and preparing on several cores: lossless round trips, crops at every tile
boundary, codec/manifest mismatches, output independent of --jobs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from data_prep.catalog import kitti
from data_prep.codecs import CODECS, TILED_ZSTD, FrameCodec, default_params
from data_prep.datasets import TrainClips, open_prepared
from data_prep.errors import PreparedTreeError
from data_prep.preprocess import prepare
from tests.conftest import offline_env
from tests.data_fixtures import kitti_drive, video
from vpbench.utils import sha256_file

TILED = FrameCodec(TILED_ZSTD, default_params(TILED_ZSTD))


def random_frame(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def natural_frame(height: int, width: int) -> np.ndarray:
    from vpbench.benchmarks.natural import natural_frame as make

    return make(1, 3, (height, width))  # filmed footage ("bikes"), mirrored tiles


def decode(codec: FrameCodec, image: np.ndarray) -> np.ndarray:
    payload = np.frombuffer(codec.encode(image), np.uint8)
    return codec.frame(payload, image.shape[0], image.shape[1], "test frame")


@pytest.mark.parametrize("shape", [(64, 64), (70, 150), (1, 1), (130, 65)])
def test_tiled_zstd_round_trips_random_frames_bit_exactly(shape):
    image = random_frame(*shape)
    assert np.array_equal(decode(TILED, image), image)


def test_tiled_zstd_round_trips_natural_frames_and_halves_them():
    image = natural_frame(256, 448)
    payload = TILED.encode(image)
    assert np.array_equal(decode(TILED, image), image)
    assert len(payload) < 0.5 * image.nbytes


def test_every_crop_across_tile_boundaries_equals_the_crop_of_the_full_frame():
    image = random_frame(200, 260, seed=1)  # not a multiple of the 64x64 tiles: padded edge tiles too
    payload = np.frombuffer(TILED.encode(image), np.uint8)
    tile_h, tile_w = TILED.tile
    tops = sorted({max(0, min(200 - 1, k * tile_h + d)) for k in range(4) for d in (-1, 0, 1)})
    lefts = sorted({max(0, min(260 - 1, k * tile_w + d)) for k in range(5) for d in (-1, 0, 1)})
    for top in tops:
        for left in lefts:
            for size in (1, tile_h - 1, tile_h + 1):
                h, w = min(size, 200 - top), min(size, 260 - left)
                crop = TILED.crop(payload, 200, 260, top, left, h, w, "test frame")
                assert np.array_equal(crop, image[top : top + h, left : left + w]), (top, left, size)


def test_crops_outside_the_frame_are_refused():
    image = random_frame(64, 64)
    with pytest.raises(ValueError, match="outside"):
        TILED.crop(np.frombuffer(TILED.encode(image), np.uint8), 64, 64, 10, 0, 60, 10, "test frame")


@pytest.fixture
def kitti_raw(tmp_path):
    root = tmp_path / "raw"
    for i, drive in enumerate(kitti.TEST_DRIVES[:2]):
        kitti_drive(root, drive, video(11, height=48, width=80, seed=i))  # 11 frames: two worker tasks a drive
    return root


def tree_digests(root):
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("codec", ["raw", TILED_ZSTD])
def test_two_jobs_write_the_same_bytes_as_one(kitti_raw, tmp_path, codec):
    one = prepare("kitti", kitti_raw, tmp_path / "one", size=(40, 72), subset=True, splits=("test",), codec=codec, jobs=1)
    two = prepare("kitti", kitti_raw, tmp_path / "two", size=(40, 72), subset=True, splits=("test",), codec=codec, jobs=2)
    assert one == two
    assert tree_digests(tmp_path / "one") == tree_digests(tmp_path / "two")
    assert not (tmp_path / "two" / ".parts").exists()


def test_codecs_store_the_same_frames_and_record_their_parameters(kitti_raw, tmp_path):
    frames = {}
    for codec in CODECS:
        manifest = prepare("kitti", kitti_raw, tmp_path / f"p-{codec}", size=(48, 80), subset=True, splits=("test",), codec=codec, jobs=1)
        info = manifest["splits"]["test"]
        assert info["codec"] == codec and info.get("codec_params", {}) == default_params(codec)
        store = open_prepared(tmp_path / f"p-{codec}").split("test").frames
        frames[codec] = [store.frame(i).copy() for i in range(len(store))]
    assert all(np.array_equal(a, b) for a, b in zip(frames["raw"], frames[TILED_ZSTD]))
    clips = TrainClips(tmp_path / f"p-{TILED_ZSTD}", 3, 32, split="test")
    assert clips[0].shape == (3, 3, 32, 32)


def _set_codec(root, codec, params):
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["splits"]["test"]["codec"] = codec
    manifest["splits"]["test"].pop("codec_params", None)
    if params is not None:
        manifest["splits"]["test"]["codec_params"] = params
    (root / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("stored", "claimed", "params", "message"),
    [
        ("raw", TILED_ZSTD, default_params(TILED_ZSTD), "does not match frames.bin"),
        (TILED_ZSTD, "raw", None, "does not match frames.bin"),
        ("raw", TILED_ZSTD, None, "needs the parameters"),
        ("raw", "lz77", None, "not one this code reads"),
    ],
)
def test_a_manifest_that_names_the_wrong_codec_fails_clearly(kitti_raw, tmp_path, stored, claimed, params, message):
    prepare("kitti", kitti_raw, tmp_path / "p", size=(48, 80), subset=True, splits=("test",), codec=stored, jobs=1)
    _set_codec(tmp_path / "p", claimed, params)
    with pytest.raises(PreparedTreeError, match=message):
        open_prepared(tmp_path / "p").split("test").frames.frame(0)


def test_trees_without_codec_parameters_still_load(kitti_raw, tmp_path):
    """Trees prepared before codecs had parameters record only the codec's name."""
    prepare("kitti", kitti_raw, tmp_path / "p", size=(48, 80), subset=True, splits=("test",), codec="encoded", jobs=1)
    store = open_prepared(tmp_path / "p").split("test").frames
    assert store.frame(0).shape == (48, 80, 3)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_corrupt_frame_fails_with_one_line_naming_it_whatever_the_jobs(kitti_raw, tmp_path, jobs):
    bad = sorted((kitti_raw).rglob("0000000009.png"))[0]
    bad.write_bytes(b"not an image")
    out = tmp_path / "p"
    proc = subprocess.run(
        [sys.executable, "-m", "vpbench", "prepare", "kitti", "--root", str(kitti_raw), "--out", str(out), "--subset", "--size", "48x80",
         "--splits", "test", "--no-download", "--jobs", jobs, "--codec", TILED_ZSTD],
        capture_output=True, text=True, env=offline_env(), timeout=120,
    )
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if "vpbench prepare" in line]
    assert errors == [f"vpbench prepare kitti: {bad}: cannot be decoded as an image; re-extract or re-download the archive"]
    assert "Traceback" not in proc.stderr and not out.exists()


def test_the_config_schema_offers_exactly_the_codecs():
    from pathlib import Path

    schema = json.loads(Path("config/schema/config.schema.json").read_text())
    dataset = schema["properties"]["datasets"]["additionalProperties"]["properties"]
    assert tuple(dataset["codec"]["enum"]) == CODECS
