"""The smoke builder writes every dataset's real raw layout, and the real preparation runs on it."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from data_prep import smoke
from data_prep.datasets import EvalWindows, TrainClips
from data_prep.preprocess import prepare
from data_prep.protocols import PROTOCOLS
from tests.data_fixtures import video


def prepare_all(roots, out):
    for name, size in smoke.SMOKE_SIZES.items():
        prepare(name, roots[name], out / name, size=size, subset=True)


def check_protocols(prepared):
    for protocol in PROTOCOLS.values():
        windows = EvalWindows(prepared / protocol.dataset, protocol)
        assert len(windows) >= 1, protocol.name
        height, width = smoke.SMOKE_SIZES[protocol.dataset]
        assert windows[0]["frames"].shape == (protocol.frames_needed, 3, height, width), protocol.name


def test_smoke_sizes_suit_dmvfn_and_ms_ssim():
    for name, (height, width) in smoke.SMOKE_SIZES.items():
        assert height % 16 == 0 and width % 16 == 0 and min(height, width) >= 176, name
    assert set(smoke.SMOKE_ROOTS) == set(smoke.SMOKE_SIZES)


def test_builders_write_layouts_the_real_preparation_reads(tmp_path):
    # synthetic stand-ins for the decoded clips keep this test fast; the real clips are used in the slow test
    clips = smoke.Clips({name: video(40, 72, 128, seed=i) for i, name in enumerate(("bigbuckbunny", "bikes", "carphone_pristine"))})
    for name, build in smoke.BUILDERS.items():
        build(tmp_path / "raw" / name, clips)
    roots = {name: tmp_path / "raw" / folder for name, folder in smoke.SMOKE_ROOTS.items()}
    assert (roots["kitti"] / "2011_09_26/2011_09_26_drive_0060_sync/image_02/data/0000000000.png").is_file()
    assert (roots["cityscapes"] / "leftImg8bit_sequence/val/frankfurt/frankfurt_000000_000019_leftImg8bit.png").is_file()
    prepare_all(roots, tmp_path / "prepared")
    check_protocols(tmp_path / "prepared")
    manifest = json.loads((tmp_path / "prepared/vimeo_septuplet/manifest.json").read_text())
    assert manifest["splits"]["test"]["subsets"] == {"fast": 2, "medium": 1, "slow": 2}
    human = json.loads((tmp_path / "prepared/human36m/manifest.json").read_text())
    assert human["source"]["list_formats"] == {"test.txt": "strpm", "train.txt": "openstl"}
    assert TrainClips(tmp_path / "prepared/ucf101", 10, 128)[0].shape == (10, 3, 128, 128)


@pytest.mark.slow
def test_smoke_data_from_the_real_clips_is_cached(tmp_path, smoke_data):
    raw = tmp_path / "raw"
    shutil.copytree(smoke_data.raw, raw)  # a copy, times kept: a rebuild here leaves the session's trees alone
    stamp = (raw / smoke.SMOKE_STAMP).stat().st_mtime_ns
    assert smoke.build_smoke_data(raw) == {name: raw / folder for name, folder in smoke.SMOKE_ROOTS.items()}
    assert (raw / smoke.SMOKE_STAMP).stat().st_mtime_ns == stamp  # reused, not rebuilt
    check_protocols(smoke_data.prepared)  # the pipeline's preparation of every dataset from the real clips
    frames = EvalWindows(smoke_data.prepared / "kitti", "kitti")[0]["frames"].float()
    assert float(frames.std()) > 10 and not np.allclose(frames[4], frames[3])  # real, moving content


def test_cli_prepare_reports_bad_input(tmp_path, capsys):
    from vpbench.cli import main

    assert main(["prepare", "davis", "--root", str(tmp_path / "none"), "--out", str(tmp_path / "out"), "--no-download"]) == 2
    assert "DAVIS-2017-trainval-480p.zip is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # a bad --size is argparse's usage error
        main(["prepare", "davis", "--root", str(tmp_path), "--out", str(tmp_path / "out"), "--size", "176"])
    assert exit_.value.code == 2
    assert "size must be HEIGHTxWIDTH" in capsys.readouterr().err
