"""Rendering tables and figures from synthetic score files that follow the score contract.

The synthetic scores have a known closed form (value = a + b * step per metric, identical for every clip and
seed), so the expected cumulative means are computed here from the formula, not by the code under test.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_prep.protocols import PROTOCOLS
from vpbench.evaluation import scores
from vpbench.pipeline.config import load_config
from vpbench.pipeline.plan import Plan
from vpbench.reporting.errors import FigureError, TableError
from vpbench.reporting.figures import render_figure
from vpbench.reporting.page import render_page, write_page
from vpbench.reporting.tables import build_table, render_table

ROOT = Path(__file__).resolve().parent.parent
# metric -> (a, b): value at step k is a + b * k
LINEAR = {"ms_ssim": (0.95, -0.02), "lpips": (0.04, 0.01), "psnr": (31.0, -1.0), "ssim": (0.9, -0.01)}
HORIZON = {name: max(protocol.horizon, 1) for name, protocol in PROTOCOLS.items()}  # a whole file: every step
CLIPS = 2  # the smoke config's evaluation.max_clips
GFLOPS = {"dmvfn": 12.5, "dvf": 400.0, "prednet": 60.0, "copy_last": 0.0}


def synthetic_scores(experiment, protocol: str, blocks: str) -> pd.DataFrame:
    rows = []
    for seed in experiment.routing_seeds:
        for clip in range(CLIPS):
            for step in range(1, HORIZON.get(protocol, 1) + 1):
                for metric, (a, b) in LINEAR.items():
                    rows.append({
                        "experiment": experiment.id, "method": experiment.method, "protocol": protocol,
                        "source": experiment.source, "seed": seed, "clip_id": f"clip{clip}", "step": step,
                        "metric": metric, "value": a + b * step, "active_blocks": blocks,
                    })
    return pd.DataFrame(rows).astype({"seed": "int64", "step": "int64", "value": "float64"})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Path]:
    """The smoke plan with every score, complexity and prediction file present (synthetic)."""
    tmp = tmp_path_factory.mktemp("pipeline")
    config = load_config([ROOT / "config/smoke.yaml"])
    config["paths"].update(results=str(tmp / "results"), reports=str(tmp / "reports"))
    plan = Plan(config, root=ROOT)
    rng = np.random.default_rng(0)
    for experiment in plan.experiment_set.by_id.values():
        blocks = "110101101" if experiment.method == "dmvfn" else ""
        for protocol in experiment.protocols:
            score = Path(plan.paths.score_file(experiment.id, protocol))
            score.parent.mkdir(parents=True, exist_ok=True)
            scores.write_scores(synthetic_scores(experiment, protocol, blocks), score)
            complexity = Path(plan.paths.complexity_file(experiment.id, protocol))
            complexity.parent.mkdir(parents=True, exist_ok=True)
            gflops = GFLOPS[experiment.method]
            complexity.write_text(json.dumps({"params": 3.5e6, "gflops": {"paper_convention": gflops, "routed_expected_paper_convention": None}}))
            predictions = Path(plan.paths.predictions_file(experiment.id, protocol))
            predictions.parent.mkdir(parents=True, exist_ok=True)
            steps = HORIZON.get(protocol, 1)
            np.savez(
                predictions,
                context=rng.integers(0, 255, (1, 2, 16, 24, 3), dtype=np.uint8),
                target=rng.integers(0, 255, (1, steps, 16, 24, 3), dtype=np.uint8),
                prediction=rng.integers(0, 255, (1, steps, 16, 24, 3), dtype=np.uint8),
                clip_ids=np.array(["clip0"]),
                flow=rng.normal(size=(1, 4, 16, 24)).astype(np.float32),
                mask=rng.random((1, 1, 16, 24)).astype(np.float32),
            )
    return plan, tmp


def cumulative(metric: str, k: int) -> float:
    a, b = LINEAR[metric]
    return float(np.mean([a + b * step for step in range(1, k + 1)]))


def as_on_the_paper_data(table: dict) -> dict:
    """A smoke table plan as if its protocols were the paper's (data and resolution): every Δ is computed."""
    return {**table, "comparability": {}}


