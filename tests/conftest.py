"""Shared fixtures of the test suite: the Snakemake workflow run offline in a throwaway copy of the repository, and
the smoke datasets built and prepared once per session.

Pipeline runs never write into the checkout: snakemake works in a copy of ``Snakefile``, ``workflow/`` and
``config/`` (its ``.snakemake/`` state and every relative output, such as the smoke config's official-format
stand-in, land in that copy), with the checkout's code imported. The smoke data (raw trees cut from the offline
clips, every dataset of ``config/smoke.yaml`` prepared) is made once per session by the commands of the pipeline's
``smoke_data`` and ``prepare`` jobs; tests only read it, and a pipeline run works on its own copy
(``SmokeData.install``), so no test sees another's outputs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from vpbench.pipeline.config import copy_workflow, load_config
from vpbench.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SMOKE_CONFIG = ROOT / "config" / "smoke.yaml"
#: what a pipeline run reads from the repository (the code is imported from the checkout, see offline_env)
PATH_KEYS = ("raw", "prepared", "results", "reports")

requires_snakemake = pytest.mark.skipif(not SNAKEMAKE.exists(), reason="snakemake is not installed next to this python")


def offline_env(*pythonpath: str | Path) -> dict[str, str]:
    """A pipeline run's environment: this venv's commands first on PATH, the checkout (and ``pythonpath``)
    importable whatever the installed copy points to, no network, one thread per process."""
    path = os.pathsep.join([str(SNAKEMAKE.parent), os.environ.get("PATH", "")])
    python = os.pathsep.join(filter(None, [*map(str, pythonpath), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return dict(os.environ, PATH=path, PYTHONPATH=python, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                OMP_NUM_THREADS="1")


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of snakemake's output (stdout of a dry run, stderr of a run): {rule: jobs}."""
    table = output[output.index("Job stats:") :].split("\n\n", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, flags=re.M) if m[1] != "total"}


def job_wildcards(output: str) -> list[tuple[str, dict[str, str]]]:
    """Each job of snakemake's output (a run's stderr or a dry run's stdout): (rule, its wildcards)."""
    jobs = []
    for block in re.split(r"^(?:local)?rule ", output, flags=re.M)[1:]:
        rule, _, body = block.partition(":")
        found = re.search(r"^\s+wildcards: (.*)$", body.split("\n\n", 1)[0], flags=re.M)
        wildcards = dict(item.split("=", 1) for item in found[1].split(", ")) if found else {}
        jobs.append((rule, wildcards))
    return jobs


def smoke_config(folder: Path) -> dict[str, Any]:
    """``config/smoke.yaml`` with every path it writes (raw, prepared, results, reports, the official-format
    stand-in) under ``folder``."""
    config = load_config([SMOKE_CONFIG])
    config["paths"] = {key: str(folder / key) for key in PATH_KEYS}
    if config.get("official_weights"):
        config["official_weights"]["dir"] = str(folder / "official-standin")
    return config


