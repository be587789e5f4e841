"""`snakemake compare`: the plugin path of a new method (entry point or module path), its plan and its table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models import registry
from vpbench.evaluation import scores
from tests.conftest import ROOT, Workflow, requires_snakemake, smoke_config
from vpbench.pipeline.config import ConfigError, method_name_of, parse_method_options
from vpbench.pipeline.plan import Plan
from vpbench.reporting.tables import build_table, render_table

EXAMPLE = ROOT / "examples" / "example-method"


@pytest.fixture
def example_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))


def test_entry_point_resolves_the_example_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_on_path) -> None:
    # What `pip install examples/example-method` writes, reduced to the two files importlib.metadata reads.
    dist = tmp_path / "vpbench_example_method-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: vpbench-example-method\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[vpbench.methods]\nexample_residual = vpbench_example_method:build\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(registry.METHODS._entries, "example_residual", raising=False)
    try:
        method = registry.create_method("example_residual", width=4)
        assert type(method).__module__ == "vpbench_example_method"
        assert "example_residual" in registry.available_methods()
    finally:
        registry.METHODS._entries.pop("example_residual", None)


def test_module_path_builds_the_example_and_it_predicts(example_on_path) -> None:
    import torch

    method = registry.create_method("vpbench_example_method:build", width=4).eval()
    context = torch.rand(1, 2, 3, 16, 16)
    frame = method.predict(context).frame
    assert frame.shape == (1, 3, 16, 16)
    # Zero-initialised last layer: the untrained method is copy-last-frame.
    assert torch.allclose(frame, context[:, -1])
    loss = method.loss(context, torch.rand(1, 3, 16, 16))
    assert loss.total.requires_grad


def smoke_plan(tmp_path: Path, **overrides) -> Plan:
    config = smoke_config(tmp_path)
    config.update(overrides)
    return Plan(config, root=ROOT)


def test_compare_plans_the_method_and_its_baselines_whatever_select_says(tmp_path: Path) -> None:
    plan = smoke_plan(tmp_path, method="vpbench_example_method:build", compare_configurations=["kitti"],
                      compare_protocols=["kitti"], select={"variants": ["copy_last"], "configurations": ["city"]})
    name = "vpbench_example_method.build"
    assert plan.experiment_set.comparison.name == name
    new = plan.experiment_set.get(f"{name}-kitti")
    assert new.trained_here and new.method == "vpbench_example_method:build"
    for baseline in ("dmvfn-kitti", "dvf-kitti", "prednet-kitti", "copy_last-kitti", "dmvfn-official-kitti"):
        assert baseline in plan.experiment_set.by_id
    table = plan.artefacts.compare_plan()
    assert [g["protocol"] for g in table["groups"]] == ["kitti"]
    assert [row["variant"] for row in table["rows"]][:5] == [name, "dmvfn", "dvf", "prednet", "copy_last"]
    assert plan.artefacts.compare_files() == [
        *[f"{tmp_path}/reports/compare/{name}.{ext}" for ext in ("md", "csv", "tex")],
        *[f"{tmp_path}/reports/compare/{name}-steps-kitti.{ext}" for ext in ("png", "pdf")],
    ]
    # The baselines' files are the paper tables' own: the same paths Table 1 reads.
    assert set(plan.artefacts.table_inputs("table1")) & set(plan.artefacts.compare_inputs())


@pytest.mark.parametrize(
    ("overrides", "culprit"),
    [
        ({"method": "Bad/Name"}, "method_name"),
        ({"method": "x", "method_name": "../up"}, "method_name"),
        ({"method": "x", "compare_configurations": ["nowhere"]}, "compare_configurations"),
        ({"method": "x", "compare_configurations": ["kitti"], "compare_protocols": ["cityscapes"]}, "compare_protocols"),
        ({"method": "dvf", "method_name": "dmvfn"}, "method_name"),
        ({"method": "x", "compare_protocol": ["kitti"]}, "compare_protocol"),
    ],
)
def test_compare_keys_are_validated(tmp_path: Path, overrides: dict, culprit: str) -> None:
    with pytest.raises(ConfigError, match=culprit):
        smoke_plan(tmp_path, **overrides)


def test_without_method_the_compare_target_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="method="):
        smoke_plan(tmp_path).artefacts.compare_plan()


def test_method_names_and_options_from_the_command_line() -> None:
    assert method_name_of("pkg.module:Factory") == "pkg.module.factory"
    # snakemake --config reads nested values as strings
    assert parse_method_options({"width": "8", "spatial": "true", "routing": "none"}) == {"width": 8, "spatial": True, "routing": "none"}
    assert parse_method_options("{width: 8}") == {"width": 8}
    with pytest.raises(ConfigError, match="method_options"):
        parse_method_options("[1, 2]")


def write_scores(path: Path, experiment: str, protocol: str, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for seed in (0, 1):
        for clip in ("a", "b"):
            for step in range(1, 6):
                for metric in ("ms_ssim", "lpips"):
                    rows.append(dict(experiment=experiment, method="m", protocol=protocol, source="retrained", seed=seed,
                                     clip_id=clip, step=step, metric=metric, value=float(rng.uniform()), active_blocks=""))
    frame = pd.DataFrame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    scores.write_scores(frame, path)  # records the clips it was asked for, as `vpbench evaluate` does
    return frame


def test_compare_table_cells_trace_back_to_their_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_on_path) -> None:
    # The plan resolves every method it names: the plugin is installed (as its entry point would register it).
    import vpbench_example_method

    monkeypatch.setitem(registry.METHODS._entries, "example_residual", vpbench_example_method.build)
    plan = smoke_plan(tmp_path, method="example_residual", compare_configurations=["kitti"], compare_protocols=["kitti"])
    table = plan.artefacts.compare_plan()
    rng = np.random.default_rng(0)
    written: dict[str, pd.DataFrame] = {}
    for row in table["rows"]:
        cell = row["cells"]["kitti"]
        (scores,) = cell["scores"]  # one training seed per variant in this configuration
        written[cell["experiment"]] = write_scores(Path(scores), cell["experiment"], "kitti", rng)
        Path(cell["complexity"]).parent.mkdir(parents=True, exist_ok=True)
        Path(cell["complexity"]).write_text(json.dumps({"params": 2_500_000, "gflops": {"paper_convention": 1.5}}))
    files = render_table(table, tmp_path / "out")
    assert [f.name for f in files] == ["example_residual.md", "example_residual.csv", "example_residual.tex"]
    cells = build_table(table).cells
    assert set(cells["experiment"]) == set(written)
    for record in cells.itertuples():
        if record.metric == "params":
            assert record.reproduced == pytest.approx(2.5) and record.complexity_file
            continue
        if record.metric == "gflops":
            assert record.reproduced == pytest.approx(1.5)
            continue
        # Independently: cumulative mean over steps 1..k per clip, over clips, then mean over seeds (x100).
        scores = written[record.experiment]
        mine = scores[(scores.metric == record.metric) & (scores.step <= record.horizon)]
        per_seed = mine.groupby(["seed", "clip_id"])["value"].mean().groupby("seed").mean()
        assert record.reproduced == pytest.approx(100 * per_seed.mean())
        assert record.lo <= record.reproduced <= record.hi
        assert record.score_files == plan.paths.score_file(record.experiment, "kitti")
        if record.variant == table["compared"]:
            assert record.verdict == ""
        else:  # every baseline cell carries the compared method's paired difference and a verdict
            assert record.compared_with == table["compared"] and record.verdict
            assert record.difference_lo <= record.difference <= record.difference_hi
        assert math.isnan(record.paper)
    markdown = files[0].read_text()
    assert "| example_residual | reproduced (retrained), not in paper |" in markdown
    assert "official weights" in markdown and "smoke stand-in" in markdown
    assert "Paper values" not in markdown
    # readable: the protocol named once (a section heading), short column headers, the run named in the title
    assert markdown.startswith("# [SMOKE RUN]") and "## KITTI-Test (smoke)" in markdown
    header = next(line for line in markdown.splitlines() if line.startswith("| Row"))
    assert "KITTI" not in header and "cum." not in header and "| MS-SSIM t+3 |" in header
    # the per-frame figure: one legend for the figure, none inside a panel
    from vpbench.reporting.figures import figure_compare_steps

    figure = figure_compare_steps(table, "kitti", Path("."))
    assert len(figure.legends) == 1 and all(ax.get_legend() is None for ax in figure.axes)
    assert figure._suptitle.get_text().startswith("[SMOKE RUN]")





MEAN_TWO = '''
import torch
from models.base import LossOutput, Prediction, VideoPredictor, as_pair


class MeanTwo(VideoPredictor):
    """The mean of the two input frames: nothing to train."""

    trainable = False

    def predict(self, context):
        prev, cur = as_pair(context)
        return Prediction(frame=(prev + cur) / 2)

    def loss(self, context, target):
        pred = self.predict(context).frame
        total = (pred - target).abs().mean()
        return LossOutput(total=total, final_prediction=pred, terms={"l1": float(total)})


def build(**options):
    return MeanTwo()
'''


def test_command_line_values_are_typed_as_yaml() -> None:
    from vpbench.pipeline.config import yaml_typed

    # what Snakemake's --config parser hands over for method_trained=false method_options="{width: 8}" ...
    given = {"method_trained": "false", "method_options": {"width": "8", "name": "a:b"}, "compare_protocols": ["kitti"],
             "method_label": "Mean of two", "x": "null", "y": "2024-01-01"}
    assert yaml_typed(given) == {"method_trained": False, "method_options": {"width": 8, "name": "a:b"},
                                 "compare_protocols": ["kitti"], "method_label": "Mean of two", "x": None,
                                 "y": "2024-01-01"}


def test_a_parameter_free_method_is_planned_without_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mean_two.py").write_text(MEAN_TWO)
    monkeypatch.syspath_prepend(str(tmp_path))
    plan = smoke_plan(tmp_path, method="mean_two:build", method_name="mean_two", compare_protocols=["kitti"])
    untrained = plan.experiment_set.get("mean_two-kitti")
    assert untrained.source == "untrained" and not untrained.trained_here
    # told otherwise, it is trained (the engine then skips the optimiser for a method without parameters)
    trained = smoke_plan(tmp_path, method="mean_two:build", method_name="mean_two", method_trained=True)
    assert trained.experiment_set.get("mean_two-kitti").trained_here


@requires_snakemake
def test_compare_target_dry_runs_with_a_module_path(tmp_path: Path, workflow: Workflow) -> None:
    # A parameter-free plugin by module path (the example plugin runs end to end in tests/test_compare_e2e.py):
    # importable, since the plan resolves every method before any job.
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "mean_two.py").write_text(MEAN_TWO)
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(smoke_config(tmp_path)))
    # `null` reaches the schema typed (not the string "null"), and the class's trainable=False decides
    result = workflow.snakemake("-n", "--configfile", str(path), "--cores", "1", "compare", "--config",
                                "method=mean_two:build", "method_name=mean_two", "method_trained=null",
                                "compare_protocols=[kitti]", pythonpath=(plugin,), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "compare_table" in result.stdout and "mean_two-kitti" in result.stdout
    assert "checkpoints/mean_two-kitti" not in result.stdout  # no training planned
    assert "GPU-hours estimate of compare" in result.stderr and "Full run: " in result.stderr