def test_reproduced_cells_are_cumulative_means_beside_the_paper(world) -> None:
    plan, _ = world
    cells = build_table(as_on_the_paper_data(plan.artefacts.table_plan("table1")), ROOT).cells
    dmvfn = cells[(cells["experiment"] == "dmvfn-city") & (cells["metric"] == "ms_ssim")].set_index("horizon")
    for k in (1, 3, 5):
        assert dmvfn.at[k, "reproduced"] == pytest.approx(100 * cumulative("ms_ssim", k))
    assert dmvfn.at[5, "paper"] == pytest.approx(83.45)  # Table 1, DMVFN, Cityscapes t+5
    assert dmvfn.at[5, "delta"] == pytest.approx(100 * cumulative("ms_ssim", 5) - 83.45)
    assert (dmvfn["source"] == "retrained").all()
    gflops = cells[(cells["experiment"] == "dvf-kitti") & (cells["metric"] == "gflops")].iloc[0]
    assert gflops["reproduced"] == GFLOPS["dvf"] and gflops["paper"] == pytest.approx(166.47)


def test_paper_only_and_not_run_rows_are_labelled(world, tmp_path: Path) -> None:
    plan, _ = world
    render_table(plan.artefacts.table_plan("table1"), tmp_path, ROOT)
    text = (tmp_path / "table1.md").read_text()
    assert "| OPT | paper (reported in paper only) |" in text
    # The smoke config's official rows come from the official-format stand-in, labelled as such.
    assert "| DMVFN (official weights) [smoke stand-in: official format, weights trained here] | reproduced (official weights)" in text
    without_official = {k: v for k, v in plan.config.items() if k != "official_weights"}
    render_table(Plan(without_official, root=ROOT).artefacts.table_plan("table1"), tmp_path, ROOT)
    assert "| DMVFN (official weights) | not run in this configuration |" in (tmp_path / "table1.md").read_text()
    assert "reproduced (retrained)" in text and "Δ reproduced − paper" in text
    assert "cumulative means over t+1..t+k" in text
    assert "Cityscapes MS-SSIM t+5 (cum. t+1..t+5)" in text  # the header says it, not only the notes
    assert "\\begin{tabular}" in (tmp_path / "table1.tex").read_text()
    assert not list(tmp_path.glob(".*.part"))


def test_every_reproduced_cell_traces_back_to_its_score_file(world, tmp_path: Path) -> None:
    plan, _ = world
    for table in plan.artefacts.tables:
        render_table(plan.artefacts.table_plan(table), tmp_path, ROOT)
        cells = pd.read_csv(tmp_path / f"{table}.csv", keep_default_na=False)
        reproduced = cells[cells["reproduced"] != ""]
        for cell in reproduced.itertuples():
            # score_files lists every training seed's file, ";"-separated; the first is the cell's experiment's
            files = [cell.complexity_file] if cell.metric == "gflops" else cell.score_files.split(";")
            assert all(f and Path(f).is_file() for f in files), (table, cell)
            assert cell.experiment in files[0]
            if cell.metric != "gflops":
                scores = pd.read_parquet(files[0])
                assert cell.experiment in set(scores["experiment"])


def test_usage_table_counts_routing_decisions(world) -> None:
    plan, _ = world
    cells = build_table(plan.artefacts.table_plan("table4"), ROOT).cells
    expected = [100.0 * int(bit) for bit in "110101101"]
    assert list(cells["reproduced"]) == pytest.approx(expected)


def test_missing_score_file_is_named(world, tmp_path: Path) -> None:
    plan, _ = world
    table = plan.artefacts.table_plan("table5")
    table["rows"][1]["cells"]["kitti"]["scores"] = [str(tmp_path / "gone.parquet")]
    with pytest.raises(TableError, match="gone.parquet"):
        build_table(table, ROOT)


def test_every_figure_is_written(world, tmp_path: Path) -> None:
    plan, _ = world
    for figure in plan.artefacts.figures:
        written = render_figure(plan.artefacts.figure_plan(figure), tmp_path, ROOT)
        assert [p.suffix for p in written] == [".png", ".pdf"]
        assert all(p.stat().st_size > 1000 for p in written)


def test_figure_with_missing_predictions_names_the_file(world, tmp_path: Path) -> None:
    plan, _ = world
    figure = plan.artefacts.figure_plan("fig4")
    figure["rows"][0]["cell"]["predictions"] = str(tmp_path / "absent.npz")
    with pytest.raises(FigureError, match="absent.npz"):
        render_figure(figure, tmp_path, ROOT)


