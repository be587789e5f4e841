"""Bad inputs, table by table: config, data, checkpoints, score files and interrupted runs.

Every case asserts the same contract: the command fails with one line that names the culprit (file, key,
experiment, clip or step), the exit code says whose fault it is (2: the input, 1: a failure), no traceback is
printed, and nothing half-written is left where a later step could take it for a result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from tests.conftest import ROOT, SMOKE_CONFIG, Workflow, requires_snakemake, smoke_config
from tests.test_train_support import TinyPredictor, tiny_spec
from vpbench.evaluation import rollout as evaluation
from vpbench.cli import main as vpbench_main
from vpbench.pipeline.plan import Plan
from vpbench.evaluation.scores import SCORE_COLUMNS, ScoreFileError, read_scores, write_scores
from vpbench.pipeline.spec import ExperimentSpec

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = vpbench_main(list(argv))
    err = capsys.readouterr().err
    return code, err


def assert_one_line(err: str, *culprits: str) -> None:
    lines = [line for line in err.splitlines() if line.strip() and "%|" not in line]  # no progress bars
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    for culprit in culprits:
        assert culprit in lines[0], (culprit, lines[0])


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files a writer could leave behind."""
    return sorted(str(p) for p in folder.rglob("*") if p.name.endswith((".part", ".tmp")) or ".part." in p.name)


# ------------------------------------------------------------------------------------------------------ config
def _variant(name: str, key: str, value: Any) -> Callable[[dict, dict], None]:
    def edit(config: dict, experiments: dict) -> None:
        experiments["variants"][name][key] = value
    return edit


def _option(name: str, key: str, value: Any) -> Callable[[dict, dict], None]:
    def edit(config: dict, experiments: dict) -> None:
        experiments["variants"][name].setdefault("options", {})[key] = value
    return edit


def _config(*path: str, value: Any) -> Callable[[dict, dict], None]:
    def edit(config: dict, experiments: dict) -> None:
        node = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return edit


CONFIG_CASES = {
    "unknown method": (_variant("dvf", "method", "dvff"),
                       ["variants.dvf.method", "experiment dvf-kitti", "unknown method 'dvff'", "did you mean 'dvf'"]),
    "beta 0": (_option("dmvfn-beta_0.3", "beta", 0), ["variants.dmvfn-beta_0.3.options.beta", "(0, 1]", "got 0"]),
    "beta 1.5": (_option("dmvfn-beta_0.3", "beta", 1.5), ["options.beta", "dmvfn-beta_0.3-kitti", "(0, 1]", "1.5"]),
    "beta of the wrong type": (_option("dmvfn-beta_0.3", "beta", "high"), ["options.beta", "must be a number", "'high'"]),
    "unknown option": (_option("dmvfn", "betta", 0.4), ["variants.dmvfn.options.betta", "did you mean 'beta'"]),
    "bad option choice": (_option("dmvfn-routing_none", "routing", "nope"), ["options.routing", "'nope'", "stebs"]),
    "option of a parameter-free method": (_option("copy_last", "delta", 1), ["variants.copy_last.options.delta"]),
    "protocol on the wrong dataset": (_config("protocols", "kitti", "dataset", value="cityscapes"),
                                      ["protocols.kitti.dataset", "'kitti'"]),
    "protocol size differs from the prepared size": (_config("protocols", "kitti", "size", value="256x832"),
                                                     ["protocols.kitti.size", "datasets.kitti.size"]),
    "frames too small for MS-SSIM": (
        lambda config, experiments: [config["datasets"]["kitti"].update(size="144x560"),
                                     config["protocols"]["kitti"].update(size="144x560")],
        ["datasets.kitti.size", "protocol kitti", "> 160 px"]),
    "no crop on small frames": (_config("recipes", "smoke", "crop", value=None),
                                ["recipes.smoke.crop", "224", "176x352", "cityscapes"]),
    "a learning rate of zero": (_config("recipes", "smoke", "lr_max", value=0), ["recipes.smoke", "lr_max"]),
    "crop larger than the frames": (_config("recipes", "smoke", "crop", value=200), ["recipes.smoke.crop", "crop 200"]),
}


