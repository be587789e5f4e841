"""End to end: `snakemake compare` on the example plugin (module path) on smoke KITTI, every cell traceable.

Slow: runs in the session's finished smoke run (``smoke_run``, tests/conftest.py, that of tests/test_pipeline_e2e.py),
whose DMVFN, copy-last-frame and official-format stand-in it reuses without running anything again: it trains the
example from a clean state (its experiments are new), DVF and PredNet for a few steps, evaluates them on two clips of
that run's 176x176 KITTI, and prepares the one smoke dataset left unprepared there, from the session's raw trees.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, UNPREPARED_DATASET, SmokeRun, job_counts, job_wildcards
from vpbench.pipeline.plan import Plan

METHOD = "vpbench_example_method:build"
NAME = "vpbench_example_method.build"
COMPARE_KEYS = {"method": METHOD, "compare_protocols": ["kitti"], "method_options": {"width": 8}}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compared(smoke_run: SmokeRun) -> Plan:
    workflow = smoke_run.workflow
    before = smoke_run.plan
    # The plugin is importable in the workflow only: the plan checked it there, this one gives the paths.
    plan = Plan({**before.config, **COMPARE_KEYS}, root=workflow.root, method_checks="skip")
    # The compare invocation also asks for the one dataset the finished run left unprepared (conftest.py).
    unprepared = plan.paths.manifest_file(UNPREPARED_DATASET)
    assert not Path(unprepared).exists()
    # Tests cannot pip-install the plugin: the module path plus PYTHONPATH is the same factory its entry point names.
    result = workflow.smoke(smoke_run.config_file, "compare", unprepared, "--config", f"method={METHOD}",
                            "compare_protocols=[kitti]", "method_options={width: 8}",
                            pythonpath=(ROOT / "examples" / "example-method",))
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-4000:])
    ran = job_counts(result.stderr)
    assert ran["prepare"] == 1 and "smoke_data" not in ran  # the session's raw trees are up to date
    # Nothing that exists is run again: the finished run's experiments (DMVFN, its beta variant, copy-last, the
    # official-format stand-in) keep their specs, checkpoints and scores; only the compared method's experiment and
    # the baselines that run had not planned (DVF, PredNet) are specified, trained, scored and counted, then the
    # comparison is rendered.
    new = {f"{variant}-kitti" for variant in (NAME, "dvf", "prednet")}
    assert new == set(plan.experiment_set.by_id) - set(before.experiment_set.by_id)
    assert all(plan.experiment_set.get(e).trained_here for e in new)
    assert ran == {"prepare": 1, "spec": 3, "train": 3, "evaluate": 3, "complexity": 3, "compare_table": 1,
                   "compare_steps_figure": 1, "compare": 1}
    jobs = job_wildcards(result.stderr)
    assert {w["experiment"] for rule, w in jobs if "experiment" in w} == new
    assert sorted(w["dataset"] for rule, w in jobs if rule == "prepare") == [UNPREPARED_DATASET]
    return plan


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
