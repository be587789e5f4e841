"""The cases of "no number silently wrong, no finished run lost", each as it was found: every one ends in a one-line
message naming the culprit, or in the right number. (tests/test_fuzz.py generates many more of each kind.)"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import struct
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from data_prep.errors import LayoutError, UnsafeArchiveError
from data_prep.extract import verify_archive
from data_prep.frames import decode_frame
from models.base import Prediction, VideoPredictor
from models.contract import FrameContractError
from tests.test_bad_inputs import EXPECT, assert_one_line, run_cli, whole_scores
from tests.test_train_support import tiny_spec
from vpbench.evaluation.rollout import FrameSelection, MethodContractError, RowLabels, evaluate_windows
from vpbench.evaluation.scores import ScoreFileError, read_scores, write_scores
from vpbench.outputs import OutputBusy, lock_path_of, output_lock
from vpbench.training.checkpoints import load_training_checkpoint

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# ----------------------------------------------------------------------------------------------- silently wrong
def test_a_clip_missing_from_every_seed_is_refused(tmp_path):
    """The file is consistent with itself (every seed lacks the same clip); the recorded list of asked-for clips
    is what tells. Filtered with pyarrow the list survives; rewritten with pandas it is gone: refused either way."""
    path = write_scores(whole_scores(), tmp_path / "whole.parquet", expected_clips=["c0", "c1"])
    table = pq.read_table(path)
    pq.write_table(table.filter(pq.ParquetFile(path).read().column("clip_id").to_numpy() != "c1"), tmp_path / "kept.parquet")
    with pytest.raises(ScoreFileError) as caught:
        read_scores(tmp_path / "kept.parquet", EXPECT)
    assert "kept.parquet: clip 'c1' (1 of the 2 clips its evaluation was asked for) has no score rows" in str(caught.value)

    frame = pd.read_parquet(path)
    frame[frame.clip_id != "c1"].to_parquet(tmp_path / "pandas.parquet", index=False)
    with pytest.raises(ScoreFileError, match="pandas.parquet: does not record which clips"):
        read_scores(tmp_path / "pandas.parquet", EXPECT)


def test_the_rollout_records_the_clips_it_was_asked_for(tmp_path):
    windows = [{"clip_id": f"w{i}", "frames": torch.rand(3, 3, 16, 16)} for i in range(3)]
    frame = evaluate_windows(CopyContext(), windows, FrameSelection((0, 1), (2,)), RowLabels("e", "m", "p", "untrained"),
                             _psnr_suite(), progress=False)
    path = write_scores(frame, tmp_path / "s.parquet")
    assert json.loads(pq.read_schema(path).metadata[b"vpbench.expected_clips"]) == ["w0", "w1", "w2"]


@pytest.mark.parametrize(("metric", "value"), [("ms_ssim", 7.3), ("lpips", -0.2), ("ssim", -1.5), ("psnr", -3.0)])
def test_a_value_outside_its_metric_range_is_refused(tmp_path, metric, value):
    frame = whole_scores().assign(metric=metric)
    frame.loc[3, "value"] = value
    with pytest.raises(ScoreFileError) as caught:
        write_scores(frame, tmp_path / "s.parquet")
    message = str(caught.value)
    assert f"{metric} {value!r} for clip 'c0'" in message and "outside the metric's range" in message, message
    frame.to_parquet(tmp_path / "edited.parquet")  # an edited file is refused where it is read, too
    with pytest.raises(ScoreFileError, match=rf"edited.parquet: {metric} {value}"):
        read_scores(tmp_path / "edited.parquet")


class CopyContext(VideoPredictor):
    trainable = False

    def predict(self, context: torch.Tensor) -> Prediction:
        return Prediction(frame=context[:, -1].clone())


class Returns255(VideoPredictor):
    """A plugin that forgot to divide by 255."""

    trainable = False

    def predict(self, context: torch.Tensor) -> Prediction:
        return Prediction(frame=(context[:, -1] * 255).round().to(torch.uint8))


class Returns255Float(Returns255):
    def predict(self, context: torch.Tensor) -> Prediction:
        return Prediction(frame=context[:, -1] * 255)


def _psnr_suite():
    from vpbench.evaluation.metrics import MetricSuite

    return MetricSuite(["psnr"])


@pytest.mark.parametrize(("method", "culprit"), [(Returns255(), "has dtype uint8 (integer)"),
                                                 (Returns255Float(), "outside [0, 1] (0..255 frames? divide by 255)")])
def test_a_method_returning_0_255_is_refused_naming_method_and_step(method, culprit):
    windows = [{"clip_id": "w0", "frames": torch.rand(3, 3, 16, 16) * 0.5 + 0.25}]
    with pytest.raises(MethodContractError) as caught:
        evaluate_windows(method, windows, FrameSelection((0, 1), (2,)), RowLabels("e", "plugin", "p", "untrained"),
                         _psnr_suite(), progress=False)
    message = str(caught.value)
    assert "method 'plugin'" in message and "clip 'w0'" in message and "step t+1" in message and culprit in message


@pytest.mark.parametrize(("frames", "culprit"), [
    (torch.rand(1, 3, 32, 32) * 255, "outside [0, 1] (0..255 frames? divide by 255)"),
    ((torch.rand(1, 3, 32, 32) * 255).to(torch.uint8), "dtype uint8 (integer)"),
    (torch.rand(1, 3, 32, 32, dtype=torch.float64), "dtype float64 (double)"),
])
def test_dmvfn_refuses_integer_double_and_0_255_input(frames, culprit):
    from models.dmvfn import DMVFN

    model = DMVFN(widths=[8] * 9).eval()
    with pytest.raises(FrameContractError) as caught:
        model(frames, frames)
    assert str(caught.value).startswith("DMVFN: input prev ") and culprit in str(caught.value)


def test_the_built_ins_refuse_0_255_context():
    from models.registry import create_method

    context = torch.rand(1, 2, 3, 32, 32) * 255
    for name in ("copy_last", "dvf", "prednet"):
        with pytest.raises(FrameContractError, match="input context holds values"):
            create_method(name).eval().predict(context)


def test_max_clips_below_one_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        run_cli(capsys, "evaluate", "--spec", "s.json", "--protocol", "kitti", "--data-root", "d", "--out", "o.parquet",
                "--max-clips", "-1")
    assert caught.value.code == 2
    assert "--max-clips: must be an integer >= 1, got -1" in capsys.readouterr().err


def test_every_numeric_option_of_the_cli_has_a_range():
    """No numeric option parses with a bare int/float: each goes through vpbench.argtypes."""
    from vpbench.cli import build_parser

    def walk(parser):
        for action in parser._actions:
            if action.type in (int, float):
                yield f"{parser.prog} {'/'.join(action.option_strings)}"
            if isinstance(action.choices, dict):  # sub-commands
                for sub in action.choices.values():
                    yield from walk(sub)

    assert list(walk(build_parser())) == []


def _train_cli(capsys, spec, out, *extra):
    return run_cli(capsys, "train", "--spec", str(spec), "--out", str(out), "--device", "cpu", "--no-progress", *extra)


def test_a_second_writer_of_a_run_folder_is_refused_naming_the_holder(tmp_path, capsys):
    spec = tiny_spec(max_steps=2)
    spec.save(tmp_path / "spec.json")
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path_of(out).write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename,
                                                 "command": "vpbench train --out out", "started": "now"}))
        code, err = _train_cli(capsys, tmp_path / "spec.json", out)
        assert code == 1
        assert_one_line(err, f"{out}: the run folder is in use by process {holder.pid}", "vpbench train --out out",
                        str(lock_path_of(out)))
        assert not (out / "train_log.csv").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder died without removing its lock: the lock is stale and taken over
    code, _ = _train_cli(capsys, tmp_path / "spec.json", out)
    assert code == 0 and (out / "final.pt").exists() and not lock_path_of(out).exists()


def test_the_lock_is_held_for_the_whole_write_and_released_after(tmp_path):
    with output_lock(tmp_path / "x.parquet", "the score file") as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        with pytest.raises(OutputBusy, match=r"x.parquet: the score file is in use by process"):
            with output_lock(tmp_path / "x.parquet"):
                pass
    assert not lock.exists()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tar_cut_at_a_member_boundary_is_not_pinned(tmp_path):
    data = _tar({"a.png": b"x" * 700, "b.png": b"y" * 300})
    whole = tmp_path / "whole.tar"
    whole.write_bytes(data)
    assert "end-of-archive marker present" in verify_archive(whole)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[: 512 + 1024])  # the first member's header and data: a boundary, nothing half
    with pytest.raises(UnsafeArchiveError) as caught:
        verify_archive(cut)
    assert "cut.tar ends after 1,536 bytes of tar data without the end-of-archive marker" in str(caught.value)


# ------------------------------------------------------------------------------------------- late or unclear
def test_zero_widths_are_caught_at_plan_time_naming_the_key(tmp_path, capsys):
    from tests.test_bad_inputs import _option, write_bad_config

    config = write_bad_config(tmp_path, _option("dmvfn", "widths", [0, 80, 80, 80, 44, 44, 44, 44, 44]))
    code, err = run_cli(capsys, "plan", "--config", str(config))
    assert code == 2
    assert_one_line(err, "variants.dmvfn.options.widths", "widths must be positive integers")


@pytest.mark.parametrize(("options", "key"), [({"widths": [-8] * 9}, "widths"), ({"gamma": 0.0}, "gamma"),
                                               ({"laplacian_levels": 0}, "laplacian_levels")])
def test_degenerate_dmvfn_options_name_their_key(options, key):
    from models.registry import MethodOptionError, check_method

    with pytest.raises(MethodOptionError) as caught:
        check_method("dmvfn", options)
    assert caught.value.key == key


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_huge_frame_is_refused_from_its_header(tmp_path):
    started = time.perf_counter()
    with pytest.raises(LayoutError) as caught:
        decode_frame(_png_header_only(20000, 20000), "raw/seq/000.png")
    assert time.perf_counter() - started < 2.0  # decoding it would take seconds and gigabytes
    assert "raw/seq/000.png: the image header says 400,000,000 pixels" in str(caught.value)
    with pytest.raises(LayoutError, match=r"000.png: the image header says 9000x8000 \(HxW\)"):
        decode_frame(_png_header_only(8000, 9000), "raw/seq/000.png")


def test_a_stray_frame_size_is_refused_before_decoding(tmp_path):
    import cv2

    from data_prep.codecs import FrameCodec
    from data_prep.layout import SequenceSource
    from data_prep.preprocess import FrameTask, run_task

    ok, small = cv2.imencode(".png", np.zeros((24, 40, 3), np.uint8))
    (tmp_path / "0.png").write_bytes(small.tobytes())
    (tmp_path / "1.png").write_bytes(_png_header_only(4000, 3000))  # decodable header, stray size
    sequence = SequenceSource("s", frames=(tmp_path / "0.png", tmp_path / "1.png"))
    result = run_task(FrameTask(sequence, 0, None, None, FrameCodec("raw", {}), None))
    assert [done.origin for done in result.frames] == [str(tmp_path / "0.png")]  # the stray frame was never decoded
    assert isinstance(result.error, LayoutError)
    assert re.search(r"1.png: frame is 3000x4000 \(HxW\), the other frames of its sequence are 24x40", str(result.error))


def _enospc_on(name: str):
    import builtins

    real_open = builtins.open

    def fake_open(file, mode="r", *args, **kwargs):
        if "w" in mode and Path(file).name.startswith(f".{name}."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    return fake_open


def test_a_full_disk_says_no_space_and_keeps_the_last_checkpoint(tmp_path, capsys, monkeypatch):
    from vpbench.training import checkpoints

    spec = tiny_spec(max_steps=4, checkpoint_every=2)
    spec.save(tmp_path / "spec.json")
    out = tmp_path / "out"
    monkeypatch.setattr(checkpoints, "open", _enospc_on("final"), raising=False)
    code, err = _train_cli(capsys, tmp_path / "spec.json", out)
    assert code == 1
    assert_one_line(err, "step 4", f"cannot write {out / 'final.pt'}: no space left on device",
                    f"{out / 'last.pt'} is kept as the last good checkpoint")
    assert load_training_checkpoint(out / "last.pt")["step"] == 2
    assert not (out / "final.pt").exists() and not list(out.glob(".final*"))


def test_evaluate_into_a_read_only_folder_fails_before_the_rollout(tmp_path, capsys, monkeypatch):
    from vpbench import outputs
    from vpbench.evaluation import rollout

    real_open = os.open

    def read_only(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(outputs.os, "open", read_only)
    monkeypatch.setattr(rollout, "evaluate_experiment", lambda *a, **k: pytest.fail("the rollout ran"))
    spec = tiny_spec()
    spec.save(tmp_path / "spec.json")
    (tmp_path / "ro").mkdir()
    code, err = run_cli(capsys, "evaluate", "--spec", str(tmp_path / "spec.json"), "--protocol", "kitti",
                        "--data-root", str(tmp_path), "--out", str(tmp_path / "ro" / "s.parquet"), "--no-progress")
    assert code == 1
    assert_one_line(err, f"cannot write {tmp_path / 'ro'}", "read-only file system", "nothing was run")


# ------------------------------------------------------------------------------------------------------- lost
def test_a_config_change_keeps_the_finished_weights_snakemake_deleted(tmp_path, capsys):
    out = tmp_path / "out"
    old = tiny_spec(max_steps=4, checkpoint_every=3)
    old.save(tmp_path / "old.json")
    assert _train_cli(capsys, tmp_path / "old.json", out, "--resume")[0] == 0
    finished = load_training_checkpoint(out / "final.pt")
    (out / "final.pt").unlink()  # what Snakemake does to a job's output before re-running it
    new = tiny_spec(max_steps=5, checkpoint_every=3)
    new.save(tmp_path / "new.json")
    code, err = _train_cli(capsys, tmp_path / "new.json", out, "--resume")
    assert code == 0, err
    (kept_dir,) = (out / "superseded").iterdir()
    kept = load_training_checkpoint(kept_dir / "final.pt")
    assert kept["step"] == 4 and kept["finished"] and kept["spec"]["train"]["max_steps"] == 4
    assert all(torch.equal(kept["model"][k], finished["model"][k]) for k in finished["model"])
    assert load_training_checkpoint(kept_dir / "last.pt")["step"] == 3
    assert load_training_checkpoint(out / "final.pt")["step"] == 5
    assert load_training_checkpoint(out / "finished.pt")["step"] == 5  # the new run's, linked when it finished


def test_a_lock_of_another_host_is_stale_once_its_heartbeat_stops(tmp_path):
    """A preempted cluster job restarted on another node: the lock of its dead predecessor is taken over."""
    lock = lock_path_of(tmp_path / "run")
    lock.write_text(json.dumps({"pid": 1, "host": "node-elsewhere", "command": "vpbench train", "started": "then"}))
    with pytest.raises(OutputBusy, match="process 1 on node-elsewhere"):  # refreshed recently: it may be alive
        with output_lock(tmp_path / "run"):
            pass
    old = time.time() - 3600
    os.utime(lock, (old, old))
    with output_lock(tmp_path / "run") as taken:
        assert json.loads(taken.read_text())["pid"] == os.getpid()


def test_training_refuses_float_clips_in_0_255():
    from models.contract import CLIP_BATCH, frames_to_float

    assert frames_to_float(torch.full((1, 3, 3, 4, 4), 255, dtype=torch.uint8), layout=CLIP_BATCH).max() == 1.0
    with pytest.raises(FrameContractError, match=r"float frames holds values in \[255, 255\]"):
        frames_to_float(torch.full((1, 3, 3, 4, 4), 255.0), layout=CLIP_BATCH)