def write_bad_config(tmp_path: Path, edit: Callable[[dict, dict], None]) -> Path:
    config = smoke_config(tmp_path)
    experiments = yaml.safe_load((ROOT / config["experiments_file"]).read_text())
    config["experiments_file"] = str(tmp_path / "experiments.yaml")
    config["tables_file"] = str(ROOT / config["tables_file"])
    edit(config, experiments)
    (tmp_path / "experiments.yaml").write_text(yaml.safe_dump(experiments))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("case", list(CONFIG_CASES), ids=list(CONFIG_CASES))
def test_a_bad_config_fails_at_plan_time_naming_the_key(tmp_path, capsys, case):
    edit, culprits = CONFIG_CASES[case]
    config = write_bad_config(tmp_path, edit)
    code, err = run_cli(capsys, "plan", "--config", str(config))
    assert code == 2
    assert_one_line(err, *culprits)
    # `vpbench spec` builds the same plan: it refuses too, and writes no spec file
    out = tmp_path / "specs" / "dmvfn-kitti.json"
    code, err = run_cli(capsys, "spec", "dmvfn-kitti", "--config", str(config), "--out", str(out))
    assert code == 2 and culprits[0] in err and not out.parent.exists()


def test_the_unedited_smoke_config_plans():
    assert len(Plan.from_files([SMOKE_CONFIG]).experiment_set.by_id) > 10


@requires_snakemake
def test_snakemake_dry_run_stops_on_a_bad_method_before_any_job(tmp_path, workflow: Workflow):
    config = write_bad_config(tmp_path, CONFIG_CASES["beta 1.5"][0])
    result = workflow.snakemake("-n", "--configfile", str(config), "--cores", "1", timeout=300)
    assert result.returncode != 0
    assert "variants.dmvfn-beta_0.3.options.beta" in result.stdout + result.stderr
    assert "Job stats" not in result.stdout


SPEC_CASES = {
    "unknown key": ({"train": {"lr": 1}}, ["spec.json.train", "unknown key(s) ['lr']"]),
    "negative learning rate": ({"train": {"lr_max": -1.0}}, ["train.lr_max", "-1.0"]),
    "infinite learning rate": ({"train": {"lr_max": float("inf")}}, ["train.lr_max", "inf"]),
    "zero steps": ({"train": {"max_steps": 0}}, ["train.max_steps", "got 0"]),
    "no routing seeds": ({"eval": {"routing_seeds": []}}, ["eval.routing_seeds", "[]"]),
    "upper-case channel order": ({"eval": {"channel_order_lpips": "BGR"}}, ["eval.channel_order_lpips", "'BGR'"]),
}


@pytest.mark.parametrize("case", list(SPEC_CASES), ids=list(SPEC_CASES))
def test_a_bad_spec_file_is_named(tmp_path, capsys, case):
    change, culprits = SPEC_CASES[case]
    spec = tiny_spec().to_dict()
    for section, values in change.items():
        spec[section] = {**(spec[section] or {}), **values}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    code, err = run_cli(capsys, "train", "--spec", str(tmp_path / "spec.json"), "--out", str(tmp_path / "out"),
                        "--device", "cpu", "--no-progress")
    assert code == 2
    assert_one_line(err, *culprits)
    assert not (tmp_path / "out").exists()


# -------------------------------------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def small_kitti(tmp_path_factory) -> Path:
    """A prepared KITTI training tree of 40x56 frames (smaller than every default crop)."""
    from data_prep.catalog import kitti
    from data_prep.preprocess import prepare
    from tests.data_fixtures import kitti_drive, video

    raw = tmp_path_factory.mktemp("raw")
    for i, drive in enumerate(kitti.TRAIN_DRIVES[:2]):
        kitti_drive(raw, drive, video(12, 40, 56, seed=i), cameras=("image_02", "image_03"))
    out = tmp_path_factory.mktemp("prepared") / "kitti"
    prepare("kitti", raw, out, size=(40, 56), subset=True, splits=("train",))
    return out