def test_flow_colours_encode_direction() -> None:
    from vpbench.reporting.kinds.flow_figure import flow_to_color

    right = flow_to_color(np.array([[[1.0]], [[0.0]]]))[0, 0]
    left = flow_to_color(np.array([[[-1.0]], [[0.0]]]))[0, 0]
    still = flow_to_color(np.array([[[0.0]], [[0.0]]]), max_magnitude=1.0)[0, 0]
    assert not np.allclose(right, left)
    assert np.allclose(still, 1.0)  # no motion is white
    assert math.isclose(float(right.max()), 1.0)


def test_cells_of_a_variant_trained_with_several_seeds_pool_every_seed(world, tmp_path: Path) -> None:
    plan, _ = world
    seeds = plan.experiment_set.training_seeds("dmvfn-routing_none")
    assert len(seeds) == 2  # config/smoke.yaml: training_seeds
    cells = build_table(plan.artefacts.table_plan("table1"), ROOT).cells
    pooled = cells[(cells["variant"] == "dmvfn-routing_none") & (cells["protocol"] == "kitti") & (cells["metric"] == "ms_ssim")]
    assert not pooled.empty and (pooled["n_train_seeds"] == 2).all()
    for record in pooled.itertuples():
        assert record.score_files.split(";") == [plan.paths.score_file(e, "kitti") for e in
                                                 ("dmvfn-routing_none-kitti", "dmvfn-routing_none-kitti-seed1235")]
        assert "2 training seeds" in record.interval_covers
        # identical synthetic values on every clip and seed: the interval collapses onto the mean
        assert record.lo == pytest.approx(record.reproduced) == pytest.approx(record.hi)


def test_delta_lines_mark_consistency_with_the_paper(world, tmp_path: Path) -> None:
    plan, _ = world
    result = build_table(as_on_the_paper_data(plan.artefacts.table_plan("table1")), ROOT)
    marks = set(result.cells["consistency"].dropna())
    assert marks <= {"consistent", "above", "below"} and marks
    markdown = render_table(as_on_the_paper_data(plan.artefacts.table_plan("table1")), tmp_path, ROOT)[0].read_text()
    assert "95% interval" in markdown and ("↑" in markdown or "↓" in markdown or "≈" in markdown)


def test_smoke_tables_say_smoke_and_compare_nothing_but_parameters_with_the_paper(world, tmp_path: Path) -> None:
    plan, _ = world
    table = plan.artefacts.table_plan("table1")
    assert table["title"].startswith("[SMOKE RUN]") and table["caption"].startswith("Smoke run")
    cells = build_table(table, ROOT).cells
    with_paper = cells[cells["paper"].notna() & cells["reproduced"].notna()]
    # smoke clips at 176x352 beside the paper's 1024x2048 clips: no Δ, no ≈/↑/↓, but "not comparable"
    scored = with_paper[with_paper["metric"] != "params"]
    assert len(scored) and (scored["consistency"] == "not comparable").all() and scored["delta"].isna().all()
    markdown = render_table(table, tmp_path, ROOT)[0].read_text()
    assert markdown.startswith("# [SMOKE RUN]") and "not comparable" in markdown
    rows = "\n".join(line for line in markdown.splitlines() if line.startswith("|"))
    assert "↑" not in rows and "↓" not in rows and " ≈" not in rows


def test_intervals_are_clipped_to_the_metric_range() -> None:
    from vpbench.reporting.intervals import Estimate
    from vpbench.reporting.cells import set_estimate
    from vpbench.reporting.tables import _fmt_repro

    record = {"metric": "ms_ssim"}
    # two clips at 0.75 and 1.0: a t interval reaching past MS-SSIM's maximum of 1 (the "97.27 ± 22.56" of a smoke run)
    estimate = Estimate(mean=0.9727, lo=0.7471, hi=1.1983, n_clips=2, n_routing_seeds=2, n_train_seeds=1,
                        clip_half_width=(0.2256, 0.2256), seed_half_width=0.0)
    set_estimate(record, estimate, 100.0)
    assert record["hi"] == 100.0 and record["lo"] == pytest.approx(74.71)
    assert _fmt_repro(record) == "97.27 [74.71, 100.00]"


# ------------------------------------------------------------------------------------ kinds, readers, torch-free


