"""What a plan costs: reference-GPU hours of training and evaluation, from the config's stated assumptions.

``snakemake -n`` and ``vpbench plan`` print it; ``vpbench.pipeline.resources`` turns it into each job's wall time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vpbench.pipeline.experiments import Experiment


@dataclass
class CostEstimate:
    """Reference-GPU hours of a set of experiments, with the assumptions that produced them."""

    reference_gpu: str
    speedup: float
    train_jobs: int = 0
    eval_jobs: int = 0
    train_hours: float = 0.0
    eval_hours: float = 0.0
    by_configuration: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)

    @property
    def total_hours(self) -> float:
        return self.train_hours + self.eval_hours

    def summary(self) -> str:
        lines = [
            f"GPU-hours estimate ({self.reference_gpu}, speed-up {self.speedup:g}): "
            f"{self.total_hours:,.1f} h = {self.train_hours:,.1f} h training ({self.train_jobs} jobs) "
            f"+ {self.eval_hours:,.1f} h evaluation ({self.eval_jobs} jobs)"
        ]
        for name, hours in sorted(self.by_configuration.items()):
            lines.append(f"  {name:<12} {hours:>10,.1f} h")
        if self.unknown:
            lines.append("  no estimate (set train_gpu_hours / eval_gpu_hours): " + ", ".join(sorted(self.unknown)))
        return "\n".join(lines)


def estimate(config: Mapping[str, Any], experiments: Mapping[str, Experiment], ids: Iterable[str] | None = None) -> CostEstimate:
    """Reference-GPU hours of training and evaluating the experiments ``ids`` (default: all), from the config's assumptions."""
    compute = config["compute"]
    speedup = float(compute.get("speedup", 1.0))
    method_cost = compute.get("method_cost", {})
    estimate = CostEstimate(reference_gpu=compute["reference_gpu"], speedup=speedup)
    for name in ids if ids is not None else experiments:
        exp = experiments[name]
        conf = config["configurations"][exp.configuration]
        hours = 0.0
        if exp.trained_here:
            estimate.train_jobs += 1
            base = conf.get("train_gpu_hours")
            if base is None:
                if f"train {exp.configuration}" not in estimate.unknown:
                    estimate.unknown.append(f"train {exp.configuration}")
            else:
                factor = float(config["recipes"][exp.recipe].get("cost_factor", 1.0))
                train = base * factor * float(method_cost.get(exp.method, 1.0)) / speedup
                estimate.train_hours += train
                hours += train
        for protocol in exp.protocols:
            estimate.eval_jobs += 1
            per_pass = config["protocols"][protocol].get("eval_gpu_hours")
            if per_pass is None:
                if f"eval {protocol}" not in estimate.unknown:
                    estimate.unknown.append(f"eval {protocol}")
                continue
            evaluation = per_pass * len(exp.routing_seeds) / speedup
            estimate.eval_hours += evaluation
            hours += evaluation
        estimate.by_configuration[exp.configuration] = estimate.by_configuration.get(exp.configuration, 0.0) + hours
    return estimate
