"""End to end: `snakemake compare` on the example plugin (module path) on smoke KITTI, every cell traceable.

Slow: prepares smoke KITTI (from the session's raw trees), trains the example, DMVFN, DVF and PredNet for a few
steps, writes the official-format stand-in from that DMVFN and evaluates everything on two clips.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, SmokeData, Workflow, job_counts, smoke_config
from vpbench.pipeline.plan import Plan

METHOD = "vpbench_example_method:build"
NAME = "vpbench_example_method.build"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory, smoke_data: SmokeData) -> Plan:
    tmp = tmp_path_factory.mktemp("compare")
    workflow = Workflow.copy_to(tmp / "repo")
    config = smoke_config(tmp)
    config["select"] = {"variants": ["copy_last"], "configurations": ["kitti"]}
    config["recipes"]["smoke"].update(max_steps=3, checkpoint_every=3, log_every=1, max_clips=2)
    config["evaluation"].update(routing_seeds=[0], max_clips=2)  # two clips: the smallest set with an interval
    # KITTI prepared here at 176x176 from the session's raw trees: DVF and PredNet evaluate a third of the pixels
    # of the smoke size, and the prepare rule runs once end to end.
    config["datasets"]["kitti"]["size"] = config["protocols"]["kitti"]["size"] = "176x176"
    smoke_data.install(config, prepared=False)
    path = workflow.write_config(config, "compare.yaml")
    # Tests cannot pip-install the plugin: the module path plus PYTHONPATH is the same factory its entry point names.
    result = workflow.smoke(path, "compare", "--config", f"method={METHOD}", "compare_protocols=[kitti]",
                            "method_options={width: 8}", pythonpath=(ROOT / "examples" / "example-method",))
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    ran = job_counts(result.stderr)
    assert ran["prepare"] == 1 and "smoke_data" not in ran  # the session's raw trees are up to date
    config.update(method=METHOD, compare_protocols=["kitti"], method_options={"width": 8})
    # The plugin is importable in the workflow only: the plan checked it there, this one gives the paths.
    return Plan(config, root=workflow.root, method_checks="skip")


def test_the_table_is_written_in_three_formats(compared: Plan) -> None:
    for path in compared.artefacts.compare_files():
        assert Path(path).is_file(), path
    markdown = Path(compared.artefacts.compare_files()[0]).read_text()
    for label in (NAME, "DMVFN", "DVF", "PredNet", "Copy last frame", "official"):
        assert label in markdown


def test_every_baseline_cell_gets_a_paired_interval_and_a_verdict(compared: Plan) -> None:
    cells = pd.read_csv(compared.artefacts.compare_files()[1], keep_default_na=False)
    scored = cells[cells["metric"].isin(["ms_ssim", "lpips"])]
    baselines = scored[scored["variant"] != NAME]
    assert set(baselines["verdict"]) <= {"better", "worse", "not distinguishable"} and len(baselines)
    assert (baselines["compared_with"] == NAME).all()
    for cell in baselines.itertuples():
        assert float(cell.difference_lo) <= float(cell.difference) <= float(cell.difference_hi)
    assert (scored[scored["variant"] == NAME]["verdict"] == "").all()
    figures = [Path(p) for p in compared.artefacts.compare_files() if "-steps-" in p]
    assert [p.name for p in figures] == [f"{NAME}-steps-kitti.png", f"{NAME}-steps-kitti.pdf"]
    assert all(p.stat().st_size > 0 for p in figures)


def test_every_cell_traces_back_to_a_score_or_complexity_file(compared: Plan) -> None:
    cells = pd.read_csv(compared.artefacts.compare_files()[1], keep_default_na=False)
    filled = cells[cells["reproduced"] != ""]
    assert set(filled["experiment"]) == {f"{v}-kitti" for v in (NAME, "dmvfn", "dvf", "prednet", "copy_last", "dmvfn-official")}
    for cell in filled.itertuples():
        if cell.metric in ("gflops", "params"):
            assert Path(cell.complexity_file).is_file(), cell
            continue
        scores = pd.read_parquet(cell.score_files)
        assert set(scores["experiment"]) == {cell.experiment} and set(scores["protocol"]) == {"kitti"}
    official = pd.read_parquet(compared.paths.score_file("dmvfn-official-kitti", "kitti"))
    assert set(official["source"]) == {"official-weights"}
    assert Path(compared.experiment_set.get("dmvfn-official-kitti").weights).is_file()
    # The plugin was trained by the pipeline with the options given on the command line.
    spec = Path(compared.paths.spec_file(f"{NAME}-kitti")).read_text()
    assert '"width": 8' in spec and Path(compared.paths.checkpoint_file(f"{NAME}-kitti")).is_file()
