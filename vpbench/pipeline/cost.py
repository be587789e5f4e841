"""What a plan costs: reference-GPU hours of training and evaluation, from the config's stated assumptions.

``snakemake -n [target]`` prints it for the target's jobs (:mod:`vpbench.pipeline.jobs`) beside the full run's, and
``vpbench plan`` for the full run; ``vpbench.pipeline.resources`` turns it into each job's wall time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vpbench.pipeline.experiments import Experiment


@dataclass
class CostEstimate:
    """Reference-GPU hours of a set of jobs, with the assumptions that produced them and the jobs per rule."""

    reference_gpu: str
    speedup: float
    train_jobs: int = 0
    eval_jobs: int = 0
    train_hours: float = 0.0
    eval_hours: float = 0.0
    by_configuration: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    #: jobs per rule of the graph estimated (empty: the jobs were not counted, only experiments)
    rule_counts: dict[str, int] = field(default_factory=dict)
    #: what was estimated: the targets, "all" for the full run
    scope: str = "all"

    @property
    def total_hours(self) -> float:
        return self.train_hours + self.eval_hours

    def headline(self) -> str:
        return (f"{self.total_hours:,.1f} h = {self.train_hours:,.1f} h training ({self.train_jobs} jobs) "
                f"+ {self.eval_hours:,.1f} h evaluation ({self.eval_jobs} jobs)")

    def summary(self) -> str:
        lines = [f"GPU-hours estimate of {self.scope} ({self.reference_gpu}, speed-up {self.speedup:g}): {self.headline()}"]
        if self.rule_counts:
            lines.append(f"  jobs ({sum(self.rule_counts.values())}): "
                         + ", ".join(f"{rule} {n}" for rule, n in self.rule_counts.items()))
        for name, hours in sorted(self.by_configuration.items()):
            lines.append(f"  {name:<12} {hours:>10,.1f} h")
        if self.unknown:
            lines.append("  no estimate (set train_gpu_hours / eval_gpu_hours): " + ", ".join(sorted(self.unknown)))
        return "\n".join(lines)


def estimate(
    config: Mapping[str, Any], experiments: Mapping[str, Experiment], ids: Iterable[str] | None = None,
    evaluations: Iterable[tuple[str, str]] | None = None,
) -> CostEstimate:
    """Reference-GPU hours of training the experiments ``ids`` that are trained here and of the evaluations
    ``evaluations`` ((experiment, protocol) pairs; default: every protocol of each of ``ids``). ``ids`` defaults
    to every experiment."""
    compute = config["compute"]
    speedup = float(compute.get("speedup", 1.0))
    method_cost = compute.get("method_cost", {})
    result = CostEstimate(reference_gpu=compute["reference_gpu"], speedup=speedup)
    ids = list(ids if ids is not None else experiments)
    if evaluations is None:
        evaluations = [(name, protocol) for name in ids for protocol in experiments[name].protocols]

    def charge(configuration: str, hours: float) -> None:
        result.by_configuration[configuration] = result.by_configuration.get(configuration, 0.0) + hours

    for name in ids:
        exp = experiments[name]
        if not exp.trained_here:
            continue
        result.train_jobs += 1
        base = config["configurations"][exp.configuration].get("train_gpu_hours")
        if base is None:
            if f"train {exp.configuration}" not in result.unknown:
                result.unknown.append(f"train {exp.configuration}")
            charge(exp.configuration, 0.0)
            continue
        factor = float(config["recipes"][exp.recipe].get("cost_factor", 1.0))
        train = base * factor * float(method_cost.get(exp.method, 1.0)) / speedup
        result.train_hours += train
        charge(exp.configuration, train)
    for name, protocol in evaluations:
        exp = experiments[name]
        result.eval_jobs += 1
        per_pass = config["protocols"][protocol].get("eval_gpu_hours")
        if per_pass is None:
            if f"eval {protocol}" not in result.unknown:
                result.unknown.append(f"eval {protocol}")
            charge(exp.configuration, 0.0)
            continue
        evaluation = per_pass * len(exp.routing_seeds) / speedup
        result.eval_hours += evaluation
        charge(exp.configuration, evaluation)
    return result