def _train_spec(tmp_path: Path, data_root: Path, **train: Any) -> Path:
    spec = {"id": "small-kitti", "method": "dmvfn", "method_options": {"routing": "none", "scales": [1], "widths": [8]},
            "train": {"dataset": "kitti", "data_root": str(data_root), "max_steps": 2, "batch_size": 1,
                      "num_workers": 0, "amp": False, **train}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize("train, culprits", [
    ({}, ["train.crop", "crop 224", "40x56", "<= 40"]),  # the paper recipe's default crop
    ({"crop": 48}, ["train.crop", "crop 48"]),
], ids=["recipe default crop", "explicit crop"])
def test_a_crop_larger_than_the_frames_is_one_line(tmp_path, capsys, small_kitti, train, culprits):
    out = tmp_path / "out"
    code, err = run_cli(capsys, "train", "--spec", str(_train_spec(tmp_path, small_kitti, **train)), "--out", str(out),
                        "--device", "cpu", "--no-progress")
    assert code == 2
    assert_one_line(err, *culprits)
    assert not (out / "final.pt").exists() and not (out / "last.pt").exists()


def test_a_crop_error_raised_in_a_loader_worker_is_reworded():
    from vpbench.training.trainer import _reworded_data_error

    buried = ValueError("Caught ValueError in DataLoader worker process 0.\nOriginal Traceback (most recent call "
                        "last):\n  File ...\nValueError: crop 224 is larger than the frames (176x352)\n")
    reworded = _reworded_data_error(buried, tiny_spec().train)
    assert reworded is not None and "\n" not in str(reworded)
    assert "train.crop: crop 224 is larger than the frames (176x352)" in str(reworded)
    assert _reworded_data_error(ValueError("something else"), tiny_spec().train) is None


# ------------------------------------------------------------------------------------------------- checkpoints
@pytest.fixture
def fake_protocol(monkeypatch):
    """A 16x16, three-step protocol with two clips (no prepared tree needed)."""
    from tests.toy_protocol import ToyProtocol

    generator = torch.Generator().manual_seed(0)
    windows = [{"clip_id": f"clip{i}", "frames": torch.randint(0, 256, (5, 3, 16, 16), generator=generator,
                                                                dtype=torch.uint8)} for i in range(2)]
    monkeypatch.setattr(evaluation, "_protocol_windows", lambda name, root, max_clips: (ToyProtocol(metrics=("psnr",)), windows))


def _official_files(tmp_path: Path) -> dict[str, Path]:
    from models import DMVFN, save_official_format

    model = DMVFN(routing="none", scales=[1], widths=[8])
    files = {"good": save_official_format(model, tmp_path / "good.pkl")}
    state = torch.load(files["good"], weights_only=True)
    state.pop("module.block0.conv0.0.0.weight")
    torch.save(state, tmp_path / "missing_key.pkl")
    files["missing key"] = tmp_path / "missing_key.pkl"
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(float("nan"))
    files["all-NaN weights"] = save_official_format(model, tmp_path / "nan.pkl")
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(files["good"].read_bytes()[:200])
    files["truncated file"] = truncated
    files["missing file"] = tmp_path / "absent.pkl"
    return files


CHECKPOINT_CASES = {
    "missing key": (2, ["missing_key.pkl", "missing keys: block0.conv0.0.0.weight"]),
    "all-NaN weights": (1, ["nan.pkl", "block0", "not finite"]),
    "truncated file": (2, ["truncated.pkl", "cannot be read"]),
    "missing file": (2, ["absent.pkl", "not found"]),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_CASES), ids=list(CHECKPOINT_CASES))
