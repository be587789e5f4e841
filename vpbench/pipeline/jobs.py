"""The jobs a target of the workflow needs, derived from the plan the way the rule files derive their inputs.

``snakemake -n <target>`` prints the estimate of exactly these jobs (GPU-hours, job counts per rule) beside the
full run's; ``python -m vpbench.pipeline.resources`` and the tables of docs/pipeline.md count them. A test keeps
this graph equal to Snakemake's own DAG (tests/test_pipeline_dag.py), so the counts in the docs are the DAG's.

A file maps to the rule that writes it by the output patterns the rule files declare too
(:meth:`vpbench.pipeline.paths.Paths.rule_patterns`); the rule's inputs are those of ``workflow/rules/*.smk``, the
evaluated checkpoint :meth:`vpbench.pipeline.plan.Plan.evaluation_checkpoint`. Targets are files or rule names
(``all``, ``compare``), as on Snakemake's command line; none means the default target ``all``.
"""

from __future__ import annotations

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
        self.paths = plan.paths
        #: (rule, regular expression) of every file a rule writes, from the layout the rule files declare
        self.patterns = self.paths.rule_patterns()

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
        plan, paths, artefacts, rule = self.plan, self.paths, self.plan.artefacts, job.rule
        if rule == "all":
            return [*artefacts.report_targets(), *artefacts.artefact_inputs(), paths.results_page]
        if rule == "compare":
            return artefacts.compare_files()
        if rule in ("compare_table", "compare_steps_figure"):
            return artefacts.compare_inputs()
        if rule == "results_page":
            return artefacts.report_targets()
        if rule == "table":
            return artefacts.table_inputs(job.key[0])
        if rule == "figure":
            return artefacts.figure_inputs(job.key[0])
        if rule == "prepare":
            return [paths.smoke_stamp] if plan.config["raw_data"] == "smoke" else []
        if rule == "official_standin":
            return [paths.checkpoint_file(plan.experiment_set.standin_source(paths.official_weights_file(job.key[0])))]
        if rule in ("smoke_data", "official_weights", "spec"):
            return []
        exp = plan.experiment_set.get(job.key[0])
        if rule == "train":
            return [paths.spec_file(exp.id), paths.manifest_file(exp.train_dataset)]
        if rule == "complexity":
            return [paths.score_file(exp.id, job.key[1])] if exp.routed else []
        if rule in ("evaluate", "predictions"):
            dataset = plan.config["protocols"][job.key[1]]["dataset"]
            checkpoint = plan.evaluation_checkpoint(exp.id)
            return [paths.spec_file(exp.id), paths.manifest_file(dataset), *([checkpoint] if checkpoint else [])]
        raise ConfigError(f"no inputs known for rule {rule!r}")

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
