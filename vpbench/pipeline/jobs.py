"""The jobs a target of the workflow needs, derived from the plan the way the rule files derive their inputs.

``snakemake -n <target>`` prints the estimate of exactly these jobs (GPU-hours, job counts per rule) beside the
full run's; ``python -m vpbench.pipeline.resources`` and the tables of docs/pipeline.md count them. A test keeps
this graph equal to Snakemake's own DAG (tests/test_pipeline_dag.py), so the counts in the docs are the DAG's.

A file maps to the rule that writes it by its place in the layout (:mod:`vpbench.pipeline.paths`); the rule's
inputs are those of ``workflow/rules/*.smk``. Targets are files or rule names (``all``, ``compare``), as on
Snakemake's command line; none means the default target ``all``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.pipeline.config import ConfigError

if TYPE_CHECKING:
    from vpbench.pipeline.plan import Plan

#: the rules in pipeline order (the order of the job counts)
RULE_ORDER = (
    "smoke_data", "prepare", "spec", "train", "official_standin", "official_weights", "evaluate", "complexity",
    "predictions", "table", "figure", "compare_table", "compare_steps_figure", "results_page", "compare", "all",
)


@dataclass(frozen=True, order=True)
class Job:
    """One job: its rule and the wildcard values that tell it from the rule's other jobs."""

    rule: str
    key: tuple[str, ...] = ()


