"""Evaluation rollout and score files, with stand-in methods whose predictions are known in advance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from models.base import LossOutput, Prediction, VideoPredictor
from models.registry import register_method
from vpbench.evaluation import rollout as evaluation
from vpbench.reporting.aggregate import aggregate_scores, block_usage
from vpbench.training.checkpoints import CHECKPOINT_FORMAT
from vpbench.cli import main as vpbench_main
from vpbench.evaluation.rollout import (
    EvaluationError,
    FrameSelection,
    RowLabels,
    evaluate_windows,
    rollout,
)
from vpbench.evaluation.metrics import MetricSuite
from vpbench.evaluation.scores import SCORE_COLUMNS, ScoreFileError, read_scores, scores_frame, write_scores
from vpbench.pipeline.spec import EvalSpec, ExperimentSpec

from tests.toy_protocol import ToyProtocol

STEP_DELTA = 0.02  # not a multiple of 1/255: quantising fed-back predictions would change the numbers
LABELS = RowLabels("exp", "brighten", "proto", "retrained")
SELECTION = FrameSelection(input_indices=(0, 1), target_indices=(2, 3, 4))


class Brighten(VideoPredictor):
    """Predicts the latest frame plus ``delta``; remembers every context it saw."""

    context_length = 2

    def __init__(self, delta: float = STEP_DELTA, context_length: int = 2) -> None:
        super().__init__()
        self.delta = delta
        self.context_length = context_length
        self.bias = torch.nn.Parameter(torch.zeros(()))
        self.seen: list[torch.Tensor] = []

    def predict(self, context: torch.Tensor) -> Prediction:
        self.check_context(context, self.context_length)
        self.seen.append(context.clone())
        return Prediction(frame=context[:, -1] + self.delta + self.bias)

    def loss(self, context, target):  # pragma: no cover - not trained here
        frame = self.predict(context).frame
        return LossOutput(total=(frame - target).abs().mean(), final_prediction=frame)


class CoinRouter(Brighten):
    """Brighten plus a routing draw from torch's global RNG, like DMVFN's Bernoulli sampling."""

    def predict(self, context: torch.Tensor) -> Prediction:
        predicted = super().predict(context)
        active = torch.rand(context.shape[0], 9) < 0.5
        return Prediction(frame=predicted.frame, active_blocks=active)


@register_method("test-brighten")
def _build_brighten(delta: float = STEP_DELTA) -> Brighten:
    return Brighten(delta)


def constant_window(clip_id: str, levels: list[int], size: tuple[int, int] = (16, 16)) -> dict:
    frames = torch.stack([torch.full((3, *size), level, dtype=torch.uint8) for level in levels])
    return {"clip_id": clip_id, "frames": frames}


def expected_psnr(error: float) -> float:
    return -10 * math.log10(error**2)


def test_rollout_feeds_back_unquantised_predictions():
    inputs = torch.full((1, 2, 3, 4, 4), 100 / 255)
    method = Brighten().eval()
    predictions = rollout(method, inputs, steps=3)
    for k, predicted in enumerate(predictions, start=1):
        assert torch.allclose(predicted.frame, torch.full((1, 3, 4, 4), 100 / 255 + k * STEP_DELTA), atol=1e-6)
    # the third call saw (t+1, t+2): both predictions, as floats
    last_context = method.seen[-1]
    assert torch.allclose(last_context[:, 0], predictions[0].frame) and torch.allclose(last_context[:, 1], predictions[1].frame)


def test_rollout_clamps_and_uses_only_the_latest_context_frames():
    inputs = torch.stack([torch.full((1, 3, 4, 4), v) for v in (0.1, 0.2, 0.97)], dim=1)
    method = Brighten(context_length=1).eval()
    predictions = rollout(method, inputs, steps=2)
    assert method.seen[0].shape[1] == 1 and torch.allclose(method.seen[0], inputs[:, 2:])
    assert predictions[0].frame.max().item() == pytest.approx(0.99)  # 0.97 + 0.02
    assert predictions[1].frame.max().item() == 1.0  # 0.99 + 0.02, clamped
    with pytest.raises(EvaluationError, match="needs 3 context frames"):
        rollout(Brighten(context_length=3), inputs[:, :2], steps=1)


def test_scores_per_step_match_hand_computed_psnr_and_cumulative_means():
    windows = [constant_window("c0", [100, 100, 100, 100, 100]), constant_window("c1", [90, 100, 110, 120, 130])]
    suite = MetricSuite(metrics=("psnr",))
    scores = evaluate_windows(Brighten(), windows, SELECTION, LABELS, suite, progress=False)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert len(scores) == 2 * 3  # clips x steps x one metric
    # c0: prediction 100/255 + 0.02k against 100/255; c1: against (100 + 10k)/255
    errors = {("c0", k): STEP_DELTA * k for k in (1, 2, 3)}
    errors.update({("c1", k): abs(STEP_DELTA * k - 10 * k / 255) for k in (1, 2, 3)})
    for row in scores.itertuples():
        assert row.value == pytest.approx(expected_psnr(errors[(row.clip_id, row.step)]), abs=1e-3)
        assert (row.seed, row.active_blocks, row.metric, row.source) == (0, "", "psnr", "retrained")
    table = aggregate_scores(scores, horizons=(1, 3))
    t3 = table[table["horizon"] == 3].iloc[0]
    hand = np.mean([np.mean([expected_psnr(errors[(c, k)]) for k in (1, 2, 3)]) for c in ("c0", "c1")])
    assert t3["mean"] == pytest.approx(hand, abs=1e-3)
    assert t3["n_clips"] == 2


def test_batches_give_the_same_rows_as_single_windows():
    windows = [constant_window(f"c{i}", [80 + i] * 5) for i in range(3)]
    suite = MetricSuite(metrics=("psnr", "ssim"))
    one = evaluate_windows(Brighten(), windows, SELECTION, LABELS, suite, progress=False)
    two = evaluate_windows(Brighten(), windows, SELECTION, LABELS, suite, batch_size=2, progress=False)
    key = ["clip_id", "step", "metric"]
    pd.testing.assert_frame_equal(one.sort_values(key).reset_index(drop=True), two.sort_values(key).reset_index(drop=True))


def test_each_seed_pass_is_reproducible_and_recorded():
    windows = [constant_window(f"c{i}", [100] * 5) for i in range(4)]
    suite = MetricSuite(metrics=("psnr",))
    first = evaluate_windows(CoinRouter(), windows, SELECTION, LABELS, suite, seeds=[3, 7], progress=False)
    again = evaluate_windows(CoinRouter(), windows, SELECTION, LABELS, suite, seeds=[7], progress=False)
    assert sorted(first["seed"].unique()) == [3, 7]
    routes = {seed: part.sort_values(["clip_id", "step"])["active_blocks"].tolist() for seed, part in first.groupby("seed")}
    assert routes[7] == again.sort_values(["clip_id", "step"])["active_blocks"].tolist()
    assert routes[3] != routes[7]
    assert all(len(bits) == 9 for bits in first["active_blocks"])
    usage = block_usage(first)
    assert len(usage) == 9 and usage["usage_rate"].between(0, 1).all()
    table = aggregate_scores(first)
    assert table[table["horizon"] == 1]["n_seeds"].item() == 2
    with pytest.raises(EvaluationError, match="re-iterable"):
        evaluate_windows(CoinRouter(), iter(windows), SELECTION, LABELS, suite, seeds=[0, 1], progress=False)


def test_routing_only_protocol_writes_nan_rows():
    windows = [constant_window("c0", [10, 20, 30]), constant_window("c1", [10, 20, 30])]
    selection = FrameSelection(input_indices=(0, 2), target_indices=())
    scores = evaluate_windows(CoinRouter(), windows, selection, LABELS, None, seeds=[0], progress=False)
    assert len(scores) == 2
    assert (scores["metric"] == "routing").all() and scores["value"].isna().all() and (scores["step"] == 1).all()
    assert aggregate_scores(scores).empty
    assert len(block_usage(scores)) == 9


def test_bad_windows_are_named():
    suite = MetricSuite(metrics=("psnr",))
    short = [constant_window("short-clip", [100, 100, 100])]
    with pytest.raises(EvaluationError, match="short-clip.*3 frames"):
        evaluate_windows(Brighten(), short, SELECTION, LABELS, suite, progress=False)
    grey = [{"clip_id": "grey", "frames": torch.zeros(5, 1, 8, 8, dtype=torch.uint8)}]
    with pytest.raises(EvaluationError, match="grey"):
        evaluate_windows(Brighten(), grey, SELECTION, LABELS, suite, progress=False)


# ------------------------------------------------------------------------------------------ score files
def _sample_scores() -> pd.DataFrame:
    windows = [constant_window("c0", [100] * 5)]
    return evaluate_windows(CoinRouter(), windows, SELECTION, LABELS, MetricSuite(metrics=("psnr",)), progress=False)


def test_score_file_round_trip(tmp_path):
    scores = _sample_scores()
    path = write_scores(scores, tmp_path / "sub" / "proto.parquet")
    back = read_scores(path)
    pd.testing.assert_frame_equal(back, scores)
    assert back["value"].dtype == np.float64 and back["step"].dtype == np.int64
    assert [p.name for p in path.parent.iterdir()] == ["proto.parquet"]  # no temp file left behind


def test_score_file_errors_name_the_file(tmp_path):
    with pytest.raises(ScoreFileError, match="absent.parquet.*not found"):
        read_scores(tmp_path / "absent.parquet")
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(ScoreFileError, match="broken.parquet"):
        read_scores(broken)
    wrong = tmp_path / "wrong.parquet"
    _sample_scores().drop(columns=["seed"]).to_parquet(wrong)
    with pytest.raises(ScoreFileError, match=r"wrong.parquet.*missing \['seed'\]"):
        read_scores(wrong)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": "paper-only"}, "unknown source"),
        ({"metric": "fid"}, "unknown metric"),
        ({"step": 0}, "1-based"),
        ({"active_blocks": "10x"}, "'0'/'1'"),
        ({"value": float("nan")}, "NaN psnr"),
    ],
)
def test_scores_contract_is_enforced(change, message):
    row = dict(experiment="e", method="m", protocol="p", source="retrained", seed=0, clip_id="c", step=1,
               metric="psnr", value=30.0, active_blocks="")
    row.update(change)
    with pytest.raises(ScoreFileError, match=message):
        scores_frame([row])


# ---------------------------------------------------------------------------------------------- the command


@pytest.fixture
def toy_protocol(monkeypatch):
    protocol = ToyProtocol()
    windows = [constant_window("c0", [100] * 5), constant_window("c1", [50, 60, 70, 80, 90])]

    def fake(protocol_name, data_root, max_clips):
        assert protocol_name == "toy"
        return protocol, windows[:max_clips] if max_clips else windows

    monkeypatch.setattr(evaluation, "_protocol_windows", fake)
    return protocol


def _spec(tmp_path, method: str, source: str = "retrained", seeds=(0,)) -> str:
    spec = ExperimentSpec(id=f"{method}-toy", method=method, source=source, eval=EvalSpec(routing_seeds=list(seeds)))
    spec.save(tmp_path / "spec.json")
    return str(tmp_path / "spec.json")


def test_command_scores_copy_last_without_checkpoint(tmp_path, toy_protocol):
    out = tmp_path / "scores" / "toy.parquet"
    code = vpbench_main(["evaluate", "--spec", _spec(tmp_path, "copy_last", "untrained"), "--protocol", "toy",
                         "--data-root", str(tmp_path), "--out", str(out), "--no-progress"])
    assert code == 0
    scores = read_scores(out)
    assert set(scores["metric"]) == {"psnr", "ssim"} and set(scores["source"]) == {"untrained"}
    c1 = scores[(scores["clip_id"] == "c1") & (scores["metric"] == "psnr")].sort_values("step")
    # copying frame 1 (60) for every step against 70, 80, 90
    assert c1["value"].tolist() == pytest.approx([expected_psnr(d / 255) for d in (10, 20, 30)], abs=1e-3)


def test_command_loads_a_checkpoint_and_honours_max_clips_and_seeds(tmp_path, toy_protocol):
    model = Brighten()
    torch.save({"format": CHECKPOINT_FORMAT, "method": "test-brighten", "method_options": {"delta": STEP_DELTA},
                "model": {"bias": torch.tensor(0.01)}, "spec": {}, "step": 1}, tmp_path / "final.pt")
    out = tmp_path / "toy.parquet"
    code = vpbench_main(["evaluate", "--spec", _spec(tmp_path, "test-brighten"), "--checkpoint", str(tmp_path / "final.pt"),
                         "--protocol", "toy", "--data-root", str(tmp_path), "--out", str(out), "--max-clips", "1",
                         "--seeds", "4,5", "--metrics", "psnr", "--no-progress"])
    assert code == 0 and model.bias.item() == 0.0
    scores = read_scores(out)
    assert set(scores["clip_id"]) == {"c0"} and sorted(scores["seed"].unique()) == [4, 5]
    step1 = scores[(scores["step"] == 1)]["value"]
    assert step1.tolist() == pytest.approx([expected_psnr(STEP_DELTA + 0.01)] * 2, abs=1e-3)  # the loaded bias counts


def test_command_refuses_a_trainable_method_without_checkpoint(tmp_path, toy_protocol, capsys):
    out = tmp_path / "toy.parquet"
    code = vpbench_main(["evaluate", "--spec", _spec(tmp_path, "test-brighten"), "--protocol", "toy",
                         "--data-root", str(tmp_path), "--out", str(out), "--no-progress"])
    assert code == 2 and "--checkpoint" in capsys.readouterr().err and not out.exists()


def test_bgr_protocol_feeds_the_method_reversed_channels(tmp_path, toy_protocol):
    toy_protocol.channel_order = "bgr"
    seen = []

    class RecordChannels(Brighten):
        def predict(self, context):
            seen.append(context[0, -1, :, 0, 0].clone())
            return super().predict(context)

    adapted = evaluation.ChannelOrderAdapter(RecordChannels(delta=0.0))
    rgb = torch.tensor([0.1, 0.5, 0.9]).view(1, 1, 3, 1, 1).expand(1, 2, 3, 2, 2)
    predictions = rollout(adapted, rgb, steps=1)
    assert torch.allclose(seen[0], torch.tensor([0.9, 0.5, 0.1]))
    assert torch.allclose(predictions[0].frame[0, :, 0, 0], torch.tensor([0.1, 0.5, 0.9]))


def test_dmvfn_rollout_records_nine_routing_bits():
    from models.registry import create_method

    dmvfn = create_method("dmvfn").eval()
    windows = [{"clip_id": "noise", "frames": torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)}]
    scores = evaluate_windows(dmvfn, windows, SELECTION, RowLabels("dmvfn", "dmvfn", "toy", "untrained"),
                              MetricSuite(metrics=("psnr",)), seeds=[0, 1], progress=False)
    assert len(scores) == 2 * 3
    assert all(len(bits) == 9 and set(bits) <= {"0", "1"} for bits in scores["active_blocks"])


def test_command_names_an_unknown_protocol(tmp_path, capsys):
    code = vpbench_main(["evaluate", "--spec", _spec(tmp_path, "copy_last", "untrained"), "--protocol", "no-such-set",
                         "--data-root", str(tmp_path), "--out", str(tmp_path / "x.parquet"), "--no-progress"])
    assert code == 2 and "unknown protocol 'no-such-set'" in capsys.readouterr().err


@pytest.mark.slow
def test_command_on_prepared_smoke_cityscapes(tmp_path, smoke_data):
    """The whole path on real prepared data: smoke raw tree -> prepare (session fixture) -> vpbench evaluate -> aggregate."""
    out = tmp_path / "copy.parquet"
    code = vpbench_main(["evaluate", "--spec", _spec(tmp_path, "copy_last", "untrained"), "--protocol", "cityscapes",
                         "--data-root", str(smoke_data.prepared / "cityscapes"), "--out", str(out), "--max-clips", "1",
                         "--no-progress"])
    assert code == 0
    scores = read_scores(out)
    assert scores["clip_id"].nunique() == 1 and sorted(scores["step"].unique()) == [1, 2, 3, 4, 5]
    assert set(scores["metric"]) == {"ms_ssim", "lpips", "psnr", "ssim"}
    table = aggregate_scores(scores)
    ms = table[table["metric"] == "ms_ssim"].set_index("horizon")["mean"]
    assert 0 < ms[5] < ms[1] <= 1  # copying the last frame degrades with the horizon


def test_checkpoint_of_another_method_is_refused(tmp_path, toy_protocol, capsys):
    torch.save({"format": CHECKPOINT_FORMAT, "method": "copy_last", "method_options": {}, "model": {}, "spec": {},
                "step": 1}, tmp_path / "other.pt")
    code = vpbench_main(["evaluate", "--spec", _spec(tmp_path, "test-brighten"), "--checkpoint", str(tmp_path / "other.pt"),
                         "--protocol", "toy", "--data-root", str(tmp_path), "--out", str(tmp_path / "x.parquet"),
                         "--no-progress"])
    assert code == 2 and "holds method 'copy_last'" in capsys.readouterr().err
