"""Evaluation part: one protocol scored with all four metrics on CUDA, and the same clips on CPU.

Both runs go through :func:`vpbench.evaluation.rollout.evaluate_experiment` (checkpoint loading, layout choice, rollout, the
metric suite with LPIPS on the evaluation device). DMVFN is evaluated with ``inference_routing="threshold"`` and
``beta=1``: a stochastic draw comes from a different generator on each device, so only a deterministic decision lets
both run the same sub-network, and it must not sit on the threshold: with beta = 0.5 a barely trained router gives
every block p ~ 0.5, where round-off alone flips decisions, while with beta = 1 a block runs unless its rate is under
half the mean (p = min(n sigma_i / sum sigma, 1) >= 0.5), far from a near-uniform router's values. Whether both
devices ran the same blocks is checked too.

Tolerance (:func:`tolerance`): the per-step means over the clips, the numbers the tables aggregate, may differ by
at most half a unit of the last digit the paper prints (the metric record's ``printed_resolution``): MS-SSIM, SSIM
and LPIPS are printed x100 with two decimals (resolution 1e-4 on the raw value, so 5e-5), PSNR with two decimals
(0.005 dB). Below that a device difference cannot
change a rendered cell. Per-clip maxima are reported beside them, not checked: rollouts amplify round-off, and a single
clip is not a table cell. CUDA runs with PyTorch's defaults (cuDNN may use TF32 for convolutions), as
``vpbench evaluate`` does; the same comparison with TF32 disabled is reported beside it to show which part of the
difference TF32 causes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import torch

from vpbench.gpu_check.data import EVAL_PROTOCOL
from vpbench.gpu_check.runner import CheckFailed



def tolerance(metric: str) -> float:
    """Half a unit of the last digit the paper prints for ``metric``: below it no rendered cell can change."""
    from vpbench.evaluation.metric_records import get_metric

    return get_metric(metric).printed_resolution / 2
EVAL_OPTIONS = {"inference_routing": "threshold", "beta": 1.0}
SEED = 1234


def eval_spec() -> Any:
    from vpbench.pipeline.spec import EvalSpec, ExperimentSpec

    return ExperimentSpec(id="gpu-check-dmvfn-eval", method="dmvfn", method_options=dict(EVAL_OPTIONS),
                          eval=EvalSpec(protocols=[EVAL_PROTOCOL], routing_seeds=[0]), seed=SEED)


def eval_checkpoint(work: Path, trained: Path | None) -> tuple[Path, str]:
    """A trained DMVFN checkpoint when the training part left one, else seeded untrained weights in the same format."""
    if trained is not None and trained.is_file():
        return trained, "trained by the check's DMVFN training part"
    from models.registry import create_method
    from vpbench.training.checkpoints import CHECKPOINT_FORMAT, save_checkpoint

    torch.manual_seed(SEED)
    path = work / "untrained-dmvfn.pt"
    method = create_method("dmvfn")
    save_checkpoint({"format": CHECKPOINT_FORMAT, "method": "dmvfn", "method_options": {},
                     "model": method.state_dict()}, path)
    return path, "untrained (seeded); the training part left no checkpoint"


def score(prepared: Path, checkpoint: Path, device: str, max_clips: int | None) -> pd.DataFrame:
    from vpbench.evaluation.rollout import evaluate_experiment

    return evaluate_experiment(eval_spec(), EVAL_PROTOCOL, str(prepared), checkpoint=str(checkpoint), device=device,
                               max_clips=max_clips, progress=False)


def per_step_means(rows: pd.DataFrame) -> dict[str, dict[str, float]]:
    means = rows.groupby(["metric", "step"])["value"].mean()
    return {metric: {str(step): float(value) for (m, step), value in means.items() if m == metric}
            for metric in sorted(set(rows["metric"]))}


def compare(reference: pd.DataFrame, other: pd.DataFrame) -> dict[str, Any]:
    """Differences of ``other`` from ``reference`` (same clips, steps, metrics), and whether they are in tolerance."""
    keys = ["seed", "clip_id", "step", "metric"]
    merged = reference.merge(other, on=keys, suffixes=("_ref", "_other"), validate="one_to_one")
    if len(merged) != len(reference) or len(merged) != len(other):
        raise CheckFailed(
            f"the two runs scored different rows ({len(reference)} vs {len(other)}, {len(merged)} shared)")
    merged["diff"] = (merged["value_other"] - merged["value_ref"]).abs()
    step_means = merged.groupby(["metric", "step"])[["value_ref", "value_other"]].mean()
    worst_mean: dict[str, float] = {}
    for (metric, _step), row in step_means.iterrows():
        worst_mean[metric] = max(worst_mean.get(metric, 0.0), abs(row["value_other"] - row["value_ref"]))
    worst_clip = merged.groupby("metric")["diff"].max().to_dict()
    outside = {m: d for m, d in worst_mean.items() if d > tolerance(m)}
    return {
        "rows": len(merged),
        "max_abs_diff_of_step_means": worst_mean,
        "max_abs_diff_per_clip": {m: float(v) for m, v in worst_clip.items()},
        "same_routing": bool((merged["active_blocks_ref"] == merged["active_blocks_other"]).all()),
        "within_tolerance": not outside,
        "outside_tolerance": outside,
    }


def run_evaluation(prepared: Path, checkpoint: Path, devices: tuple[str, str], max_clips: int | None,
                   with_tf32_off: bool) -> dict[str, Any]:
    """Score on ``devices[0]`` (the reference, CPU) and ``devices[1]``; CheckFailed when they disagree."""
    reference_device, device = devices
    reference = score(prepared, checkpoint, reference_device, max_clips)
    rows = score(prepared, checkpoint, device, max_clips)
    result: dict[str, Any] = {
        "protocol": EVAL_PROTOCOL,
        "method_options": dict(EVAL_OPTIONS),
        "clips": int(rows["clip_id"].nunique()),
        "mean_active_blocks": float(rows["active_blocks"].str.count("1").mean()),
        "metrics": sorted(set(rows["metric"])),
        "tolerance_of_step_means": {m: tolerance(m) for m in sorted(set(rows["metric"]))},
        "reference_device": reference_device,
        "device": device,
        "means_reference": per_step_means(reference),
        "means_device": per_step_means(rows),
        "comparison": compare(reference, rows),
    }
    if with_tf32_off and torch.device(device).type == "cuda":
        result["cudnn_allow_tf32_default"] = torch.backends.cudnn.allow_tf32
        saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        try:
            result["comparison_tf32_off"] = compare(reference, score(prepared, checkpoint, device, max_clips))
        finally:
            torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
    missing = sorted({"ms_ssim", "lpips", "psnr", "ssim"} - set(result["metrics"]))
    if missing:
        raise CheckFailed(f"metrics missing from the scores: {missing}", result)
    comparison = result["comparison"]
    if not comparison["within_tolerance"]:
        raise CheckFailed(f"{device} and {reference_device} disagree beyond the tolerance: "
                          f"{comparison['outside_tolerance']}", result)
    if not comparison["same_routing"]:
        raise CheckFailed("the two devices ran different DMVFN blocks", result)
    return result
