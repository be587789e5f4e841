"""The CLI's parser is built without the heavy modules: every workflow job starts a ``vpbench`` process, and
``--help`` or a usage error must not wait for torch. Each check runs in a fresh interpreter, since this test
process has long imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "numpy", "pandas", "scipy", "matplotlib")

# Prints {"heavy": [...], ...} after the snippet ran; the snippet may add entries to `report`.
_HARNESS = """
import contextlib, io, json, sys
report = {{}}
{snippet}
report["heavy"] = sorted(name for name in {heavy!r} if name in sys.modules)
print(json.dumps(report))
"""


def _fresh(snippet: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", _HARNESS.format(snippet=snippet, heavy=HEAVY)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_building_the_parser_imports_no_heavy_module() -> None:
    report = _fresh(
        "import vpbench.cli\n"
        "parser = vpbench.cli.build_parser()\n"
        "report['commands'] = sorted(parser._subparsers._group_actions[0].choices)\n"
    )
    assert report["heavy"] == []
    assert {"complexity", "train", "evaluate", "render", "official-weights", "prepare"} <= set(report["commands"])


def test_data_prep_registers_its_commands_without_heavy_modules() -> None:
    report = _fresh(
        "import argparse, data_prep.cli\n"
        "parser = argparse.ArgumentParser()\n"
        "data_prep.cli.register(parser.add_subparsers())\n"
        "report['commands'] = sorted(parser._subparsers._group_actions[0].choices)\n"
    )
    assert report["heavy"] == []
    assert report["commands"] == ["prepare", "smoke-data"]


def test_every_command_help_imports_no_heavy_module() -> None:
    report = _fresh(
        "import vpbench.cli\n"
        "commands = sorted(vpbench.cli.build_parser()._subparsers._group_actions[0].choices)\n"
        "report['exits'] = {}\n"
        "for command in commands:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        try:\n"
        "            vpbench.cli.main([command, '--help'])\n"
        "        except SystemExit as stop:\n"
        "            report['exits'][command] = [stop.code, 'usage:' in out.getvalue()]\n"
    )
    assert report["heavy"] == []
    assert len(report["exits"]) >= 6
    assert all(code == 0 and usage for code, usage in report["exits"].values()), report["exits"]


def test_a_bad_size_is_a_usage_error_before_any_heavy_import() -> None:
    report = _fresh(
        "import vpbench.cli\n"
        "with contextlib.redirect_stderr(io.StringIO()) as err:\n"
        "    try:\n"
        "        vpbench.cli.main(['complexity', 'dmvfn', '--size', '512*1024'])\n"
        "    except SystemExit as stop:\n"
        "        report['code'] = stop.code\n"
        "report['stderr'] = err.getvalue()\n"
    )
    assert report["heavy"] == []
    assert report["code"] == 2
    assert "size must be HEIGHTxWIDTH" in report["stderr"] and "512*1024" in report["stderr"]


def test_every_classified_error_name_is_an_exception_class() -> None:
    """The CLI classifies errors by class name (so that it imports nothing); a moved class must not go unnoticed."""
    import builtins
    import importlib

    from vpbench.cli import FAILURES, USER_ERRORS

    for name in sorted(USER_ERRORS | FAILURES):
        module, _, qualname = name.rpartition(".")
        owner = builtins if module == "builtins" else importlib.import_module(module)
        cls = getattr(owner, qualname, None)
        assert isinstance(cls, type) and issubclass(cls, BaseException), name


def _subcommands() -> dict:
    import vpbench.cli

    return dict(vpbench.cli.build_parser()._subparsers._group_actions[0].choices)


def test_every_command_has_a_description_and_shared_options_share_their_defaults() -> None:
    defaults: dict[str, dict[str, object]] = {}
    for name, parser in _subcommands().items():
        assert parser.description and len(parser.description) > 40, f"vpbench {name} has no description"
        for action in parser._actions:
            if action.option_strings and action.dest not in ("help",):
                defaults.setdefault(action.option_strings[-1], {})[name] = action.default
    # the same option means the same default wherever it appears (evaluate --device was cpu, train --device auto)
    assert len(set(map(repr, defaults["--device"].values()))) == 1, defaults["--device"]


def test_compare_command_runs_the_compare_target_in_the_chosen_configuration() -> None:
    from vpbench.commands.compare import snakemake_command

    parser = _subcommands()["compare"]
    smoke = snakemake_command(parser.parse_args(["mean_two:build", "--untrained", "--protocols", "kitti"]))
    assert smoke[1:8] == ["-m", "snakemake", "compare", "--profile", "workflow/profiles/smoke", "--configfile", "config/smoke.yaml"]
    assert smoke[-4:] == ["--config", "method=mean_two:build", "method_trained=false", "compare_protocols=[kitti]"]
    paper = snakemake_command(parser.parse_args(["my_method", "--paper", "-n"]))
    assert "config/config.yaml" in paper and "workflow/profiles/local" in paper and "-n" in paper


# -- a compared method's `method_trained`, resolved once per run --------------------------------------------------
# The Snakefile resolves it in a child Python (torch and the method: seconds); the main Snakemake process passes its
# answer on in the environment, so that a job re-reading the Snakefile (a cluster job is a Snakemake process) skips it.
EXAMPLE_METHOD = "vpbench_example_method:build"


def _no_child(*args, **kwargs):
    raise AssertionError("a child Python was started although the answer was passed on")


def test_a_passed_answer_is_taken_for_the_same_method_and_options_only(monkeypatch) -> None:
    from vpbench.pipeline import checks

    monkeypatch.setenv(checks.METHOD_TRAINED_ENV, json.dumps({"method": "pkg.mod:build", "options": {"width": 8},
                                                               "trained": False}))
    monkeypatch.setattr(checks.subprocess, "run", _no_child)
    config = {"method": "pkg.mod:build", "method_options": "{width: 8}"}
    checks.resolve_method_trained(config)
    assert config["method_trained"] is False
    # other options (or another method) are asked again, and the new answer is the one passed on
    asked = []

    def child(command, input, **kwargs):
        asked.append(json.loads(input))
        return subprocess.CompletedProcess(command, 0, stdout="true\n", stderr="")

    monkeypatch.setattr(checks.subprocess, "run", child)
    for other in ({"method": "pkg.mod:build", "method_options": {"width": 16}}, {"method": "pkg.other:build"}):
        checks.resolve_method_trained(other)
        assert other["method_trained"] is True
    assert asked == [{"method": "pkg.mod:build", "options": {"width": 16}}, {"method": "pkg.other:build", "options": {}}]
    assert json.loads(os.environ[checks.METHOD_TRAINED_ENV]) == {"method": "pkg.other:build", "options": {}, "trained": True}
    # a malformed value is ignored, never trusted
    monkeypatch.setenv(checks.METHOD_TRAINED_ENV, "{not json")
    malformed = {"method": "pkg.mod:build", "method_options": {"width": 8}}
    checks.resolve_method_trained(malformed)
    assert malformed["method_trained"] is True and len(asked) == 3


def test_a_job_given_the_main_processs_answer_plans_the_same_graph(monkeypatch, tmp_path: Path) -> None:
    from tests.conftest import smoke_config
    from vpbench.pipeline import checks
    from vpbench.pipeline.plan import Plan

    monkeypatch.syspath_prepend(str(ROOT / "examples" / "example-method"))
    monkeypatch.delenv(checks.METHOD_TRAINED_ENV, raising=False)

    def config() -> dict:
        return {**smoke_config(tmp_path), "method": EXAMPLE_METHOD, "method_options": "{width: 8}",
                "compare_protocols": ["kitti"]}

    def child(command, input, **kwargs):  # the main process's child Python, answered in this process (torch is here)
        from models.registry import is_trainable

        job = json.loads(input)
        return subprocess.CompletedProcess(command, 0, stdout=json.dumps(is_trainable(job["method"], job["options"])), stderr="")

    monkeypatch.setattr(checks.subprocess, "run", child)
    main = config()
    checks.resolve_method_trained(main)  # the main process: asks its child
    assert main["method_trained"] is True and checks.METHOD_TRAINED_ENV in os.environ
    monkeypatch.setattr(checks.subprocess, "run", _no_child)
    job = config()
    checks.resolve_method_trained(job)  # a job process: inherits the answer
    assert job == main
    plans = [Plan(c, method_checks="skip") for c in (main, job)]
    assert [sorted(p.experiments) for p in plans][0] == sorted(plans[1].experiments)
    assert "vpbench_example_method.build-kitti" in plans[0].experiments
    for experiment in plans[0].experiments:
        assert plans[0].experiment_spec(experiment) == plans[1].experiment_spec(experiment), experiment
    assert plans[0].compare_plan() == plans[1].compare_plan()
    assert plans[0].estimate_targets(["compare"]).rule_counts == plans[1].estimate_targets(["compare"]).rule_counts
