"""Cluster requests of the pipeline's jobs (GPUs, CPUs, memory, wall time), derived from the configuration.

The Snakefile attaches these requests to every rule that runs a command (:meth:`JobResources.snakemake_resources`:
``cpus_per_task``, ``mem_mb`` and ``runtime``, and ``gpu`` for :data:`GPU_RULES`); the SLURM executor turns them
into ``--gpus``, ``--cpus-per-task``, ``--mem`` and ``--time``. A profile's ``set-resources`` overrides any of them.
What the requests are built from:

* GPUs: only where the job's device is CUDA. A training job asks for its recipe's ``gpus``; an evaluation job for
  one GPU when ``evaluation.device`` is ``cuda``. Everything else asks for none.
* Processes of a training job: its GPUs, or ``resources.cpu_processes`` gloo processes when the recipe trains on
  CPU (``gpus: 0``). More than one process runs under ``torchrun`` inside the one allocation.
* CPUs: one per process plus its data-loading workers (the recipe's ``num_workers``).
* Preparing a dataset: ``vpbench prepare --jobs {threads}``, its threads being the rule's ``cpus`` (one worker
  process per CPU, beside a main process that only writes); memory ``resources.prepare_main_mb`` plus
  ``resources.prepare_worker_mb`` per worker (the peak RSS ``python -m vpbench.benchmarks.prepare`` measures on
  2048x1024 Cityscapes frames, the largest any dataset decodes, with a margin).
* Memory: ``resources.process_mb`` per process (interpreter, torch, model, optimiser) plus
  ``resources.mb_per_megapixel`` per megapixel of frames a process holds at once: for training, its share of the
  batch x 3 frames x crop² for every batch in flight (2 per worker + 1); for evaluation,
  ``resources.eval_frames`` frames at the protocol's resolution.
* Wall time: the GPU-hours estimate of ``vpbench plan`` (``train_gpu_hours`` / ``eval_gpu_hours``, ``compute``)
  spread over the job's GPUs, times ``resources.runtime_margin``, within ``[min_runtime, max_runtime]``; a recipe's
  ``runtime_minutes`` wins. A training cut by the limit resumes from ``last.pt`` when Snakemake restarts it.
  Jobs without an estimate (CPU, smoke) take their rule's entry of ``resources.rules``.

``python -m vpbench.pipeline.resources [--config FILE ...]`` prints the per-rule table (docs/pipeline.md has the paper's).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vpbench.pipeline.config import load_config
from vpbench.pipeline.plan import Plan
from vpbench.utils import parse_size
from vpbench.training.recipes import RECIPES
from vpbench.pipeline.spec import TrainSpec

#: used where the config's ``resources:`` section leaves a key out
DEFAULTS: dict[str, Any] = {
    "process_mb": 4000,
    "mb_per_megapixel": 100,
    "eval_frames": 16,
    "cpu_processes": 1,
    "eval_cpus": 4,
    # measured peak RSS (results/benchmarks/prepare.json): main 130 MB, worker 80 MB; here with room for the
    # index of a whole split in the main process and for video decoders in the workers
    "prepare_main_mb": 500,
    "prepare_worker_mb": 200,
    "runtime_margin": 1.5,
    "min_runtime": 10,
    "max_runtime": 2880,
    "rules": {
        "default": {"cpus": 1, "mem_mb": 2000, "runtime": 30},
        "prepare": {"cpus": 8, "runtime": 720},  # mem_mb: derived from the workers (prepare_*_mb)
        "train": {"runtime": 2880},
        "evaluate": {"runtime": 240},
    },
}
#: batches a DataLoader holds per worker (torch's prefetch_factor)
PREFETCH_PER_WORKER = 2
#: rules that only name other jobs' files (no command, no resources)
TARGET_RULES = ("all", "compare")
#: Snakemake resource -> field of the job's :class:`Request`, asked by every rule that runs a command
SNAKEMAKE_RESOURCES = {"cpus_per_task": "cpus", "mem_mb": "mem_mb", "runtime": "runtime"}
#: the rules whose jobs may run on GPUs: they also ask for ``gpu`` (their request's ``gpus``, 0 on CPU)
GPU_RULES = ("train", "evaluate")
#: frames per training sample: two context frames and the target
FRAMES_PER_SAMPLE = 3


@dataclass(frozen=True)
class Request:
    gpus: int
    cpus: int
    mem_mb: int
    runtime: int  # minutes
    processes: int = 1

    def as_row(self) -> tuple[int, int, int, int, int]:
        return self.gpus, self.processes, self.cpus, self.mem_mb, self.runtime


def _round_up(value: float, step: int = 500) -> int:
    return int(math.ceil(value / step) * step)


class JobResources:
    """The requests of every rule of the workflow, from one merged pipeline configuration."""

    def __init__(self, config: Mapping[str, Any], plan: Plan | None = None) -> None:
        self.config = config
        self.plan = plan or Plan(config)
        section = dict(config.get("resources") or {})
        rules = {**DEFAULTS["rules"]}
        for rule, values in (section.pop("rules", None) or {}).items():
            rules[rule] = {**rules.get(rule, {}), **values}
        self.settings = {**DEFAULTS, **section, "rules": rules}

    # -- building blocks -----------------------------------------------------------------------------------
    def rule_default(self, rule: str, key: str) -> int:
        rules = self.settings["rules"]
        return int(rules.get(rule, {}).get(key, rules["default"][key]))

    def _runtime(self, rule: str, gpu_hours: float | None, gpus: int) -> int:
        if gpu_hours is None or gpus == 0:
            return self.rule_default(rule, "runtime")
        speedup = float(self.config["compute"].get("speedup", 1.0))
        minutes = gpu_hours / speedup / gpus * 60 * float(self.settings["runtime_margin"])
        return int(min(max(math.ceil(minutes), self.settings["min_runtime"]), self.settings["max_runtime"]))

    def _memory(self, processes: int, megapixels_per_process: float) -> int:
        per_process = self.settings["process_mb"] + self.settings["mb_per_megapixel"] * megapixels_per_process
        return _round_up(processes * per_process)

    # -- rules ---------------------------------------------------------------------------------------------
    def train(self, experiment: str) -> Request:
        exp = self.plan.experiment_set.get(experiment)
        recipe = self.config["recipes"][exp.recipe]
        gpus = int(recipe.get("gpus", 1))
        processes = gpus or int(self.settings["cpu_processes"])
        workers = int(recipe.get("num_workers", TrainSpec.__dataclass_fields__["num_workers"].default))
        crop = int(recipe.get("crop") or RECIPES[recipe.get("recipe", "paper")].crop)
        per_process_batch = math.ceil(int(recipe.get("batch_size", 64)) / processes)
        in_flight = PREFETCH_PER_WORKER * workers + 1
        megapixels = per_process_batch * FRAMES_PER_SAMPLE * crop * crop / 1e6 * in_flight
        if recipe.get("runtime_minutes"):
            runtime = int(recipe["runtime_minutes"])
        else:
            runtime = self._runtime("train", self._train_gpu_hours(experiment), gpus)
        return Request(gpus=gpus, cpus=processes * (workers + 1), mem_mb=self._memory(processes, megapixels),
                       runtime=runtime, processes=processes)

    def _train_gpu_hours(self, experiment: str) -> float | None:
        configuration = self.plan.experiment_set.get(experiment).configuration
        if self.config["configurations"][configuration].get("train_gpu_hours") is None:
            return None
        # estimate() divides by the speed-up; _runtime divides again, so undo it here
        return self.plan.estimate([experiment]).train_hours * float(self.config["compute"].get("speedup", 1.0))

    def evaluate(self, experiment: str, protocol: str) -> Request:
        exp = self.plan.experiment_set.get(experiment)
        protocol_spec = self.config["protocols"][protocol]
        height, width = parse_size(protocol_spec["size"])
        megapixels = self.settings["eval_frames"] * height * width / 1e6
        on_cuda = str(self.config["evaluation"].get("device", "cuda")).startswith("cuda")
        gpus = 1 if on_cuda else 0
        per_pass = protocol_spec.get("eval_gpu_hours")
        hours = None if per_pass is None else float(per_pass) * len(exp.routing_seeds)
        return Request(gpus=gpus, cpus=int(self.settings["eval_cpus"]) if on_cuda else self.rule_default("evaluate", "cpus"),
                       mem_mb=self._memory(1, megapixels), runtime=self._runtime("evaluate", hours, gpus))

    def prepare(self) -> Request:
        """One worker per CPU; memory from the measured per-process peaks unless the config gives ``mem_mb``."""
        cpus = self.rule_default("prepare", "cpus")
        configured = self.settings["rules"]["prepare"].get("mem_mb")
        mem_mb = int(configured) if configured else _round_up(
            self.settings["prepare_main_mb"] + cpus * self.settings["prepare_worker_mb"])
        return Request(gpus=0, cpus=cpus, mem_mb=mem_mb, runtime=self.rule_default("prepare", "runtime"))

    def other(self, rule: str) -> Request:
        rule = rule if rule in self.settings["rules"] else "default"
        return Request(gpus=0, cpus=self.rule_default(rule, "cpus"), mem_mb=self.rule_default(rule, "mem_mb"),
                       runtime=self.rule_default(rule, "runtime"))

    def request(self, rule: str, wildcards: Mapping[str, str] | None = None) -> Request:
        wildcards = wildcards or {}
        if rule == "train":
            return self.train(wildcards["experiment"])
        if rule == "evaluate":
            return self.evaluate(wildcards["experiment"], wildcards["protocol"])
        if rule == "prepare":
            return self.prepare()
        return self.other(rule)

    def snakemake_resources(self, rule: str) -> dict[str, Callable[..., int]]:
        """The ``resources:`` of ``rule`` for Snakemake, each a function of the job's wildcards (the Snakefile
        attaches them to every rule that runs a command)."""
        fields = {"gpu": "gpus", **SNAKEMAKE_RESOURCES} if rule in GPU_RULES else SNAKEMAKE_RESOURCES
        return {resource: self._resource(rule, field) for resource, field in fields.items()}

    def _resource(self, rule: str, field: str) -> Callable[..., int]:
        def request(wildcards: Any) -> int:  # Snakemake passes the argument by this name
            return getattr(self.request(rule, dict(wildcards.items())), field)

        return request

    # -- the per-rule table ---------------------------------------------------------------------------------
    def jobs(self, targets: Sequence[str] = ()) -> list[tuple[str, dict[str, str]]]:
        """The jobs of the graph of ``targets`` (default: the full run) that run a command, as the workflow's DAG
        has them (:class:`vpbench.pipeline.jobs.JobGraph`), in pipeline order: (rule, wildcards)."""
        from vpbench.pipeline.jobs import JobGraph

        names = {"prepare": ("dataset",), "spec": ("experiment",), "train": ("experiment",),
                 "evaluate": ("experiment", "protocol"), "complexity": ("experiment", "protocol"),
                 "predictions": ("experiment", "protocol"), "table": ("table",), "figure": ("figure",)}
        jobs = []
        for job in sorted(JobGraph(self.plan).jobs(targets), key=lambda j: (_position(j.rule), j.key)):
            if job.rule in TARGET_RULES:
                continue
            jobs.append((job.rule, dict(zip(names.get(job.rule, ("name",)), job.key))))
        return jobs

    def table(self) -> str:
        """Markdown: one row per rule and distinct request, with the number of jobs and an example."""
        groups: dict[tuple[str, tuple[int, ...]], list[str]] = {}
        for rule, wildcards in self.jobs():
            key = (rule, self.request(rule, wildcards).as_row())
            groups.setdefault(key, []).append("/".join(wildcards.values()) or rule)
        lines = ["| rule | jobs | GPUs | processes | CPUs | memory (GB) | wall time (h) | e.g. |",
                 "|---|---:|---:|---:|---:|---:|---:|---|"]
        for (rule, (gpus, processes, cpus, mem_mb, runtime)), names in groups.items():
            lines.append(f"| {rule} | {len(names)} | {gpus} | {processes} | {cpus} | {mem_mb / 1000:g} | "
                         f"{runtime / 60:.3g} | {names[0]} |")
        return "\n".join(lines)

    def docs_table(self) -> str:
        """The per-rule table and, under it, the jobs per rule of the full run (docs/pipeline.md shows both)."""
        from vpbench.pipeline.jobs import JobGraph

        counts = JobGraph(self.plan).counts()
        total = sum(counts.values())
        listed = ", ".join(f"{rule} {n}" for rule, n in counts.items())
        return f"{self.table()}\n\nJobs of the full run (`snakemake -n`): {total} = {listed}."


def _position(rule: str) -> int:
    from vpbench.pipeline.jobs import RULE_ORDER

    return RULE_ORDER.index(rule) if rule in RULE_ORDER else len(RULE_ORDER)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpbench.pipeline.resources", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", action="append", help="pipeline config file(s), merged in order (default config/config.yaml)")
    args = parser.parse_args(argv)
    print(JobResources(load_config(args.config)).docs_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