def test_a_bad_official_checkpoint_is_refused_before_scoring(tmp_path, capsys, fake_protocol, case):
    code_wanted, culprits = CHECKPOINT_CASES[case]
    checkpoint = _official_files(tmp_path)[case]
    spec = ExperimentSpec(id="official-toy", method="dmvfn", source="official-weights",
                          method_options={"routing": "none", "scales": [1], "widths": [8]})
    spec.save(tmp_path / "spec.json")
    out = tmp_path / "scores" / "toy.parquet"
    code, err = run_cli(capsys, "evaluate", "--spec", str(tmp_path / "spec.json"), "--checkpoint", str(checkpoint),
                        "--protocol", "toy", "--data-root", str(tmp_path), "--out", str(out), "--no-progress")
    assert code == code_wanted
    assert_one_line(err, *culprits)
    assert not out.exists() and not leftovers(tmp_path)


class NaNAtStep(torch.nn.Module):
    """Predicts the last frame, except NaN for clip 1 from step ``bad_step`` on."""

    context_length = 2
    trainable = False

    def __init__(self, bad_step: int) -> None:
        super().__init__()
        self.bad_step, self.calls = bad_step, 0

    def predict(self, context):
        from models.base import Prediction

        self.calls += 1
        frame = context[:, -1].clone()
        if self.calls >= self.bad_step:
            frame[1] = float("nan")
        return Prediction(frame=frame)


def test_a_non_finite_prediction_names_clip_and_step():
    from vpbench.evaluation.rollout import FrameSelection, NonFinitePrediction, RowLabels, evaluate_windows
    from vpbench.evaluation.metrics import MetricSuite

    windows = [{"clip_id": name, "frames": torch.full((5, 3, 16, 16), 90, dtype=torch.uint8)} for name in ("a", "b")]
    with pytest.raises(NonFinitePrediction, match=r"clip 'b', step t\+2: the predicted frame holds NaN"):
        evaluate_windows(NaNAtStep(2), windows, FrameSelection((0, 1), (2, 3, 4)), RowLabels("e", "m", "toy", "untrained"),
                         MetricSuite(["psnr"]), batch_size=2, progress=False)


def test_nan_routing_probabilities_are_refused_in_evaluation():
    from models import DMVFN
    from vpbench.evaluation.rollout import NonFinitePrediction, rollout

    model = DMVFN(scales=[1, 1], widths=[8, 8]).eval()
    with torch.no_grad():
        model.l1.bias.fill_(float("nan"))
    with pytest.raises(NonFinitePrediction, match=r"step t\+1: the routing probabilities are not finite"):
        rollout(model, torch.rand(1, 2, 3, 16, 16), 3)


def test_a_corrupt_last_checkpoint_is_named_on_resume(tmp_path, capsys):
    spec = tiny_spec(max_steps=2)
    spec.save(tmp_path / "spec.json")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "last.pt").write_bytes(b"not a checkpoint")
    code, err = run_cli(capsys, "train", "--spec", str(tmp_path / "spec.json"), "--out", str(tmp_path / "out"),
                        "--resume", "--device", "cpu", "--no-progress")
    assert code == 2
    assert_one_line(err, "last.pt", "cannot read checkpoint")
    assert not (tmp_path / "out" / "final.pt").exists()


# ------------------------------------------------------------------------------------------------ score files
STEPS, SEEDS, CLIPS = 3, (0, 1), ("c0", "c1")
EXPECT = {"experiment": "e", "protocol": "p", "seeds": list(SEEDS), "steps": STEPS, "max_clips": 2}


def whole_scores() -> pd.DataFrame:
    rows = [{"experiment": "e", "method": "m", "protocol": "p", "source": "retrained", "seed": seed, "clip_id": clip,
             "step": step, "metric": metric, "value": 0.5, "active_blocks": ""}
            for seed in SEEDS for clip in CLIPS for step in range(1, STEPS + 1) for metric in ("psnr", "ssim")]
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def _drop(condition: Callable[[pd.DataFrame], pd.Series]) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        frame = whole_scores()
        frame[~condition(frame)].to_parquet(path, index=False)
    return corrupt


