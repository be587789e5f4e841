"""The reproduction plan: what the Snakefile and the commands hold.

``Plan(config)`` validates the config (:mod:`~vpbench.pipeline.config`), builds and checks the pieces
(:mod:`~vpbench.pipeline.checks`) and holds them, each asked by its own name: ``plan.experiment_set``, the
experiments (:mod:`~vpbench.pipeline.experiments`); ``plan.paths``, where every file lives
(:mod:`~vpbench.pipeline.paths`); ``plan.artefacts``, what each table and figure reads
(:mod:`~vpbench.pipeline.artefacts`). What the plan itself decides from them: the checkpoint an evaluation loads,
the experiment spec, and the GPU-hours estimate (:mod:`~vpbench.pipeline.cost`, of the jobs
:mod:`~vpbench.pipeline.jobs` counts). Importing it never imports torch (a test says so): the Snakefile imports it
in every Snakemake process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from vpbench.pipeline import checks
from vpbench.pipeline.artefacts import Artefacts
from vpbench.pipeline.config import DEFAULT_CONFIG, ConfigError, check_references, deep_merge, load_config, read_validated, validate
from vpbench.pipeline.cost import CostEstimate, estimate
from vpbench.pipeline.experiments import ExperimentSet
from vpbench.pipeline.paths import Paths

#: recipe keys that steer launching and estimates, not training: left out of the experiment spec
LAUNCH_KEYS_NOT_IN_SPEC = ("gpus", "cost_factor", "runtime_minutes")
MethodChecks = Literal["here", "child", "skip"]


class Plan:
    """The resolved configuration: its experiments, file paths and artefacts, and what follows from them."""

    def __init__(self, config: Mapping[str, Any], root: str | Path = ".", where: str = "config",
                 method_checks: MethodChecks = "here") -> None:
        """``method_checks``: build every planned method on the meta device in this process ("here", imports torch),
        in a child process ("child": the Snakefile's main process; the child also answers whether each planned method
        that is not built in trains and routes, so that this process imports neither it nor torch), or not at all
        ("skip": a job of a workflow whose main process checked this same plan, and passed its child's answers on)."""
        self.root = Path(root)
        self.config = dict(config)
        validate(self.config, "config.schema.json", where)
        experiments_file = self.root / self.config["experiments_file"]
        tables_file = self.root / self.config["tables_file"]
        variants = read_validated(experiments_file, "experiments.schema.json")["variants"]
        artefacts = read_validated(tables_file, "tables.schema.json")
        check_references(self.config, variants)
        child = checks.ask_child(self.config, variants) if method_checks == "child" else None
        if method_checks == "skip":
            checks.take_passed_answers()
        self.experiment_set = ExperimentSet(self.config, variants)
        self.paths = Paths(self.config)
        self.artefacts = Artefacts(self.config, self.experiment_set, self.paths, artefacts["tables"], artefacts["figures"])
        self.artefacts.check(tables_file, self.root)
        checks.check_protocols(self.config, self.experiment_set)
        if child is not None:
            child.raise_failure()
        elif method_checks == "here":
            checks.check_methods(self.experiment_set)
        checks.check_specs_and_crops(self.config, self.experiment_set, self.experiment_spec)

    @classmethod
    def from_files(
        cls, paths: Sequence[str | Path] | None = None, root: str | Path = ".", overrides: Mapping[str, Any] | None = None,
        method_checks: MethodChecks = "here",
    ) -> Plan:
        """The plan of the merged config files, with ``overrides`` (Snakemake's ``--config`` keys) on top."""
        names = [str(p) for p in (paths or [DEFAULT_CONFIG])]
        config = load_config(paths)
        if overrides:
            config = deep_merge(config, overrides)
            names.append("--config")
        return cls(config, root=root, where=" + ".join(names), method_checks=method_checks)

    # -- what the plan decides ----------------------------------------------------------------------------------
    def evaluation_checkpoint(self, experiment: str) -> str | None:
        """The checkpoint ``vpbench evaluate`` loads for ``experiment`` (None: the method is built untrained): the
        one decision, read by the spec, the evaluate and predictions rules and the job graph. At most one of the
        three applies (:class:`~vpbench.pipeline.experiments.Experiment` refuses two)."""
        exp = self.experiment_set.get(experiment)
        if exp.weights:
            return exp.weights
        if exp.checkpoint_of:
            return self.paths.checkpoint_file(exp.checkpoint_of)
        if exp.trained_here:
            return self.paths.checkpoint_file(exp.id)
        return None

    def experiment_spec(self, experiment: str) -> dict[str, Any]:
        """The ``vpbench.pipeline.spec.ExperimentSpec`` dict of ``experiment`` (validated by ExperimentSpec itself)."""
        from vpbench.pipeline.spec import ExperimentSpec

        exp = self.experiment_set.get(experiment)
        evaluation = self.config["evaluation"]
        train = None
        if exp.trained_here:
            recipe = {k: v for k, v in self.config["recipes"][exp.recipe].items() if k not in LAUNCH_KEYS_NOT_IN_SPEC}
            train = {"dataset": exp.train_dataset, "data_root": self.paths.prepared_dir(exp.train_dataset), **recipe}
        spec = {
            "id": exp.id,
            "method": exp.method,
            "method_options": exp.options,
            "train": train,
            "eval": {
                "protocols": list(exp.protocols),
                "routing_seeds": list(exp.routing_seeds),
                "max_clips": evaluation.get("max_clips"),
                "channel_order_lpips": evaluation.get("channel_order_lpips", "rgb"),
            },
            "seed": exp.seed,
            "source": exp.source,
            "weights": self.evaluation_checkpoint(exp.id) if not exp.trained_here else None,
        }
        return ExperimentSpec.from_dict(spec, where=f"experiment {exp.id}").to_dict()

    # -- cost (vpbench.pipeline.cost) ---------------------------------------------------------------------------
    def estimate(self, experiments: Iterable[str] | None = None) -> CostEstimate:
        """Reference-GPU hours of training and evaluating ``experiments`` (every protocol of each), from the config's
        assumptions. Without ``experiments``: the jobs of the full run (the default target ``all``), counted as the
        workflow's graph has them (:meth:`estimate_targets`)."""
        if experiments is None:
            return self.estimate_targets(())
        return estimate(self.config, self.experiment_set.by_id, experiments)

    def estimate_targets(self, targets: Iterable[str]) -> CostEstimate:
        """The estimate of the jobs ``targets`` need (files or rule names as on Snakemake's command line; none: the
        full run), with their number per rule (:class:`vpbench.pipeline.jobs.JobGraph`)."""
        from vpbench.pipeline.jobs import JobGraph

        targets = list(targets)
        graph = JobGraph(self)
        jobs = graph.jobs(targets)
        trained, evaluated = graph.experiments_of(jobs)
        result = estimate(self.config, self.experiment_set.by_id, trained, evaluated)
        result.rule_counts = graph.counts(targets)
        result.scope = " ".join(targets) if targets else "the full run (all)"
        return result

    def estimate_summary(self, targets: Iterable[str]) -> str:
        """What ``snakemake -n [targets]`` prints: the targets' estimate and the full run's headline (the full
        run's estimate alone without targets, or when a target is not one the graph knows)."""
        targets = [t for t in targets if t != "all"]
        full = self.estimate_targets([])
        if not targets:
            return full.summary()
        try:
            return f"{self.estimate_targets(targets).summary()}\nFull run: {full.headline()}"
        except ConfigError as err:
            return f"{full.summary()}\n(no estimate of {' '.join(targets)}: {err})"