class JobGraph:
    """Which jobs a set of targets needs, from one plan (no file on disk is looked at: the full graph of jobs)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        cfg = plan.config
        self.results = cfg["paths"]["results"]
        self.reports = cfg["paths"]["reports"]
        self.prepared = cfg["paths"]["prepared"]
        self.raw = cfg["paths"]["raw"]
        official = cfg.get("official_weights") or {}
        self.official_dir = official.get("dir", "resources/weights") if official else None
        r, rep = re.escape(self.results), re.escape(self.reports)
        self.patterns: list[tuple[str, re.Pattern[str]]] = [
            ("spec", re.compile(rf"{r}/specs/(?P<experiment>[^/]+)\.json")),
            ("train", re.compile(rf"{r}/checkpoints/(?P<experiment>[^/]+)/final\.pt")),
            ("evaluate", re.compile(rf"{r}/scores/(?P<experiment>[^/]+)/(?P<protocol>[^/]+)\.parquet")),
            ("complexity", re.compile(rf"{r}/complexity/(?P<experiment>[^/]+)/(?P<protocol>[^/]+)\.json")),
            ("predictions", re.compile(rf"{r}/predictions/(?P<experiment>[^/]+)/(?P<protocol>[^/]+)\.npz")),
            ("prepare", re.compile(rf"{re.escape(self.prepared)}/(?P<dataset>[^/]+)/manifest\.json")),
            ("smoke_data", re.compile(rf"{re.escape(self.raw)}/\.smoke-stamp\.json")),
            ("table", re.compile(rf"{rep}/tables/(?P<table>table[0-9]+)\.(md|csv|tex)")),
            ("figure", re.compile(rf"{rep}/figures/(?P<figure>fig[0-9]+)\.(png|pdf)")),
            ("compare_steps_figure", re.compile(rf"{rep}/compare/(?P<name>[^/]+)-steps-(?P<protocol>[^/]+)\.(png|pdf)")),
            ("compare_table", re.compile(rf"{rep}/compare/(?P<name>[^/]+)\.(md|csv|tex)")),
            ("results_page", re.compile(rf"{rep}/index\.html")),
        ]
        if self.official_dir:
            rule = "official_standin" if plan.official_standin else "official_weights"
            self.patterns.append((rule, re.compile(rf"{re.escape(self.official_dir)}/(?P<name>[^/]+)\.pkl")))

    # -- what a file or rule needs ---------------------------------------------------------------------------------
    def job_of(self, path: str) -> Job | None:
        """The job that writes ``path`` (None: a source file, such as a paper CSV)."""
        path = str(Path(path)) if not path.startswith("/") else path
        for rule, pattern in self.patterns:
            match = pattern.fullmatch(path)
            if match:
                return Job(rule, tuple(v for k, v in match.groupdict().items() if v is not None))
        return None

    def inputs(self, job: Job) -> list[str]:
        """The files ``job`` reads (what its rule's ``input:`` resolves to)."""
        plan, rule = self.plan, job.rule
        if rule == "all":
            return [*plan.report_targets(), *plan.artefact_inputs(), f"{self.reports}/index.html"]
        if rule == "compare":
            return plan.compare_files()
        if rule in ("compare_table", "compare_steps_figure"):
            return plan.compare_inputs()
        if rule == "results_page":
            return plan.report_targets()
        if rule == "table":
            return plan.table_inputs(job.key[0])
        if rule == "figure":
            return plan.figure_inputs(job.key[0])
        if rule == "prepare":
            return [f"{self.raw}/.smoke-stamp.json"] if plan.config["raw_data"] == "smoke" else []
        if rule == "official_standin":
            return [plan.checkpoint_file(plan.standin_source(f"{self.official_dir}/{job.key[0]}.pkl"))]
        if rule in ("smoke_data", "official_weights", "spec"):
            return []
        exp = plan.get(job.key[0])
        if rule == "train":
            return [plan.spec_file(exp.id), f"{self.prepared}/{exp.train_dataset}/manifest.json"]
        if rule == "complexity":
            return [plan.score_file(exp.id, job.key[1])] if plan.is_routed(exp.id) else []
        if rule in ("evaluate", "predictions"):
            dataset = plan.config["protocols"][job.key[1]]["dataset"]
            return [plan.spec_file(exp.id), f"{self.prepared}/{dataset}/manifest.json", *self._checkpoint(exp.id)]
        raise ConfigError(f"no inputs known for rule {rule!r}")

    def _checkpoint(self, experiment: str) -> list[str]:
        exp = self.plan.get(experiment)
        if exp.trained_here:
            return [self.plan.checkpoint_file(exp.id)]
        if exp.checkpoint_of:
            return [self.plan.checkpoint_file(exp.checkpoint_of)]
        return [exp.weights] if exp.weights else []

    def target_job(self, target: str) -> Job:
        if target in ("all", "compare"):
            return Job(target)
        job = self.job_of(target)
        if job is None:
            raise ConfigError(f"{target}: no rule of the workflow writes this file")
        return job

    def jobs(self, targets: Iterable[str] = ()) -> set[Job]:
        """Every job ``targets`` need (default: ``all``), themselves included."""
        todo = [self.target_job(t) for t in (list(targets) or ["all"])]
        seen: set[Job] = set()
        while todo:
            job = todo.pop()
            if job in seen:
                continue
            seen.add(job)
            for path in self.inputs(job):
                needed = self.job_of(path)
                if needed is not None and needed not in seen:
                    todo.append(needed)
        return seen

    def counts(self, targets: Iterable[str] = ()) -> dict[str, int]:
        """Jobs per rule, in pipeline order (what Snakemake's "Job stats" lists for a graph with nothing done)."""
        counted = Counter(job.rule for job in self.jobs(targets))
        return {rule: counted[rule] for rule in sorted(counted, key=_rule_position)}

    def experiments_of(self, jobs: Iterable[Job]) -> tuple[list[str], list[tuple[str, str]]]:
        """The trained experiments and the evaluated (experiment, protocol) pairs among ``jobs``."""
        trained = sorted(job.key[0] for job in jobs if job.rule == "train")
        evaluated = sorted((job.key[0], job.key[1]) for job in jobs if job.rule == "evaluate")
        return trained, evaluated


def _rule_position(rule: str) -> int:
    return RULE_ORDER.index(rule) if rule in RULE_ORDER else len(RULE_ORDER)


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{rule} {n}" for rule, n in counts.items())


def command_line_targets(workflow: Any, argv: list[str]) -> list[str]:
    """The targets Snakemake was asked for: its DAG settings when already known, else the positional arguments
    of its command line (a Snakefile is parsed before Snakemake sets them)."""
    settings = getattr(workflow, "dag_settings", None)
    if settings is not None and settings.targets:
        return sorted(settings.targets)
    from snakemake.cli import get_argument_parser

    try:
        args, _ = get_argument_parser().parse_known_args(argv)
    except (SystemExit, Exception):  # noqa: BLE001 - no estimate of targets, the full run's still prints
        return []
    return [str(target) for target in (getattr(args, "targets", None) or [])]
