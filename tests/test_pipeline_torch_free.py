"""The planner the Snakefile imports never imports torch; methods are checked in a child process instead."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from models.registry import BUILTIN_METHODS, create_method, is_routed
from models.routing_choices import ROUTING_METHODS
from vpbench.pipeline.config import ConfigError, load_config
from vpbench.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("config", ["config/config.yaml", "config/smoke.yaml"])
def test_what_the_snakefile_imports_and_asks_never_imports_torch(config: str) -> None:
    code = (
        "import sys\n"
        "from vpbench.pipeline.config import load_config\n"
        "from vpbench.pipeline.plan import Plan\n"
        "from vpbench.pipeline.resources import JobResources\n"
        f"plan = Plan(load_config([{config!r}]), method_checks='child')\n"
        "plan.artefacts.artefact_inputs(); plan.artefacts.report_targets(); plan.estimate()\n"
        "[e.routed for e in plan.experiment_set.by_id.values()]\n"
        "resources = JobResources(plan.config, plan)\n"
        "[resources.train(e) for e, x in plan.experiment_set.by_id.items() if x.trained_here]\n"
        "print('torch' in sys.modules)\n"
    )
    assert run_python(code) == "False"


def test_the_workflows_spec_job_does_not_import_torch(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    code = (
        "import sys\n"
        "from vpbench.cli import main\n"
        f"rc = main(['spec', 'dmvfn-kitti', '--config', 'config/smoke.yaml', '--no-method-checks', '--out', {str(out)!r}])\n"
        "assert rc == 0\n"
        "print('torch' in sys.modules)\n"
    )
    assert run_python(code) == "False"
    assert json.loads(out.read_text())["id"] == "dmvfn-kitti"


def test_a_bad_method_option_is_found_by_the_child_check_and_named() -> None:
    config = load_config(["config/smoke.yaml"])
    config["method"] = "dmvfn"
    config["method_name"] = "dmvfn_wide"
    config["method_options"] = {"beta": 2.0}
    with pytest.raises(ConfigError, match=r"method_options\.beta .*beta must be in \(0, 1\]"):
        Plan(config, method_checks="child")
    with pytest.raises(ConfigError, match=r"method_options\.beta .*beta must be in \(0, 1\]"):
        Plan(config, method_checks="here")
    Plan(config, method_checks="skip")  # a workflow job trusts its main process


@pytest.mark.parametrize("routing", [*ROUTING_METHODS, None])
def test_the_planner_knows_routedness_as_the_built_method_does(routing: str | None) -> None:
    options = {} if routing is None else {"routing": routing}
    assert is_routed("dmvfn", options) == create_method("dmvfn", **options).routed


@pytest.mark.parametrize("name", sorted(set(BUILTIN_METHODS) - {"dmvfn"}))
def test_baselines_are_not_routed(name: str) -> None:
    assert is_routed(name, {}) is False and create_method(name).routed is False


def test_every_table_and_figure_kind_is_planned_and_rendered() -> None:
    """A kind is one record (its module under vpbench/reporting/kinds): how the planner finds its cells and how the
    renderer computes or draws it, neither without the other; and what the planner imports of the kinds pulls in
    neither torch nor pandas nor matplotlib (their renderers import them when called)."""
    from vpbench.reporting.kinds import FIGURE_KINDS, TABLE_KINDS

    assert set(TABLE_KINDS.names()) >= {"metrics", "usage", "beta"}
    assert set(FIGURE_KINDS.names()) >= {"efficiency", "predictions", "usage", "flow", "beta"}
    for name in TABLE_KINDS:
        kind = TABLE_KINDS.get(name)
        assert kind.name == name and callable(kind.plan) and callable(kind.build), name
    for name in FIGURE_KINDS:
        kind = FIGURE_KINDS.get(name)
        assert kind.name == name and callable(kind.plan) and callable(kind.draw), name
    code = (
        "import sys\n"
        "import vpbench.pipeline.artefacts, vpbench.reporting.kinds\n"
        "print(sorted(m for m in ('torch', 'pandas', 'matplotlib', 'scipy') if m in sys.modules))\n"
    )
    assert run_python(code) == "[]"
