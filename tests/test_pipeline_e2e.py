"""End to end: a reduced smoke graph through the real vpbench commands, every artefact written and traceable.

Slow (minutes on 2 cores): the session's smoke run (``smoke_run`` in tests/conftest.py, shared with
tests/test_compare_e2e.py) trains DMVFN for a few steps on the session's smoke data (KITTI, prepared at 176x176 by
the prepare job's command) and evaluates every experiment on two clips.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import job_counts

pytestmark = pytest.mark.slow


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
