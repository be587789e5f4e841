"""Which jobs of a ``snakemake compare`` run see the compare keys (``method``, ``compare_protocols``, ...).

The vpbench commands that read the config themselves (``vpbench spec``, ``vpbench render``) receive the compare keys
given with ``--config`` as ``--override '<json>'``. That argument is a rule parameter, and Snakemake re-runs a job
whose parameters changed: were it given to every job, a comparison run in a finished run would re-write every spec
and so retrain and re-evaluate every baseline. So a job gets it only when what it makes depends on the keys: when
the plan without them does not have the job's answer (the experiment, the table plan) or has another one.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from vpbench.pipeline.config import COMPARE_KEYS, ConfigError

if TYPE_CHECKING:
    from vpbench.pipeline.plan import Plan


def compare_overrides(config: Mapping[str, Any]) -> dict[str, Any]:
    """The compare keys set in ``config`` (those given with ``--config``, and what the Snakefile resolved for them)."""
    return {key: config[key] for key in COMPARE_KEYS if config.get(key) is not None}


class CompareOverride:
    """The ``--override`` of ``plan``'s compare keys, and for each job whether its command needs it."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.values = compare_overrides(plan.config)
        self.argument = f"--override {shlex.quote(json.dumps(self.values, sort_keys=True))}" if self.values else ""

    @cached_property
    def base(self) -> Plan | None:
        """The same plan without the compare keys (built once, on the first question; None: it does not hold
        without them, so every job depends on them)."""
        from vpbench.pipeline.plan import Plan

        config = {key: value for key, value in self.plan.config.items() if key not in self.values}
        try:
            return Plan(config, root=self.plan.root, method_checks="skip")
        except ConfigError:
            return None

    def depends(self, answer: Callable[[Plan], Any]) -> bool:
        """Whether ``answer`` (what a job makes, from a plan) differs without the compare keys, or has none."""
        if not self.values:
            return False
        if self.base is None:
            return True
        try:
            without = answer(self.base)
        except ConfigError:  # e.g. the compared method's experiment: unknown without them
            return True
        return without != answer(self.plan)

    def argument_if(self, answer: Callable[[Plan], Any]) -> str:
        """``--override ...`` when ``answer`` depends on the compare keys, else nothing."""
        return self.argument if self.depends(answer) else ""

    # -- the jobs that read the config themselves --------------------------------------------------------------
    def spec(self, experiment: str) -> str:
        """``vpbench spec <experiment>``: the resolved spec it writes."""
        return self.argument_if(lambda plan: plan.experiment_spec(experiment))

    def table(self, name: str) -> str:
        """``vpbench render <table>``: the table plan it renders."""
        return self.argument_if(lambda plan: plan.artefacts.table_plan(name))

    def figure(self, name: str) -> str:
        """``vpbench render <figure>``: the figure plan it renders."""
        return self.argument_if(lambda plan: plan.artefacts.figure_plan(name))
