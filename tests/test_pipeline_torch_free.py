"""The planner the Snakefile imports never imports torch; methods are checked in a child process instead."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.registry import BUILTIN_METHODS, create_method, is_routed
from models.routing_choices import ROUTING_METHODS
from vpbench.pipeline.config import ConfigError, load_config
from vpbench.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, pythonpath: tuple[str | Path, ...] = ()) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (ROOT, *pythonpath, os.environ.get("PYTHONPATH", ""))))}
    env.pop("VPBENCH_METHOD_ANSWERS", None)  # a fresh process, as Snakemake's main process starts
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
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


# -- a plugin method as the compared one: the planner asks its child, and passes the answers on to the jobs ----------
EXAMPLE_PLUGIN = ROOT / "examples" / "example-method"
#: a routed plugin with nothing to train, declared on its factory (the example plugin routes not and trains)
ROUTED_PLUGIN = """
from vpbench_example_method import build as _build


def build(**options):
    return _build(**options)


build.routed = True
build.trainable = False
"""
PLUGINS = ("vpbench_example_method:build", "routed_plugin:build")


def describe(plan, config: dict) -> dict:
    """What the workflow's graph takes from the answers about the compared method: whether it is trained (the
    Snakefile's ``method_trained``, passed to the jobs' commands), the jobs of ``compare`` and each complexity job's
    inputs (a routed method's read its score file)."""
    from vpbench.pipeline.jobs import Job, JobGraph

    graph, experiments = JobGraph(plan), plan.experiment_set
    compared = sorted(e for e, x in experiments.by_id.items() if x.variant == experiments.comparison.name)
    return {
        "method_trained": config.get("method_trained"),
        "sources": {e: experiments.get(e).source for e in compared},
        "compare_jobs": plan.estimate_targets(["compare"]).rule_counts,
        "complexity_inputs": {f"{e} {p}": graph.inputs(Job("complexity", (e, p)))
                              for e in compared for p in experiments.get(e).protocols},
    }


def compare_config(method: str) -> dict:
    return {**load_config(["config/smoke.yaml"]), "method": method, "compare_protocols": ["kitti"]}


def test_a_plugin_method_is_planned_without_torch_and_its_jobs_plan_the_same_graph(tmp_path: Path, monkeypatch) -> None:
    """As the Snakefile does: the main process's plan asks one child Python about the plugin (it checks and answers),
    then a job process, given only what the main process passed on in its environment, plans the same graph; neither
    imports torch. The graph is the one planned with the plugin imported here."""
    from models import registry
    from vpbench.pipeline.checks import resolve_method_trained

    (tmp_path / "routed_plugin.py").write_text(ROUTED_PLUGIN)
    code = (
        "import json, os, subprocess, sys\n"
        "from models import registry\n"
        "from vpbench.pipeline.checks import resolve_method_trained\n"
        "from vpbench.pipeline.config import load_config\n"
        "from vpbench.pipeline.plan import Plan\n"
        f"{inspect.getsource(describe)}\n{inspect.getsource(compare_config)}\n"
        "report = {}\n"
        f"for method in {PLUGINS!r}:\n"
        "    config = compare_config(method)\n"
        "    plan = Plan(config, method_checks='child')  # the Snakefile's main process\n"
        "    resolve_method_trained(config)\n"
        "    report[method] = {'main': describe(plan, config)}\n"
        "    registry.GIVEN_ANSWERS.clear()  # a job process: only the environment holds the answers\n"
        "    config = compare_config(method)\n"
        "    plan = Plan(config, method_checks='skip')\n"
        "    resolve_method_trained(config)\n"
        "    report[method]['job'] = describe(plan, config)\n"
        "report['torch'] = 'torch' in sys.modules\n"
        "print(json.dumps(report))\n"
    )
    report = json.loads(run_python(code, pythonpath=(EXAMPLE_PLUGIN, tmp_path)))
    assert report.pop("torch") is False
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "GIVEN_ANSWERS", {})  # asked here, of the imported plugins
    for method in PLUGINS:
        config = compare_config(method)
        plan = Plan(config, method_checks="here")
        here = json.loads(json.dumps(describe(plan, config)))
        resolve_method_trained(config)
        here["method_trained"] = config["method_trained"]
        assert report[method]["main"] == here, method
        assert report[method]["job"] == here, method
    unrouted, routed = (report[method]["main"] for method in PLUGINS)
    assert unrouted["method_trained"] is True and set(unrouted["sources"].values()) == {"retrained"}
    assert not any(unrouted["complexity_inputs"].values()) and unrouted["compare_jobs"]["train"] >= 1
    assert routed["method_trained"] is False and set(routed["sources"].values()) == {"untrained"}
    assert routed["complexity_inputs"] and all(inputs == [plan.paths.score_file(*key.split())]
                                               for key, inputs in routed["complexity_inputs"].items())
    assert routed["compare_jobs"]["train"] == unrouted["compare_jobs"]["train"] - 1


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