def test_unknown_kinds_are_named_with_the_known_ones(world, tmp_path: Path) -> None:
    plan, _ = world
    table = plan.artefacts.table_plan("table5")
    table["kind"] = "heatmap"
    from vpbench.reporting.kinds import FIGURE_KINDS, TABLE_KINDS

    with pytest.raises(TableError, match=rf"unknown table kind 'heatmap'; known: {', '.join(sorted(TABLE_KINDS.names()))}"):
        build_table(table, ROOT)
    figure = plan.artefacts.figure_plan("fig7")
    figure["kind"] = "heatmap"
    with pytest.raises(FigureError, match=rf"unknown figure kind 'heatmap'; known: {', '.join(sorted(FIGURE_KINDS.names()))}"):
        render_figure(figure, tmp_path, ROOT)


@pytest.fixture
def dummy_kinds(monkeypatch: pytest.MonkeyPatch):
    """A table kind and a figure kind as a new file of vpbench/reporting/kinds would register them; the registries'
    entries are restored afterwards (the one place a test reaches into ``Registry``)."""
    from vpbench.reporting.kind import (FIGURE_KINDS, TABLE_KINDS, FigureKind, TableKind, register_figure_kind,
                                        register_table_kind)
    from vpbench.reporting.kinds import metrics_table

    monkeypatch.setattr(TABLE_KINDS, "_entries", dict(TABLE_KINDS._entries))
    monkeypatch.setattr(FIGURE_KINDS, "_entries", dict(FIGURE_KINDS._entries))

    def first_row(plan: dict, base: Path):
        """A metrics table showing its first row only, under a label of its own."""
        from vpbench.reporting.cells import rows_in_order

        result = metrics_table.build(plan, base)
        result.display_groups = lambda cells: [("first row", frame) for _, frame in rows_in_order(cells)[:1]]
        return result

    def draw_rows(plan, base: Path, table):
        from vpbench.reporting.drawing import plt

        fig, ax = plt.subplots()
        ax.bar(range(len(table.cells)), table.cells["reproduced"].fillna(0))
        return fig

    def plan_from_table(artefacts, plan: dict) -> None:
        plan["table_plan"] = artefacts.table_plan(plan["table"])

    table_kind = register_table_kind(TableKind(
        "firstrow", metrics_table.SCHEMA, plan=metrics_table.plan, build=first_row))
    figure_kind = register_figure_kind(FigureKind(
        "bars", {"required": ["table"], "properties": {"table": {"type": "string"}}}, plan=plan_from_table,
        draw=draw_rows, check=lambda entry, tables: [("table", "no such table")] if entry["table"] not in tables else []))
    return table_kind, figure_kind


def test_a_new_kind_is_one_module_plus_its_config(world, dummy_kinds, tmp_path: Path) -> None:
    """What adding a kind takes, end to end: its registered record (what its module holds) and its entries in the
    tables file. The schema takes its fields, the planner its cells, the checks its rules, the renderer its build."""
    import yaml

    from vpbench.pipeline.config import ConfigError

    plan, _ = world
    config = copy_config(plan)
    tables = yaml.safe_load((ROOT / "config/tables.yaml").read_text())
    tables["tables"]["table99"] = {**{k: v for k, v in tables["tables"]["table5"].items() if k != "kind"}, "kind": "firstrow"}
    tables["figures"]["fig99"] = {"kind": "bars", "table": "table99"}
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump(tables))
    config["tables_file"] = str(path)
    with_kinds = Plan(config, root=ROOT, method_checks="skip")
    table = with_kinds.artefacts.table_plan("table99")
    written = render_table(table, tmp_path, ROOT)
    assert [p.name for p in written] == ["table99.md", "table99.csv", "table99.tex"]
    lines = written[0].read_text().splitlines()
    separator = next(i for i, line in enumerate(lines) if line.startswith("|---"))
    body = lines[separator + 1 : lines.index("", separator)]
    # the first row of table5 (copy-last-frame): its paper, reproduced and Δ lines, under the kind's own label
    assert [line.split(" | ")[:2] for line in body] == [
        ["| first row", "paper"], ["| first row", "reproduced (untrained)"], ["| first row", "Δ reproduced − paper"]]
    artefacts = with_kinds.artefacts
    assert artefacts.table_inputs("table99") == artefacts.table_inputs("table5")  # the rule inputs follow
    assert [p.name for p in render_figure(artefacts.figure_plan("fig99"), tmp_path, ROOT)] == ["fig99.png", "fig99.pdf"]
    # the schema judges the new kind's entry against its own fields, and its own check runs
    tables["tables"]["table99"]["panels"] = []
    path.write_text(yaml.safe_dump(tables))
    with pytest.raises(ConfigError, match=r"tables\.table99: unknown key\(s\).*'panels' was unexpected"):
        Plan(config, root=ROOT, method_checks="skip")
    del tables["tables"]["table99"]["panels"]
    tables["figures"]["fig99"]["table"] = "table98"
    path.write_text(yaml.safe_dump(tables))
    with pytest.raises(ConfigError, match=r"figures\.fig99\.table: no such table"):
        Plan(config, root=ROOT, method_checks="skip")
    from vpbench.reporting.kind import TABLE_KINDS, register_table_kind

    with pytest.raises(ValueError, match="registered twice"):
        register_table_kind(TABLE_KINDS.get("firstrow"))


