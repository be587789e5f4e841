"""The Snakemake graph: lint-clean, the full reproduction lists every experiment, one artefact pulls only its inputs."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, SMOKE_CONFIG, Workflow, job_counts, requires_snakemake
from vpbench.pipeline.jobs import JobGraph
from vpbench.pipeline.plan import Plan

pytestmark = requires_snakemake


def test_lint_is_clean(workflow: Workflow) -> None:
    result = workflow.snakemake("--lint", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dry_run_lists_the_full_reproduction(workflow: Workflow) -> None:
    plan = Plan.from_files([ROOT / "config/config.yaml"], root=ROOT)
    result = workflow.snakemake("-n", "--directory", str(workflow.root), "--rerun-triggers", "mtime", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    # the planner's job graph (the estimate, docs/pipeline.md's counts) is Snakemake's DAG, rule by rule
    assert counts == JobGraph(plan).counts()
    trained = {e.id for e in plan.experiment_set.by_id.values() if e.trained_here}
    assert counts["train"] == len(trained)
    assert counts["table"] == len(plan.artefacts.tables) == 13
    assert counts["figure"] == len(plan.artefacts.figures) == 7
    for experiment in ("dmvfn-city", "dmvfn-routing_none-kitti", "dvf-ucf101", "prednet-kitti", "dmvfn-scales_1_2_4-ucf101", "dmvfn-ucfsports"):
        assert f"results/checkpoints/{experiment}/final.pt" in result.stdout
    assert "results/scores/dmvfn-official-city/cityscapes.parquet" in result.stdout
    assert "GPU-hours estimate of the full run" in result.stderr


def test_one_table_pulls_only_its_experiments(workflow: Workflow) -> None:
    result = workflow.snakemake("-n", "reports/tables/table6.md", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    plan = Plan.from_files([ROOT / "config/config.yaml"], root=ROOT, method_checks="skip")
    assert counts == JobGraph(plan).counts(["reports/tables/table6.md"])
    # the estimate printed is that of the table's jobs, with the full run's beside it
    estimate = plan.estimate_targets(["reports/tables/table6.md"])
    assert f"GPU-hours estimate of reports/tables/table6.md" in result.stderr and estimate.headline() in result.stderr
    assert "Full run: " + plan.estimate_targets([]).headline() in result.stderr
    assert estimate.train_jobs == counts["train"] and estimate.eval_jobs == counts["evaluate"]
    # Table 6: [1], [2, 1] and [4, 2, 1] (= dmvfn) on Cityscapes and KITTI.
    assert counts["train"] == 6 and counts["table"] == 1
    assert "figure" not in counts and "predictions" not in counts
    assert "dvf-" not in result.stdout


def test_bad_config_stops_the_workflow_with_the_key(tmp_path: Path, workflow: Workflow) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMOKE_CONFIG.read_text() + "\nlearning_rate: 0.1\n")
    result = workflow.snakemake("-n", "--configfile", str(bad), timeout=300)
    assert result.returncode != 0
    assert "learning_rate" in result.stdout + result.stderr
