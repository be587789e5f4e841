"""GPU-hours of the full reproduction: the plan's estimate (what ``snakemake -n`` prints) and a recomputation from
the training speeds measured by the check.

Recomputation, per training job of the full configuration (``config/config.yaml``): optimiser steps =
epochs x batches per epoch x steps per batch, where batches per epoch = the training set's published size
(``data_prep.catalog``) // the recipe's global batch, and steps per batch = 1 for ``paper`` (one triplet per item)
or clip length - 2 for the ``official`` recipes (every consecutive triplet of a loaded clip). Seconds per step =
the measured seconds per step of that method (bf16, the engine's default AMP dtype) scaled linearly by
global batch / measured batch and by crop area / measured crop area. Assumed, not measured: perfect scaling over
the job's GPUs (so GPU-hours do not depend on their number), data loading that keeps up, no VGG term (the
``official`` recipe's perceptual loss is not timed) and evaluation hours as the plan states them.
"""

from __future__ import annotations

from typing import Any

from vpbench.gpu_check.training import TRAIN_CASES


def plan_estimate() -> dict[str, Any]:
    """``vpbench.pipeline.plan``'s estimate of the full reproduction, computed in-process as the Snakefile does."""
    from vpbench.pipeline.plan import Plan

    plan = Plan.from_files()
    estimate = plan.estimate()
    return {
        "reference_gpu": estimate.reference_gpu,
        "speedup": estimate.speedup,
        "train_jobs": estimate.train_jobs,
        "eval_jobs": estimate.eval_jobs,
        "train_hours": estimate.train_hours,
        "eval_hours": estimate.eval_hours,
        "total_hours": estimate.total_hours,
        "by_configuration": estimate.by_configuration,
        "unknown": estimate.unknown,
        "printed": estimate.summary(),
    }


def _rate_key(method: str, options: dict[str, Any]) -> str:
    if method == "dmvfn" and options.get("routing") == "gumbel":
        return "dmvfn_gumbel"
    return method


def recompute_hours(seconds_per_step: dict[str, float], measured_batch: int, measured_crop: int,
                    device_name: str) -> dict[str, Any]:
    """Training GPU-hours on the measured device for every training job of the full plan."""
    from data_prep.catalog import DATASETS
    from vpbench.pipeline.plan import Plan
    from vpbench.training.recipes import OFFICIAL_CLIP_LENGTHS, RECIPES

    plan = Plan.from_files()
    known = {case.name for case in TRAIN_CASES}
    by_configuration: dict[str, float] = {}
    jobs, missing = 0, set()
    total_steps = 0
    train_hours = 0.0
    per_job: list[dict[str, Any]] = []
    for experiment in plan.experiment_set.by_id.values():
        if not experiment.trained_here:
            continue
        key = _rate_key(experiment.method, experiment.options)
        if key not in seconds_per_step:
            missing.add(key if key in known else f"{key} (not timed by the check)")
            continue
        recipe_conf = plan.config["recipes"][experiment.recipe]
        recipe = RECIPES[recipe_conf.get("recipe", experiment.recipe)]
        epochs = int(recipe_conf.get("epochs", recipe.epochs))
        batch = int(recipe_conf.get("batch_size", recipe.batch_size))
        crop = int(recipe_conf.get("crop", recipe.crop))
        dataset = plan.config["configurations"][experiment.configuration]["train"]
        items = DATASETS[dataset].expected_windows["train"][0]
        per_batch = 1 if recipe.triplets == "one_per_clip" else OFFICIAL_CLIP_LENGTHS.get(dataset, 3) - 2
        steps = epochs * (items // batch) * per_batch
        step_s = seconds_per_step[key] * (batch / measured_batch) * (crop / measured_crop) ** 2
        hours = steps * step_s / 3600.0
        jobs += 1
        per_job.append({"experiment": experiment.id, "optimizer_steps": steps, "hours": hours})
        total_steps += steps
        train_hours += hours
        by_configuration[experiment.configuration] = by_configuration.get(experiment.configuration, 0.0) + hours
    estimate = plan.estimate()
    return {
        "device": device_name,
        "train_jobs_recomputed": jobs,
        "train_jobs_in_plan": estimate.train_jobs,
        "not_recomputed": sorted(missing),
        "optimizer_steps": total_steps,
        "train_hours": train_hours,
        "eval_hours_from_plan_reference_gpu": estimate.eval_hours,
        "by_configuration": by_configuration,
        "jobs": per_job,
        "plan_train_hours": estimate.train_hours,
        "plan_reference_gpu": estimate.reference_gpu,
        "seconds_per_step_measured": seconds_per_step,
        "measured_batch": measured_batch,
        "measured_crop": measured_crop,
    }
