"""Aggregation of score rows: cumulative horizons, seeds, block usage and expected GFLOPs, against hand numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vpbench.reporting.aggregate import (
    AGGREGATE_COLUMNS,
    AggregationError,
    aggregate_scores,
    block_usage,
    expected_gflops,
)
from vpbench.evaluation.scores import scores_frame


def _rows(values: dict[tuple[int, str], list[float]], metric: str = "ms_ssim", experiment: str = "exp",
          protocol: str = "city", blocks: dict[tuple[int, str], list[str]] | None = None) -> list[dict]:
    """values[(seed, clip)] = per-step values for steps 1..n."""
    rows = []
    for (seed, clip), per_step in values.items():
        for step, value in enumerate(per_step, start=1):
            bits = blocks[(seed, clip)][step - 1] if blocks else ""
            rows.append(dict(experiment=experiment, method="m", protocol=protocol, source="retrained", seed=seed,
                             clip_id=clip, step=step, metric=metric, value=value, active_blocks=bits))
    return rows


def _cell(result: pd.DataFrame, horizon: int, metric: str = "ms_ssim") -> pd.Series:
    match = result[(result["horizon"] == horizon) & (result["metric"] == metric)]
    assert len(match) == 1
    return match.iloc[0]


def test_cumulative_mean_over_steps_then_clips_then_seeds():
    values = {
        (0, "a"): [1.0, 0.8, 0.6, 0.4, 0.2],
        (0, "b"): [0.9, 0.7, 0.5, 0.3, 0.1],
        (1, "a"): [0.8, 0.8, 0.8, 0.8, 0.8],
        (1, "b"): [0.6, 0.6, 0.6, 0.6, 0.6],
    }
    result = aggregate_scores(scores_frame(_rows(values)))
    assert list(result.columns) == AGGREGATE_COLUMNS
    assert result.attrs["cumulative"] is True
    # seed 0: t+3 clip a = (1+.8+.6)/3 = .8, clip b = .7 -> .75 ; seed 1: .8 and .6 -> .7
    t3 = _cell(result, 3)
    assert t3["mean"] == pytest.approx(0.725)
    assert t3["std"] == pytest.approx(np.std([0.75, 0.7], ddof=1))
    assert (t3["n_seeds"], t3["n_clips"]) == (2, 2)
    # t+5: seed 0: a = .6, b = .5 -> .55 ; seed 1: .7 -> mean .625
    assert _cell(result, 5)["mean"] == pytest.approx(0.625)
    # t+1: seed 0: .95, seed 1: .7
    assert _cell(result, 1)["mean"] == pytest.approx(0.825)


def test_per_step_values_when_not_cumulative():
    values = {(0, "a"): [1.0, 0.8, 0.6], (0, "b"): [0.9, 0.7, 0.2]}
    result = aggregate_scores(scores_frame(_rows(values)), horizons=(1, 3), cumulative=False)
    assert result.attrs["cumulative"] is False
    assert _cell(result, 3)["mean"] == pytest.approx(0.4)
    assert math.isnan(_cell(result, 3)["std"])  # one seed: no spread to report
    assert _cell(result, 3)["n_seeds"] == 1


def test_horizons_beyond_the_rollout_are_left_out():
    rows = _rows({(0, "a"): [0.5]}, protocol="vimeo") + _rows({(0, "a"): [0.9, 0.7, 0.5]}, protocol="city")
    result = aggregate_scores(scores_frame(rows))
    assert sorted(result[result["protocol"] == "vimeo"]["horizon"]) == [1]
    assert sorted(result[result["protocol"] == "city"]["horizon"]) == [1, 3]


def test_metrics_are_aggregated_separately_and_routing_rows_ignored():
    rows = _rows({(0, "a"): [0.1, 0.3]}, metric="lpips") + _rows({(0, "a"): [30.0, 20.0]}, metric="psnr")
    rows += _rows({(0, "a"): [float("nan")]}, metric="routing", protocol="kitti_a", blocks={(0, "a"): ["101"]})
    result = aggregate_scores(scores_frame(rows), horizons=(2,))
    assert _cell(result, 2, "lpips")["mean"] == pytest.approx(0.2)
    assert _cell(result, 2, "psnr")["mean"] == pytest.approx(25.0)
    assert set(result["metric"]) == {"lpips", "psnr"}


def test_uneven_rollouts_and_duplicates_are_errors():
    uneven = _rows({(0, "a"): [0.9, 0.8, 0.7], (0, "b"): [0.9, 0.8]})
    with pytest.raises(AggregationError, match="different numbers of steps"):
        aggregate_scores(scores_frame(uneven))
    twice = _rows({(0, "a"): [0.9]}) * 2
    with pytest.raises(AggregationError, match="duplicate"):
        aggregate_scores(scores_frame(twice))


def test_empty_input_gives_empty_table():
    result = aggregate_scores(scores_frame([]))
    assert result.empty and list(result.columns) == AGGREGATE_COLUMNS


def test_block_usage_counts_each_decision_once():
    values = {(0, "a"): [0.5, 0.5], (1, "a"): [0.5, 0.5]}
    blocks = {(0, "a"): ["110", "100"], (1, "a"): ["111", "000"]}
    rows = _rows(values, metric="ms_ssim", blocks=blocks) + _rows(values, metric="lpips", blocks=blocks)
    rows += _rows({(0, "z"): [0.5]}, experiment="copy")  # no routing: no usage rows
    usage = block_usage(scores_frame(rows))
    assert list(usage.columns) == ["experiment", "protocol", "block", "usage_rate"]
    assert set(usage["experiment"]) == {"exp"}
    # block 0: 1,1,1,0 -> .75 ; block 1: 1,0,1,0 -> .5 ; block 2: 0,0,1,0 -> .25
    assert usage.sort_values("block")["usage_rate"].tolist() == pytest.approx([0.75, 0.5, 0.25])


def test_block_usage_rejects_mixed_block_counts():
    rows = _rows({(0, "a"): [0.5], (0, "b"): [0.5]}, blocks={(0, "a"): ["11"], (0, "b"): ["111"]})
    with pytest.raises(AggregationError, match="differ in length"):
        block_usage(scores_frame(rows))


def test_expected_gflops():
    assert expected_gflops([1.0, 0.5, 0.0], [2.0, 4.0, 8.0], fixed_gflops=1.5) == pytest.approx(5.5)
    assert expected_gflops({0: 0.5, 1: 1.0}, [2.0, 3.0]) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="must match"):
        expected_gflops([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_gflops([1.5], [1.0])
