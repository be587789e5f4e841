"""``vpbench train`` killed part-way and resumed ends with exactly the weights of an uninterrupted run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.test_train_support import state_dicts_equal, tiny_spec
from vpbench.training.checkpoints import load_training_checkpoint
from vpbench.cli import main as vpbench_main
from vpbench.training.trainer import STOP_AFTER_STEP_ENV, STOP_EXIT_CODE

REPO_ROOT = Path(__file__).resolve().parent.parent


def _vpbench_train(spec_path: Path, out: Path, *extra: str, stop_after: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop(STOP_AFTER_STEP_ENV, None)
    if stop_after is not None:
        env[STOP_AFTER_STEP_ENV] = str(stop_after)
    command = [sys.executable, "-m", "vpbench", "train", "--spec", str(spec_path), "--out", str(out),
               "--device", "cpu", "--no-progress", *extra]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def _vpbench_train_in_process(spec_path: Path, out: Path, *extra: str) -> int:
    return vpbench_main(["train", "--spec", str(spec_path), "--out", str(out), "--device", "cpu", "--no-progress", *extra])


@pytest.fixture
def one_thread():
    """The killed run is a subprocess with OMP_NUM_THREADS=1: the in-process runs must use one thread too, or
    a different reduction order in the convolutions' backward makes the weights differ in the last bits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_killed_and_resumed_run_matches_the_uninterrupted_one_bitwise(tmp_path, one_thread):
    # 16 clips / batch 4 = 4 batches per epoch: the cut at step 5 falls inside the second epoch
    spec = tiny_spec("resume", max_steps=10, checkpoint_every=3, log_every=2, num_workers=0)
    spec_path = tmp_path / "spec.json"
    spec.save(spec_path)

    assert _vpbench_train_in_process(spec_path, tmp_path / "whole") == 0

    killed = _vpbench_train(spec_path, tmp_path / "cut", stop_after=5)
    assert killed.returncode == STOP_EXIT_CODE, killed.stderr
    assert not (tmp_path / "cut" / "final.pt").exists()
    assert load_training_checkpoint(tmp_path / "cut" / "last.pt")["step"] == 3  # steps 4, 5 are lost

    assert _vpbench_train_in_process(spec_path, tmp_path / "cut") == 2  # never silently restarts over a checkpoint
    torch.manual_seed(999)  # the resuming process's own RNG state must not matter
    assert _vpbench_train_in_process(spec_path, tmp_path / "cut", "--resume") == 0

    reference = load_training_checkpoint(tmp_path / "whole" / "final.pt")
    result = load_training_checkpoint(tmp_path / "cut" / "final.pt")
    assert result["step"] == reference["step"] == 10
    assert state_dicts_equal(reference["model"], result["model"]) == []
    for ref_state, res_state in zip(reference["optimizer"]["state"].values(), result["optimizer"]["state"].values()):
        assert all(torch.equal(ref_state[k], res_state[k]) for k in ref_state)
    assert result["optimizer_steps"] == reference["optimizer_steps"]

    log = (tmp_path / "cut" / "train_log.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in log[1:]] == ["2", "4", "6", "8", "10"]
    assert _vpbench_train_in_process(spec_path, tmp_path / "cut", "--resume") == 0  # finished: nothing to do


def test_bad_spec_is_reported_by_name(tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text('{"id": "x", "method": "dmvfn", "train": {"dataset": "d", "data_root": "r", "lr": 1}}')
    assert _vpbench_train_in_process(spec_path, tmp_path / "out") == 2
    stderr = capsys.readouterr().err
    assert "unknown key(s) ['lr']" in stderr and str(spec_path) in stderr
    assert _vpbench_train_in_process(tmp_path / "missing.json", tmp_path / "out") == 2
    assert "missing.json: experiment spec not found" in capsys.readouterr().err
