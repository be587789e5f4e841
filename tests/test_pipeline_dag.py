"""The Snakemake graph: lint-clean, the full reproduction lists every experiment, one artefact pulls only its inputs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from vpbench.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def snakemake(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{SNAKEMAKE.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(SNAKEMAKE), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a dry run."""
    stats = output[output.index("Job stats:") :]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, flags=re.M) if m[1] != "total"}


pytestmark = pytest.mark.skipif(not SNAKEMAKE.exists(), reason="snakemake is not installed next to this python")


def test_lint_is_clean() -> None:
    result = snakemake("--lint")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_the_full_reproduction() -> None:
    plan = Plan.from_files(["config/config.yaml"], root=ROOT)
    result = snakemake("-n", "--directory", str(ROOT), "--rerun-triggers", "mtime")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    trained = {e.id for e in plan.experiments.values() if e.trained_here}
    assert counts["train"] == len(trained)
    assert counts["table"] == len(plan.tables) == 13
    assert counts["figure"] == len(plan.figures) == 7
    for experiment in ("dmvfn-city", "dmvfn-routing_none-kitti", "dvf-ucf101", "prednet-kitti", "dmvfn-scales_1_2_4-ucf101", "dmvfn-ucfsports"):
        assert f"results/checkpoints/{experiment}/final.pt" in result.stdout
    assert "results/scores/dmvfn-official-city/cityscapes.parquet" in result.stdout
    assert "GPU-hours estimate" in result.stderr


def test_one_table_pulls_only_its_experiments() -> None:
    result = snakemake("-n", "reports/tables/table6.md")
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    # Table 6: [1], [2, 1] and [4, 2, 1] (= dmvfn) on Cityscapes and KITTI.
    assert counts["train"] == 6 and counts["table"] == 1
    assert "figure" not in counts and "predictions" not in counts
    assert "dvf-" not in result.stdout


def test_bad_config_stops_the_workflow_with_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "config/smoke.yaml").read_text() + "\nlearning_rate: 0.1\n")
    result = snakemake("-n", "--configfile", str(bad))
    assert result.returncode != 0
    assert "learning_rate" in result.stdout + result.stderr