@dataclass(frozen=True)
class Workflow:
    """A copy of the repository's workflow files; snakemake runs with it as working directory."""

    root: Path

    @classmethod
    def copy_to(cls, folder: Path) -> Workflow:
        return cls(copy_workflow(folder))

    def write_config(self, config: dict[str, Any], name: str = "config.yaml") -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump(config))
        return path

    def snakemake(self, *args: str, pythonpath: tuple[str | Path, ...] = (), timeout: int = 900) -> subprocess.CompletedProcess:
        return subprocess.run([str(SNAKEMAKE), *args], cwd=self.root, env=offline_env(*pythonpath), capture_output=True,
                              text=True, timeout=timeout)

    def smoke(self, config_file: Path, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        """``make smoke``'s command line (smoke profile, 2 cores) on ``config_file``."""
        return self.snakemake("--profile", "workflow/profiles/smoke", "--configfile", str(config_file), "--cores", "2",
                              *args, **kwargs)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that runs Snakemake (it asks for a ``workflow``) is an integration test: ``make test-fast`` skips it.
    Whole-release tests (marked ``release``) run only when a ``-m`` expression names them (``make test-release``)."""
    run_release = "release" in (config.getoption("markexpr", "") or "")
    for item in items:
        if "workflow" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
        if not run_release and item.get_closest_marker("release"):
            item.add_marker(pytest.mark.skip(reason="whole-release test: run `make test-release` (pytest -m release)"))


@pytest.fixture
def workflow(tmp_path: Path) -> Workflow:
    return Workflow.copy_to(tmp_path / "repo")


@dataclass(frozen=True)
class SmokeData:
    """The smoke raw trees and prepared datasets (``paths.raw`` and ``paths.prepared`` of a smoke run)."""

    raw: Path
    prepared: Path

    def install(self, config: dict[str, Any], prepared: bool = True, unprepared: Sequence[str] = ()) -> None:
        """Copy the raw trees (and the prepared ones, but for the datasets named in ``unprepared``) to ``config``'s
        paths, times kept: a pipeline run on that config finds them up to date."""
        for key in ("raw", "prepared") if prepared else ("raw",):
            ignore = shutil.ignore_patterns(*unprepared) if key == "prepared" and unprepared else None
            shutil.copytree(getattr(self, key), config["paths"][key], ignore=ignore)


@pytest.fixture(scope="session")
def smoke_data(tmp_path_factory: pytest.TempPathFactory) -> SmokeData:
    """Every dataset of ``config/smoke.yaml``, built and prepared once per session by the commands of the pipeline's
    ``smoke_data`` and ``prepare`` jobs, run in this process (a job would pay seconds of start-up each)."""
    from vpbench.cli import main

    folder = tmp_path_factory.mktemp("smoke-data")
    config = smoke_config(folder)
    assert main(["smoke-data", "--out", config["paths"]["raw"]]) == 0
    prepare_smoke_datasets(config, list(config["datasets"]))
    return SmokeData(Path(config["paths"]["raw"]), Path(config["paths"]["prepared"]))


def prepare_smoke_datasets(config: dict[str, Any], datasets: Sequence[str]) -> None:
    """Prepare ``datasets`` of a smoke ``config`` from its raw trees with the command of the pipeline's prepare job,
    run in this process (a job would pay seconds of start-up each)."""
    from vpbench.cli import main

    plan = Plan(config, root=ROOT)
    for dataset in datasets:
        options = config["datasets"][dataset]
        # the prepare rule's command line (workflow/rules/common.smk, prepare_args) for a smoke run
        size = ["--size", options["size"]] if options.get("size") else []
        subset = ["--subset"] if options.get("subset") else []
        command = ["prepare", dataset, "--root", plan.paths.raw_dir(dataset), "--out", plan.paths.prepared_dir(dataset),
                   *size, *subset]
        # --jobs 1: what the smoke profile's one-CPU prepare job passes (here: no worker pool to start per dataset)
        assert main([*command, "--jobs", "1", "--no-download"]) == 0, dataset


#: a dataset the shared smoke run does not use, left unprepared there: the compare invocation in that run asks for
#: it, so that the prepare rule runs once end to end from the session's raw trees (tests/test_compare_e2e.py)
UNPREPARED_DATASET = "human36m"
#: the datasets the shared smoke run evaluates on, prepared smaller than the smoke size for it
SMALL_KITTI = ("kitti", "kitti_a")


class SmokeRun(NamedTuple):
    """A finished smoke run: its plan (without compare keys), its workflow copy and its config file."""

    plan: Plan
    workflow: Workflow
    config_file: Path


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, smoke_data: SmokeData) -> SmokeRun:
    """A reduced smoke graph through the real vpbench commands, run once per session: the pipeline end to end
    (tests/test_pipeline_e2e.py), then ``snakemake compare`` in the same finished run (tests/test_compare_e2e.py),
    which reuses its DMVFN, copy-last and official-format stand-in."""
    tmp = tmp_path_factory.mktemp("smoke")
    workflow = Workflow.copy_to(tmp / "repo")
    config = smoke_config(tmp)
    # Reduced graph: DMVFN (routed), its beta variant and copy-last-frame on KITTI; every table and figure.
    config["select"] = {"variants": ["dmvfn", "dmvfn-beta_0.3", "copy_last"], "configurations": ["kitti"]}
    # No check reads a trained number: a few steps, one routing seed; two clips are the fewest with an interval.
    config["recipes"]["smoke"].update(max_steps=3, checkpoint_every=3, log_every=1, max_clips=2)
    config["evaluation"].update(routing_seeds=[0], max_clips=2)
    # KITTI at 176x176, prepared here from the session's raw trees by the prepare job's command: every evaluation,
    # the compared DVF's and PredNet's included, scores a third of the pixels of the smoke size.
    for dataset in SMALL_KITTI:
        config["datasets"][dataset]["size"] = config["protocols"][dataset]["size"] = "176x176"
    smoke_data.install(config, unprepared=[*SMALL_KITTI, UNPREPARED_DATASET])
    prepare_smoke_datasets(config, SMALL_KITTI)
    path = workflow.write_config(config, "e2e.yaml")
    result = workflow.smoke(path)
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    plan = Plan(config, root=workflow.root)
    ran = job_counts(result.stderr)
    assert ran["train"] == sum(e.trained_here for e in plan.experiment_set.by_id.values())
    assert "prepare" not in ran and "smoke_data" not in ran  # the session's data is the pipeline's own, up to date
    return SmokeRun(plan, workflow, path)
