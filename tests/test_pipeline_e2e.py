"""End to end: a reduced smoke graph through the real vpbench commands, every artefact written and traceable.

Slow (minutes on 2 cores): trains DMVFN for a few steps on the session's prepared smoke data (KITTI) and evaluates
every experiment on two clips.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SmokeData, Workflow, job_counts, smoke_config
from vpbench.pipeline.plan import Plan

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, smoke_data: SmokeData) -> tuple[Plan, Workflow, Path]:
    tmp = tmp_path_factory.mktemp("smoke")
    workflow = Workflow.copy_to(tmp / "repo")
    config = smoke_config(tmp)
    # Reduced graph: DMVFN (routed), its beta variant and copy-last-frame on KITTI; every table and figure.
    config["select"] = {"variants": ["dmvfn", "dmvfn-beta_0.3", "copy_last"], "configurations": ["kitti"]}
    # No check reads a trained number: a few steps, one routing seed; two clips are the fewest with an interval.
    config["recipes"]["smoke"].update(max_steps=3, checkpoint_every=3, log_every=1, max_clips=2)
    config["evaluation"].update(routing_seeds=[0], max_clips=2)
    smoke_data.install(config)
    path = workflow.write_config(config, "e2e.yaml")
    result = workflow.smoke(path)
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    plan = Plan(config, root=workflow.root)
    ran = job_counts(result.stderr)
    assert ran["train"] == sum(e.trained_here for e in plan.experiment_set.by_id.values())
    assert "prepare" not in ran and "smoke_data" not in ran  # the session's data is the pipeline's own, up to date
    return plan, workflow, path


def test_every_artefact_is_written(smoke_run) -> None:
    plan, _, _ = smoke_run
    missing = [target for target in plan.artefacts.report_targets() if not Path(target).is_file()]
    assert not missing


def test_every_reproduced_cell_traces_back_to_a_score_file(smoke_run) -> None:
    plan, _, _ = smoke_run
    reproduced = 0
    for table in plan.artefacts.tables:
        cells = pd.read_csv(Path(plan.paths.reports) / "tables" / f"{table}.csv", keep_default_na=False)
        for cell in cells[cells["reproduced"] != ""].itertuples():
            reproduced += 1
            source_file = Path(cell.complexity_file if cell.metric == "gflops" else cell.score_files.split(";")[0])
            assert source_file.is_file(), (table, cell)
            if cell.metric != "gflops":
                scores = pd.read_parquet(source_file)
                assert cell.experiment in set(scores["experiment"]) and cell.protocol in set(scores["protocol"])
    assert reproduced > 0
    # real scores: every scored cell carries its 95% interval and a paper-consistency mark where the paper has a value
    cells = pd.read_csv(Path(plan.paths.reports) / "tables" / "table1.csv")
    scored = cells[cells["metric"].isin(["ms_ssim", "lpips"]) & cells["reproduced"].notna()]
    assert len(scored) and (scored["lo"] <= scored["reproduced"]).all() and (scored["reproduced"] <= scored["hi"]).all()
    # smoke clips at the smoke resolution beside the paper's: no Δ, "not comparable" (the rule: test_pipeline_render.py)
    assert (scored[scored["paper"].notna()]["consistency"] == "not comparable").all()
    assert "95% interval" in (Path(plan.paths.reports) / "tables" / "table1.md").read_text()
    table5 = (Path(plan.paths.reports) / "tables" / "table5.md").read_text()
    assert "| STEBS | reproduced (retrained)" in table5 and "| Copy last frame | reproduced (untrained)" in table5


def test_removing_a_score_file_rebuilds_only_what_reads_it(smoke_run, tmp_path: Path) -> None:
    plan, workflow, config = smoke_run
    removed = plan.paths.score_file("copy_last-kitti", "kitti")
    aside = Path(removed).rename(tmp_path / "aside.parquet")
    try:
        dry = workflow.smoke(config, "-n")
    finally:
        aside.rename(removed)  # back, time kept: the run stays complete for the other tests
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = job_counts(dry.stdout)
    tables = [t for t in plan.artefacts.tables if removed in plan.artefacts.table_inputs(t)]
    figures = [f for f in plan.artefacts.figures if removed in plan.artefacts.figure_inputs(f)]
    expected = {"evaluate": 1, "table": len(tables), "results_page": 1, "all": 1}
    if figures:
        expected["figure"] = len(figures)
    assert counts == expected


def test_report_bundles_every_artefact(smoke_run, tmp_path: Path) -> None:
    _, workflow, config = smoke_run
    report = tmp_path / "report.html"
    result = workflow.smoke(config, "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    html = report.read_text(errors="replace")
    for name in ("table1", "table13", "fig1", "fig8"):
        assert name in html
