"""The GPU check's plumbing on CPU: report, isolation of parts, and each part's code run at toy sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vpbench.gpu_check import check as gpu_check
from vpbench.gpu_check.data import build_training_crops
from vpbench.gpu_check.evaluation import compare, tolerance
from vpbench.gpu_check.runner import SKIPPED_NO_CUDA, CheckFailed, run_part
from vpbench.gpu_check.training import TRAIN_CASES, run_ddp, run_training


@pytest.fixture()
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture()
def fast_data(monkeypatch, tmp_path):
    """The data part without the smoke tree (its builders have their own tests)."""
    def data(self):
        self.crops_path = build_training_crops(tmp_path / "crops.npy", 4, 32)
        self.eval_tree = tmp_path / "no-tree"
        return {"training_crops": str(self.crops_path)}

    monkeypatch.setattr(gpu_check.Check, "data", data)


def _run(tmp_path: Path, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "bench" / "gpu-test.json"
    code = gpu_check.main(["--quick", "--work", str(tmp_path / "work"), "--out", str(out), *extra])
    return code, json.loads(out.read_text())


def test_without_cuda_every_cuda_part_is_skipped_and_cpu_parts_run(tmp_path, no_cuda, fast_data):
    code, report = _run(tmp_path)
    assert code == 0
    assert report["complete"] and report["environment"]["cuda_available"] is False
    parts = report["parts"]
    cuda_parts = [name for name, part in parts.items() if part["needs_cuda"]]
    assert len(cuda_parts) == 2 * len(TRAIN_CASES) + 5
    assert all(parts[name]["status"] == SKIPPED_NO_CUDA for name in cuda_parts)
    assert parts["data"]["status"] == "ok" and parts["plan_estimate"]["status"] == "ok"
    assert parts["plan_estimate"]["result"]["train_hours"] > 0
    assert report["summary"] == {"ok": 2, "failed": 0, "skipped": len(cuda_parts)}
    # written by rename: no temporary file is left beside the report
    assert [p.name for p in (tmp_path / "bench").iterdir()] == ["gpu-test.json"]


def test_a_part_that_raises_is_recorded_as_failed_and_the_others_still_run(tmp_path, no_cuda, fast_data, monkeypatch):
    seen_on_disk = {}

    def broken(self):
        # the report on disk already holds the parts before this one
        seen_on_disk.update(json.loads((tmp_path / "bench" / "gpu-test.json").read_text())["parts"])
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(gpu_check.Check, "plan_estimate", broken)
    code, report = _run(tmp_path)
    assert code == 1
    failed = report["parts"]["plan_estimate"]
    assert failed["status"] == "failed" and failed["reason"] == "ZeroDivisionError: boom"
    assert failed["traceback"][-1] == "ZeroDivisionError: boom" and "in broken" in failed["traceback"][-2]
    assert report["parts"]["gpu_hours_measured"]["status"] == SKIPPED_NO_CUDA  # the parts after it still ran
    assert seen_on_disk["data"]["status"] == "ok"


def test_run_part_keeps_the_numbers_of_a_failed_check_and_skips_cuda_parts():
    def failing():
        raise CheckFailed("loss did not fall", {"steps": 3})

    outcome = run_part("p", failing, needs_cuda=False, cuda_available=False)
    assert (outcome.status, outcome.reason, outcome.result) == ("failed", "loss did not fall", {"steps": 3})
    assert run_part("q", failing, needs_cuda=True, cuda_available=False).status == SKIPPED_NO_CUDA
    late = run_part("r", lambda: {}, needs_cuda=False, cuda_available=False, not_run_reason="budget spent")
    assert late.status == "failed" and "budget spent" in late.reason


def test_training_part_runs_the_engine_step_and_writes_a_checkpoint_on_cpu(tmp_path):
    crops = build_training_crops(tmp_path / "crops.npy", 4, 32)
    result = run_training(TRAIN_CASES[0], "bf16", crops, tmp_path / "run", torch.device("cpu"), steps=2, batch=2,
                          crop=32, warmup_steps=1, time_cap_s=60.0)
    assert result["steps"] == 2 and result["autocast"] is False and result["grad_scaler"] is False
    assert result["steps_per_s"] > 0 and result["clips_per_s"] == pytest.approx(2 * result["steps_per_s"])
    assert result["loss"]["falling"] is None  # too few steps to judge
    assert Path(result["checkpoint"]).is_file()


@pytest.mark.integration
def test_ddp_part_interrupts_and_resumes_through_torchrun_on_cpu(tmp_path):
    crops = build_training_crops(tmp_path / "crops.npy", 4, 32)
    result = run_ddp(crops, tmp_path / "ddp", "cpu", 1, steps=2, batch_per_process=2, crop=32, timeout_s=300)
    worker = result["worker"]
    assert (worker["backend"], worker["world_size"], worker["ddp_wrapped"]) == ("gloo", 1, True)
    assert result["checkpoint_step"] == 1 and worker["resumed_from_step"] == 1 and result["final_step"] == 2


def _scores(values: dict[str, float], blocks: str = "111") -> pd.DataFrame:
    return pd.DataFrame([{"seed": 0, "clip_id": "a", "step": 1, "metric": m, "value": v, "active_blocks": blocks}
                         for m, v in values.items()])


def test_comparison_applies_the_stated_tolerance():
    reference = _scores({"psnr": 30.0, "lpips": 0.1, "ms_ssim": 0.9, "ssim": 0.8})
    close = _scores({"psnr": 30.004, "lpips": 0.10004, "ms_ssim": 0.9, "ssim": 0.8})
    assert (tolerance("ms_ssim"), tolerance("psnr")) == pytest.approx((5e-5, 5e-3))  # half the paper's last digit
    far = _scores({"psnr": 30.0, "lpips": 0.1, "ms_ssim": 0.9 + 2 * tolerance("ms_ssim"), "ssim": 0.8})
    assert compare(reference, close)["within_tolerance"]
    outcome = compare(reference, far)
    assert not outcome["within_tolerance"] and set(outcome["outside_tolerance"]) == {"ms_ssim"}
    other_blocks = _scores({"psnr": 30.0, "lpips": 0.1, "ms_ssim": 0.9, "ssim": 0.8}, "101")
    assert not compare(reference, other_blocks)["same_routing"]


def test_latency_part_times_every_case_on_cpu():
    from vpbench.gpu_check.latency import run_latency

    result = run_latency(torch.device("cpu"), 32, 48, 0, 1, ("eager", "channels_last"))
    eager = result["variants"]["eager"]
    assert set(eager["median_s"]) == {"dvf", "dmvfn_all_blocks", "dmvfn_routed", "dmvfn_routed_frame_only"}
    assert result["variants"]["channels_last"]["max_abs_diff_from_eager"]["dmvfn_all_blocks"] < 1e-4
    assert eager["speedup_over_eager"]["dvf"] == 1.0


def test_gpu_hours_scale_with_the_measured_step_time():
    from vpbench.gpu_check.hours import recompute_hours

    rates = {"dmvfn": 0.05, "dmvfn_gumbel": 0.05, "dvf": 0.2, "prednet": 0.3}
    once = recompute_hours(rates, 64, 224, "test")
    twice = recompute_hours({k: 2 * v for k, v in rates.items()}, 64, 224, "test")
    assert once["train_jobs_recomputed"] == once["train_jobs_in_plan"] and not once["not_recomputed"]
    assert twice["train_hours"] == pytest.approx(2 * once["train_hours"])


def test_training_crops_are_cached_triplets_of_the_offline_clips(tmp_path):
    path = build_training_crops(tmp_path / "crops.npy", 3, 32)
    crops = np.load(path)
    assert crops.shape == (3, 3, 3, 32, 32) and crops.dtype == np.uint8 and crops.std() > 0
    assert build_training_crops(path, 3, 32) == path  # reused


def test_laplacian_rounding_is_measured_at_the_models_prediction_under_autocast(tmp_path):
    from types import SimpleNamespace

    from models.registry import create_method
    from vpbench.gpu_check.training import laplacian_rounding

    clips = torch.from_numpy(np.load(build_training_crops(tmp_path / "crops.npy", 2, 32)))
    method = create_method("dmvfn", scales=[2, 1], widths=[16, 8]).train()
    trainer = SimpleNamespace(use_amp=True, amp_dtype=torch.bfloat16, spec=SimpleNamespace(method="dmvfn"),
                              method=method)
    rounding = laplacian_rounding(trainer, clips, torch.device("cpu"))  # CPU autocast also runs bf16 convolutions
    # models.losses computes Eq. 13 in fp32 even under autocast, so the check measures no rounding at all
    assert rounding is not None and rounding < 1e-6 and method.training
    assert laplacian_rounding(SimpleNamespace(use_amp=False), clips, torch.device("cpu")) is None