def copy_config(plan: Plan) -> dict:
    import copy

    return copy.deepcopy(plan.config)


def test_table_score_reader_fails_like_the_score_readers(world, tmp_path: Path) -> None:
    from vpbench.evaluation import scores
    from vpbench.reporting.cells import read_scores

    plan, _ = world
    experiment = plan.experiment_set.by_id["dmvfn-city"]
    bad = synthetic_scores(experiment, "cityscapes", "")
    bad.loc[0, "metric"] = "fid"
    bad.to_parquet(tmp_path / "bad.parquet")
    for name in ("bad.parquet", "absent.parquet"):
        with pytest.raises(scores.ScoreFileError) as direct:
            scores.read_scores(tmp_path / name)
        with pytest.raises(TableError) as through_table:
            read_scores([name], tmp_path)
        assert str(through_table.value) == str(direct.value)
    assert "unknown metric(s) ['fid']" in str(direct.value) or "not found" in str(direct.value)


TORCH_FREE_RENDER = r"""
import sys
from pathlib import Path

import pandas as pd

from vpbench.evaluation import metric_records, scores
from vpbench.reporting import aggregate, cells, comparison, drawing, figures, intervals, kinds, tables

base = Path(sys.argv[1])
rows, cells = [], {}
for variant, offset in (("new", 0.01), ("old", 0.0)):
    frame = pd.DataFrame([
        {"experiment": variant, "method": variant, "protocol": "kitti", "source": "retrained", "seed": 0,
         "clip_id": f"c{clip}", "step": step, "metric": metric, "value": 0.5 + offset + 0.01 * clip - 0.02 * step,
         "active_blocks": ""}
        for clip in range(3) for step in (1, 2, 3) for metric in ("ms_ssim", "lpips")
    ])
    scores.write_scores(frame, base / f"{variant}.parquet")
    rows.append({"variant": variant, "label": variant, "status": "run", "cells": {"kitti": {
        "experiment": variant, "source": "retrained", "experiments": [variant], "scores": [f"{variant}.parquet"]}}})
plan = {"name": "cmp", "kind": "metrics", "paper": None, "compared": "new", "cumulative": True, "rows": rows,
        "groups": [{"protocol": "kitti", "metrics": ["ms_ssim", "lpips"], "horizons": [1, 3]}]}
tables.render_table(plan, base / "out", base)
figures.render_compare_steps(plan, "kitti", base / "out", base)
print(sorted(p.name for p in (base / "out").iterdir()))
print("torch" in sys.modules, sorted(m for m in sys.modules if m.split(".")[0] == "torch")[:3])
"""


