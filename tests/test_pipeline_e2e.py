"""End to end: a reduced smoke graph through the real vpbench commands, every artefact written and traceable.

Slow (minutes on 2 cores). Skipped only while the commands it drives (prepare, train, evaluate) are missing from
the ``vpbench`` CLI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from vpbench.pipeline.config import load_config
from vpbench.pipeline.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
pytestmark = pytest.mark.slow


def run_snakemake(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{SNAKEMAKE.parent}{os.pathsep}{os.environ.get('PATH', '')}",
               HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    command = [str(SNAKEMAKE), "--profile", "workflow/profiles/smoke", "--configfile", str(config), "--cores", "2", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)


def job_counts(output: str) -> dict[str, int]:
    stats = output[output.index("Job stats:") :]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, flags=re.M) if m[1] != "total"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Path]:
    tmp = tmp_path_factory.mktemp("smoke")
    config = load_config([ROOT / "config/smoke.yaml"])
    config["paths"] = {key: str(tmp / key) for key in ("raw", "prepared", "results", "reports")}
    # Reduced graph: DMVFN (routed), its beta variant and copy-last-frame on KITTI; every table and figure.
    config["select"] = {"variants": ["dmvfn", "dmvfn-beta_0.3", "copy_last"], "configurations": ["kitti"]}
    path = tmp / "e2e.yaml"
    path.write_text(yaml.safe_dump(config))
    result = run_snakemake(path)
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    return Plan(config, root=ROOT), path


def test_every_artefact_is_written(smoke_run) -> None:
    plan, _ = smoke_run
    missing = [target for target in plan.report_targets() if not Path(target).is_file()]
    assert not missing


def test_every_reproduced_cell_traces_back_to_a_score_file(smoke_run) -> None:
    plan, _ = smoke_run
    reproduced = 0
    for table in plan.tables:
        cells = pd.read_csv(Path(plan.reports) / "tables" / f"{table}.csv", keep_default_na=False)
        for cell in cells[cells["reproduced"] != ""].itertuples():
            reproduced += 1
            source_file = Path(cell.complexity_file if cell.metric == "gflops" else cell.score_files.split(";")[0])
            assert source_file.is_file(), (table, cell)
            if cell.metric != "gflops":
                scores = pd.read_parquet(source_file)
                assert cell.experiment in set(scores["experiment"]) and cell.protocol in set(scores["protocol"])
    assert reproduced > 0
    # real scores: every scored cell carries its 95% interval and a paper-consistency mark where the paper has a value
    cells = pd.read_csv(Path(plan.reports) / "tables" / "table1.csv")
    scored = cells[cells["metric"].isin(["ms_ssim", "lpips"]) & cells["reproduced"].notna()]
    assert len(scored) and (scored["lo"] <= scored["reproduced"]).all() and (scored["reproduced"] <= scored["hi"]).all()
    assert scored[scored["paper"].notna()]["consistency"].isin(["consistent", "above", "below"]).all()
    assert "95% interval" in (Path(plan.reports) / "tables" / "table1.md").read_text()
    table5 = (Path(plan.reports) / "tables" / "table5.md").read_text()
    assert "| STEBS | reproduced (retrained)" in table5 and "| Copy last frame | reproduced (untrained)" in table5


def test_removing_a_score_file_rebuilds_only_what_reads_it(smoke_run) -> None:
    plan, config = smoke_run
    removed = plan.score_file("copy_last-kitti", "kitti")
    Path(removed).unlink()
    dry = run_snakemake(config, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = job_counts(dry.stdout)
    tables = [t for t in plan.tables if removed in plan.table_inputs(t)]
    figures = [f for f in plan.figures if removed in plan.figure_inputs(f)]
    expected = {"evaluate": 1, "table": len(tables), "all": 1}
    if figures:
        expected["figure"] = len(figures)
    assert counts == expected


def test_report_bundles_every_artefact(smoke_run, tmp_path: Path) -> None:
    plan, config = smoke_run
    # Bring the graph back to complete first (the previous test removed a score file).
    assert run_snakemake(config).returncode == 0
    report = tmp_path / "report.html"
    result = run_snakemake(config, "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    html = report.read_text(errors="replace")
    for name in ("table1", "table13", "fig1", "fig8"):
        assert name in html
