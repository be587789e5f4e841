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


# -- what the planner asks of a plugin method, answered once per run ----------------------------------------------
# The main Snakemake process's plan asks one child Python (torch and the method: seconds), which checks the planned
# methods and answers whether each one that is not built in trains and routes; the main process passes the answers on
# in the environment, so that a job re-reading the Snakefile (a cluster job is a Snakemake process) takes them.
# tests/test_pipeline_torch_free.py runs the whole way in a fresh process; here, which answers are taken.
EXAMPLE_METHOD = "vpbench_example_method:build"


def test_passed_answers_are_taken_for_the_same_method_and_options_only(monkeypatch) -> None:
    from models import registry
    from vpbench.pipeline import checks

    asked: list[str] = []

    def resolve(name: str):  # the method itself, asked only when no answer fits
        asked.append(name)

        def factory(**options):
            raise AssertionError("only the factory's attributes are read")

        factory.routed, factory.trainable = False, True
        return factory

    monkeypatch.setattr(registry, "GIVEN_ANSWERS", {})
    monkeypatch.setattr(registry, "resolve_factory", resolve)
    passed = [{"method": "pkg.mod:build", "options": {"width": 8}, "routed": True, "trainable": False},
              {"method": "pkg.bad:build", "options": {}, "routed": "yes", "trainable": False},  # not a bool: ignored
              "not an entry"]
    monkeypatch.setenv(checks.METHOD_ANSWERS_ENV, json.dumps(passed))
    checks.take_passed_answers()
    assert registry.is_routed("pkg.mod:build", {"width": 8}) is True
    assert registry.is_trainable("pkg.mod:build", {"width": 8}) is False
    config = {"method": "pkg.mod:build", "method_options": "{width: 8}"}
    checks.resolve_method_trained(config)  # what the Snakefile sets for the jobs' commands, from the same answer
    assert config["method_trained"] is False and asked == []
    # other options, another method, or a malformed entry: the method itself is asked
    assert registry.is_routed("pkg.mod:build", {"width": 16}) is False
    assert registry.is_trainable("pkg.other:build", {}) is True
    assert registry.is_routed("pkg.bad:build", {}) is False
    assert asked == ["pkg.mod:build", "pkg.other:build", "pkg.bad:build"]
    # a malformed value is ignored, never trusted; built-in methods never need an answer
    monkeypatch.setattr(registry, "GIVEN_ANSWERS", {})
    monkeypatch.setenv(checks.METHOD_ANSWERS_ENV, "{not json")
    checks.take_passed_answers()
    assert registry.GIVEN_ANSWERS == {}
    assert registry.is_routed("dmvfn", {"routing": "stebs"}) is True and registry.is_trainable("copy_last", {}) is False
    assert len(asked) == 3


def test_the_child_answers_for_the_plugin_methods_it_checked(monkeypatch, tmp_path: Path) -> None:
    """The child's reply (run here, where torch is imported anyway): the compared plugin's answers, none for the
    built-ins, and the first failing check."""
    from tests.conftest import smoke_config
    from vpbench.pipeline import checks
    from vpbench.pipeline.config import read_validated

    monkeypatch.syspath_prepend(str(ROOT / "examples" / "example-method"))
    config = {**smoke_config(tmp_path), "method": EXAMPLE_METHOD, "method_options": "{width: 8}", "compare_protocols": ["kitti"]}
    variants = read_validated(ROOT / config["experiments_file"], "experiments.schema.json")["variants"]
    reply = checks.answer_in_child(config, variants)
    assert reply == {"answers": [{"method": EXAMPLE_METHOD, "options": {"width": 8}, "routed": False, "trainable": True}],
                     "message": None, "unplanned": None}
    bad = checks.answer_in_child({**config, "method_options": "{depth: 3}"}, variants)
    assert "method_options.depth" in bad["message"] and bad["answers"][0]["trainable"] is True
    unknown = checks.answer_in_child({**config, "compare_protocols": ["nowhere"]}, variants)
    assert "compare_protocols" in unknown["unplanned"] and unknown["message"] is None