def test_reporting_imports_and_renders_without_torch(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", TORCH_FREE_RENDER, str(tmp_path)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    written, torch_loaded = done.stdout.strip().splitlines()
    assert written == str(["cmp-steps-kitti.pdf", "cmp-steps-kitti.png", "cmp.csv", "cmp.md", "cmp.tex"])
    assert torch_loaded == "False []", "rendering imported torch"
    assert "better" in (tmp_path / "out" / "cmp.md").read_text()  # the paired verdicts were computed


# ------------------------------------------------------------------------------------ the results page
# vpbench.reporting.page: every table and figure of a run on one self-contained page. The browser test renders it
# in headless Chromium and checks, in the laid-out page, that every table and figure is visible (a box with a size,
# images decoded), not only present in the HTML. It runs where the `chromium` binary is (`make test-report` installs
# it; `make test` skips it otherwise). VPBENCH_SCREENSHOT=<png> keeps the screenshot it takes. (Here, not in a file
# of its own, to share this module's synthetic smoke run.)

CHROMIUM = next((path for name in ("chromium", "chromium-browser", "google-chrome") if (path := shutil.which(name))), None)


#: one table and one figure of each kind that matters for the layout (all of them would take a minute to render)
TABLES = ("table1", "table4", "table8")
FIGURES = ("fig1", "fig5")


@pytest.fixture(scope="module")
def page(world) -> tuple[Path, int, int]:
    """Tables and figures of the smoke plan rendered from the synthetic scores, then the page: (path, tables, figures)."""
    from vpbench.reporting.figures import render_figure
    from vpbench.reporting.tables import render_table

    plan, _ = world
    reports = Path(plan.paths.reports)
    for name in TABLES:
        render_table(plan.artefacts.table_plan(name), reports / "tables", ROOT)
    for name in FIGURES:
        render_figure(plan.artefacts.figure_plan(name), reports / "figures", ROOT)
    return write_page(plan, reports / "index.html", tables=TABLES, figures=FIGURES), len(TABLES), len(FIGURES)


def test_page_holds_every_table_and_figure_with_the_run_named(page) -> None:
    path, n_tables, n_figures = page
    text = path.read_text()
    assert text.count('<table class="results">') == n_tables
    assert text.count('<img alt=') == n_figures and "src=\"http" not in text  # inline: nothing to fetch
    assert 'class="banner smoke"' in text and "SMOKE RUN" in text and "mini datasets" in text
    assert text.count("[SMOKE RUN]") >= n_tables + n_figures  # every title says smoke
    assert 'class="notcomparable"' in text  # smoke cells beside the paper's


def test_page_marks_each_difference_in_words(tmp_path: Path) -> None:
    table = tmp_path / "table9.md"
    table.write_text("# Table 9\n\nCaption.\n\n| Row | Values | KITTI MS-SSIM t+1 | KITTI LPIPS t+1 |\n|---|---|---:|---:|\n"
                     "| DMVFN | paper | 88.06 | 10.70 |\n| DMVFN | reproduced (retrained) | 88.10 ± 0.20 | 12.00 ± 0.30 |\n"
                     "| DMVFN | Δ reproduced − paper | +0.04 ≈ | +1.30 ↑ |\n\n- a note\n")
    html = render_page("paper", "full run", "the paper's datasets", [("table9", table)], [])
    assert 'class="banner paper"' in html and "Configuration: paper" in html
    assert '<td class="consistent">+0.04 ≈ consistent</td>' in html and '<td class="above">+1.30 ↑ above</td>' in html
    assert '<tr class="paper first">' in html and "<li>a note</li>" in html


VISIBILITY_PROBE = """
<script>
window.addEventListener('load', () => {
  const shown = (el) => { const box = el.getBoundingClientRect(); const style = getComputedStyle(el);
    return box.width > 50 && box.height > 20 && style.display !== 'none' && style.visibility !== 'hidden'
      && parseFloat(style.opacity) > 0; };
  const tables = [...document.querySelectorAll('table.results')];
  const images = [...document.querySelectorAll('figure img')];
  const report = {tables: tables.length, tables_shown: tables.filter(shown).length,
    rows_shown: tables.map(t => [...t.querySelectorAll('tbody tr')].filter(shown).length),
    images: images.length, images_shown: images.filter(i => shown(i) && i.complete && i.naturalWidth > 0).length,
    banner: shown(document.getElementById('banner'))};
  const out = document.createElement('pre'); out.id = 'visibility'; out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>
"""


def _chromium(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=10000", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs the chromium binary (`make test-report` installs it)")
def test_tables_and_figures_are_visible_in_headless_chromium(page, tmp_path: Path) -> None:
    path, n_tables, n_figures = page
    probe = tmp_path / "probe.html"
    probe.write_text(path.read_text().replace("</body>", VISIBILITY_PROBE + "</body>"))
    result = _chromium("--dump-dom", probe.as_uri())
    found = re.search(r'<pre id="visibility">(.*?)</pre>', result.stdout)
    assert found, result.stderr[-2000:]
    report = json.loads(found.group(1).replace("&quot;", '"'))
    assert report["banner"]
    assert report["tables"] == report["tables_shown"] == n_tables
    assert all(rows > 0 for rows in report["rows_shown"])
    assert report["images"] == report["images_shown"] == n_figures
    # the first screen as a researcher sees it: a screenshot with more than a blank page in it
    shot = Path(os.environ.get("VPBENCH_SCREENSHOT") or tmp_path / "page.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    result = _chromium(f"--screenshot={shot}", "--window-size=1400,1000", path.as_uri())
    assert shot.is_file() and shot.stat().st_size > 20_000, result.stderr[-2000:]
