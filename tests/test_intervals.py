"""Confidence intervals and paired comparisons (vpbench.reporting.intervals): coverage, verdicts, the paper-consistency rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vpbench.reporting.intervals import (
    BETTER,
    MIN_BOOTSTRAP_CLIPS,
    NOT_DISTINGUISHABLE,
    WORSE,
    IntervalError,
    consistency,
    estimate,
    paired_difference,
)


def frame(values: np.ndarray, train_seed: int = 0, routing_seed: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"train_seed": train_seed, "routing_seed": routing_seed,
                         "clip_id": [f"clip{i:03d}" for i in range(len(values))], "value": values})


def coverage(draw, true_mean: float, repeats: int) -> float:
    hits = 0
    for _ in range(repeats):
        result = estimate(draw())
        hits += result.lo <= true_mean <= result.hi
    return hits / repeats


@pytest.mark.parametrize("n_clips", [MIN_BOOTSTRAP_CLIPS + 10, 8], ids=["bootstrap", "student-t"])
def test_interval_covers_the_mean_of_a_known_distribution_at_the_nominal_rate(n_clips: int) -> None:
    # Skewed per-clip scores (gamma, mean 2): 300 simulated evaluation sets; a 95% interval must cover the true mean
    # about 95% of the time. The band allows the binomial noise of 300 draws (sd 1.3 points) and BCa's known small
    # under-coverage on a few dozen values.
    rng = np.random.default_rng(7)
    rate = coverage(lambda: frame(rng.gamma(4.0, 0.5, n_clips)), true_mean=2.0, repeats=300)
    assert 0.90 <= rate <= 0.99, rate


def test_interval_covers_training_seed_spread() -> None:
    # Every training run shifts all clips at once (a seed effect the clip bootstrap cannot see): with 3 seeds the
    # interval must still cover the population mean at about the nominal rate; without the seed term it would not.
    rng = np.random.default_rng(11)

    def draw() -> pd.DataFrame:
        clips = rng.normal(0.0, 1.0, 40)
        parts = []
        for seed, shift in enumerate(rng.normal(0.0, 0.5, 3)):
            for routing in (0, 1):
                parts.append(frame(1.0 + clips + shift + rng.normal(0.0, 0.1, 40), seed, routing))
        return pd.concat(parts, ignore_index=True)

    rate = coverage(draw, true_mean=1.0, repeats=200)
    assert 0.90 <= rate <= 1.0, rate
    clip_only = 0
    for _ in range(200):
        result = estimate(draw())
        below, above = result.clip_half_width
        clip_only += result.mean - below <= 1.0 <= result.mean + above
    assert clip_only / 200 < 0.8  # the training-seed term is what makes the interval honest


def test_estimate_reports_its_sample_sizes_and_what_it_covers() -> None:
    values = pd.concat([frame(np.arange(5.0), routing_seed=r) for r in (0, 1)], ignore_index=True)
    result = estimate(values)
    assert result.mean == pytest.approx(2.0)
    assert (result.n_clips, result.n_routing_seeds, result.n_train_seeds) == (5, 2, 1)
    assert result.lo < 2.0 < result.hi and result.seed_half_width == 0.0
    assert "5 clips" in result.covers and "2 routing seeds" in result.covers
    assert math.isnan(estimate(frame(np.array([1.0]))).lo)  # one clip: no interval


def test_method_compared_with_itself_is_not_distinguishable() -> None:
    rng = np.random.default_rng(3)
    values = pd.concat([frame(rng.uniform(0.5, 0.9, 40), routing_seed=r) for r in (0, 1)], ignore_index=True)
    diff = paired_difference(values, values.copy(), higher_is_better=True)
    assert diff.mean == 0.0 and diff.lo <= 0.0 <= diff.hi
    assert diff.verdict == NOT_DISTINGUISHABLE


@pytest.mark.parametrize("n_clips", [40, 5])
def test_clear_margin_on_every_clip_is_better(n_clips: int) -> None:
    rng = np.random.default_rng(5)
    base = frame(rng.uniform(0.5, 0.8, n_clips))
    shifted = base.assign(value=base["value"] + 0.05 + rng.uniform(0.0, 0.01, n_clips))
    assert paired_difference(shifted, base, higher_is_better=True).verdict == BETTER
    assert paired_difference(base, shifted, higher_is_better=True).verdict == WORSE
    # LPIPS-like metric: lower is better, so the same shift is worse
    assert paired_difference(shifted, base, higher_is_better=False).verdict == WORSE


def test_pairing_needs_the_same_clips() -> None:
    a = frame(np.ones(4))
    b = frame(np.ones(5))
    with pytest.raises(IntervalError, match="same clips.*clip004"):
        paired_difference(a, b, higher_is_better=True)


def test_paper_consistency_rule() -> None:
    assert consistency(paper=30.0, lo=29.0, hi=31.0, tolerance=0.0) == "consistent"
    assert consistency(paper=28.5, lo=29.0, hi=31.0, tolerance=0.5) == "consistent"  # widened by the tolerance
    assert consistency(paper=28.0, lo=29.0, hi=31.0, tolerance=0.5) == "above"  # reproduction above the paper
    assert consistency(paper=32.0, lo=29.0, hi=31.0, tolerance=0.5) == "below"
    assert consistency(paper=math.nan, lo=29.0, hi=31.0, tolerance=0.5) is None
