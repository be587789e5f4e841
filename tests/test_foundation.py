"""Project set-up: dependency lists agree, the README starts with the two commands, CI calls `make test`."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_packages_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    from_env = {r.replace(" ", "") for r in pip_section if not r.startswith("-e")}
    from_pyproject = {r.replace(" ", "") for r in project["dependencies"]}
    assert from_env == from_pyproject


def test_pyproject_admits_the_pinned_torch() -> None:
    from packaging.requirements import Requirement

    deps = {_name(r): Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert deps["torch"].specifier.contains("2.14.1")
    assert deps["torchvision"].specifier.contains("0.29.1")
    for chosen in ("datasets", "pandas", "lpips", "pytorch-msssim", "fvcore", "ptflops", "matplotlib", "snakemake", "pytest"):
        assert chosen in deps, chosen


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:12])
    assert "make smoke" in head and "make test" in head


def test_ci_runs_make_test_and_make_creates_the_venv() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "-m venv" in makefile and re.search(r"^test:", makefile, re.M) and re.search(r"^smoke:", makefile, re.M)
    # `make test-fast`: the same suite without the end-to-end runs and the Snakemake / torchrun integration tests
    assert re.search(r'^test-fast:.*\n\t.*pytest -q -m "not slow and not integration"$', makefile, re.M)
    # `make test-release`: the whole-release tests, which `make test` skips; CI runs them too
    assert re.search(r"^test-release:.*\n\t.*pytest -q -m release ", makefile, re.M)
    assert "make test-release" in (ROOT / ".ci" / "run").read_text()


def test_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["vpbench"] == "vpbench.cli:main"


def test_ci_runs_only_the_readmes_test_commands() -> None:
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:40])
    commands = re.findall(r"^make [\w-]+$", (ROOT / ".ci" / "run").read_text(), re.M)
    assert "make test-report" in commands
    for command in commands:
        assert re.search(rf"^\s+{command}\b", head, re.M), f"{command}: CI runs it, the README's first lines do not show it"