def _rewrite(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    return lambda path: change(whole_scores()).to_parquet(path, index=False)


SCORE_CASES = {
    "no seed column": (_rewrite(lambda f: f.drop(columns="seed")), ["columns missing ['seed']"]),
    "a clip short of a step": (_drop(lambda f: (f.clip_id == "c1") & (f.step == 3) & (f.metric == "psnr")),
                               ["incomplete", "psnr", "t+3: 1"]),
    "a clip missing for one metric": (_drop(lambda f: (f.clip_id == "c1") & (f.metric == "ssim")),
                                      ["incomplete", "ssim", "clips missing: ['c1']"]),
    "the last step missing": (_drop(lambda f: f.step == 3), ["steps [1, 2]", "[1, 2, 3]"]),
    "a routing seed missing": (_drop(lambda f: f.seed == 1), ["routing seeds [0]", "[0, 1]"]),
    "a row twice": (_rewrite(lambda f: pd.concat([f, f.iloc[:1]])), ["scored twice"]),
    "another experiment's rows": (_rewrite(lambda f: f.assign(experiment="other")), ["experiment", "'other'"]),
    "more clips than the spec evaluates": (
        _rewrite(lambda f: pd.concat([f, f[f.clip_id == "c0"].assign(clip_id="c2")])), ["3 clips", "max_clips 2"]),
    "a NaN value": (_rewrite(lambda f: f.assign(value=np.where(f.index == 5, np.nan, f.value))), ["NaN"]),
    "truncated parquet": (lambda path: path.write_bytes(b"PAR1" + b"\0" * 20), ["not a readable parquet"]),
}


@pytest.mark.parametrize("case", list(SCORE_CASES), ids=list(SCORE_CASES))
def test_a_partial_or_malformed_score_file_is_named(tmp_path, case):
    from vpbench.reporting.cells import TableError
    from vpbench.reporting.cells import read_scores as read_table_scores

    corrupt, culprits = SCORE_CASES[case]
    path = tmp_path / "p.parquet"
    corrupt(path)
    with pytest.raises(ScoreFileError) as caught:
        read_scores(path, EXPECT)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    for culprit in culprits:
        assert culprit in message, (culprit, message)
    with pytest.raises(TableError, match="p.parquet"):  # what `vpbench render` reads through
        read_table_scores(["p.parquet"], tmp_path, EXPECT)


def test_a_whole_score_file_reads(tmp_path):
    path = write_scores(whole_scores(), tmp_path / "whole.parquet")
    assert len(read_scores(path, EXPECT)) == len(whole_scores())


def _render_world(tmp_path: Path) -> tuple[Plan, Path]:
    config = smoke_config(tmp_path)
    config["select"] = {"variants": ["copy_last", "dmvfn"], "configurations": ["kitti"]}
    config.pop("official_weights")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return Plan(config, root=ROOT), tmp_path / "config.yaml"


def _whole_file(plan: Plan, experiment: str, protocol: str, clips: int, drop: str | None = None) -> Path:
    exp, expect = plan.experiment_set.by_id[experiment], plan.artefacts.score_expectation(experiment, protocol)
    rows = [{"experiment": experiment, "method": exp.method, "protocol": protocol, "source": exp.source, "seed": seed,
             "clip_id": f"c{c}", "step": step, "metric": metric, "value": 0.5, "active_blocks": ""}
            for seed in expect["seeds"] for c in range(clips) for step in range(1, expect["steps"] + 1)
            for metric in ("ms_ssim", "lpips", "psnr", "ssim")]
    path = Path(plan.paths.score_file(experiment, protocol))
    path.parent.mkdir(parents=True, exist_ok=True)
    if drop:
        pd.DataFrame(rows).drop(columns=[drop]).to_parquet(path)
    else:
        write_scores(pd.DataFrame(rows), path)  # records the clips it was asked for, as `vpbench evaluate` does
    return path


@pytest.mark.parametrize("case", ["no seed column", "fewer clips than the other rows"])
def test_render_names_the_bad_score_file_and_writes_no_table(tmp_path, capsys, case):
    plan, config = _render_world(tmp_path)
    for experiment in ("copy_last-kitti", "dmvfn-kitti"):
        for protocol in plan.experiment_set.by_id[experiment].protocols:
            _whole_file(plan, experiment, protocol, 2)
    if case == "no seed column":
        bad = _whole_file(plan, "copy_last-kitti", "kitti", 2, drop="seed")
        culprits = [str(bad), "columns missing ['seed']"]
    else:
        bad = _whole_file(plan, "copy_last-kitti", "kitti", 1)
        culprits = [f"{bad}: scores 1 clips of protocol 'kitti'", "scores 2", "re-run the evaluation"]
    code, err = run_cli(capsys, "render", "table5", "--config", str(config))
    assert code == 1
    assert_one_line(err, *culprits)
    assert not list((tmp_path / "reports").rglob("table5.*"))


# -------------------------------------------------------------------------------------------- interrupted runs
def test_a_diverging_dmvfn_takes_the_non_finite_stop(tmp_path, capsys):
    """The paper's DMVFN with a learning rate of 1e30: NaN routing probabilities, not a torch.bernoulli traceback."""
    spec = tiny_spec("diverging", max_steps=6, crop=32, batch_size=1, checkpoint_every=1, lr_max=1e30, lr_min=1e30,
                     max_clips=6)
    data = spec.to_dict() | {"method": "dmvfn", "method_options": {}}
    (tmp_path / "spec.json").write_text(json.dumps(data))
    out = tmp_path / "out"
    code, err = run_cli(capsys, "train", "--spec", str(tmp_path / "spec.json"), "--out", str(out), "--device", "cpu",
                        "--no-progress")
    assert code == 1
    assert_one_line(err, "step ", "not finite", "last.pt is kept as the last good checkpoint")
    assert "bernoulli" not in err and not (out / "final.pt").exists() and not leftovers(out)
    from vpbench.training.checkpoints import load_training_checkpoint

    last = load_training_checkpoint(out / "last.pt")
    assert all(torch.isfinite(t).all() for t in last["model"].values())
    assert f"step {last['step'] + 1} " in err


class PoisonedPredictor(TinyPredictor):
    """TinyPredictor that turns one kind of value NaN/inf from its 4th step on (steps 1-3 are clean)."""

    def __init__(self, poison: str) -> None:
        super().__init__(noise=False, nan_after=3 if poison == "loss" else None)
        self.poison = poison
        self.spare = torch.nn.Parameter(torch.zeros(2))  # not in the loss: only the weight check can see it
        self.steps = 0

    def set_training_progress(self, progress: float) -> None:
        self.steps += 1
        if self.steps == 4 and self.poison == "weight":
            with torch.no_grad():
                self.spare.fill_(float("inf"))

    def loss(self, context, target):
        output = super().loss(context, target)
        if self.poison == "gradient" and self.steps >= 4:
            self.net[0].weight.register_hook(lambda grad: grad * float("nan"))
        return output


def poisoned_predictor(**options: Any) -> PoisonedPredictor:
    return PoisonedPredictor(**options)


@pytest.mark.parametrize("poison, culprit", [
    ("loss", "the loss is not finite"),
    ("gradient", "the gradient of net.0.weight is not finite"),
    ("weight", "the weight spare is not finite after the optimiser step"),
])
def test_every_non_finite_value_takes_the_same_stop(tmp_path, poison, culprit):
    from vpbench.training.checkpoints import load_training_checkpoint
    from vpbench.training.trainer import TrainingDiverged, train

    spec = tiny_spec(max_steps=6, checkpoint_every=2, method_options={"poison": poison})
    spec.method = "tests.test_bad_inputs:poisoned_predictor"
    with pytest.raises(TrainingDiverged) as caught:
        train(spec, tmp_path, device="cpu", progress=False, tensorboard=False)
    message = str(caught.value)
    assert "step 4 (epoch 0, window 0)" in message and culprit in message and "\n" not in message
    assert f"{tmp_path / 'last.pt'} is kept as the last good checkpoint" in message
    assert load_training_checkpoint(tmp_path / "last.pt")["step"] == 2  # the step-4 state was never saved
    assert not (tmp_path / "final.pt").exists() and not leftovers(tmp_path)


def test_a_failed_score_write_leaves_nothing(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    def broken(table, path, **kwargs):
        Path(path).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        write_scores(whole_scores(), tmp_path / "scores.parquet")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------------- the CLI
def test_tracebacks_only_on_request(tmp_path, capsys, monkeypatch):
    spec = tmp_path / "missing.json"
    code, err = run_cli(capsys, "train", "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert code == 2 and "Traceback" not in err
    code, err = run_cli(capsys, "--debug", "train", "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert code == 2 and "Traceback" in err and err.strip().endswith("experiment spec not found")
    monkeypatch.setenv("VPBENCH_DEBUG", "1")
    code, err = run_cli(capsys, "train", "--spec", str(spec), "--out", str(tmp_path / "o"))
    assert code == 2 and "Traceback" in err


def test_an_unexpected_error_is_one_line_with_a_hint(capsys, monkeypatch):
    import vpbench.commands.render as render

    def boom(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(render, "_plan", boom)
    code, err = run_cli(capsys, "render", "table1")
    assert code == 1
    assert_one_line(err, "ZeroDivisionError: division by zero", "--debug")


# ------------------------------------------------------------------------------------- config edits re-run cleanly
@pytest.mark.slow
@requires_snakemake
def test_editing_a_training_setting_reruns_the_experiment_from_scratch(tmp_path, small_kitti, workflow: Workflow):
    """Snakemake re-runs spec and train after `max_steps` changes; the old run is kept aside, no manual clean-up."""
    import shutil

    from vpbench.training.checkpoints import load_training_checkpoint

    experiment = "dmvfn-routing_none-kitti"
    config = smoke_config(tmp_path)
    config["select"] = {"experiments": [experiment], "variants": ["dmvfn-routing_none"], "configurations": ["kitti"]}
    config.pop("official_weights")
    config["recipes"]["smoke"].update(max_steps=2, batch_size=1, crop=32, checkpoint_every=1, max_clips=2)
    shutil.copytree(small_kitti, tmp_path / "prepared" / "kitti")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    plan = Plan(config, root=ROOT)
    target = plan.paths.checkpoint_file(experiment)

    def snakemake():
        return workflow.snakemake("--configfile", str(config_file), "--cores", "1", "--allowed-rules", "spec", "train",
                                  "--show-failed-logs", target, timeout=300)

    first = snakemake()
    assert first.returncode == 0, first.stderr[-3000:]
    assert load_training_checkpoint(target)["step"] == 2
    config["recipes"]["smoke"]["max_steps"] = 3  # the edit
    config_file.write_text(yaml.safe_dump(config))
    second = snakemake()
    assert second.returncode == 0, second.stderr[-3000:]
    assert load_training_checkpoint(target)["step"] == 3
    folder = Path(target).parent
    (moved,) = (folder / "superseded").iterdir()
    assert load_training_checkpoint(moved / "last.pt")["spec"]["train"]["max_steps"] == 2
    log = (Path(config["paths"]["results"]) / "logs" / "train" / f"{experiment}.log").read_text()
    assert "moved that run to" in log and "train.max_steps" in log
    third = snakemake()  # unchanged: nothing re-runs
    assert third.returncode == 0 and "Nothing to be done" in third.stdout + third.stderr
