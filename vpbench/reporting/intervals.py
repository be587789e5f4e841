"""Confidence intervals for reproduced numbers, and paired comparisons between methods.

Place in the flow: scores -> aggregate (per-clip values) -> **intervals** (this module) -> tables/figures. Callers
pass a metric's direction (``higher_is_better``, from :mod:`vpbench.evaluation.metric_records`); nothing here knows
metric names.

A reproduced cell is a mean over clips x routing seeds x training seeds. Its 95 % interval combines two sources of
uncertainty, each estimated where it is visible:

* **clips**: the evaluation set is a sample of clips. Per clip, the values are first averaged over every seed; the
  mean of these clip values gets a bootstrap interval over clips (``scipy.stats.bootstrap``, BCa, fixed random state
  so that a table renders the same twice). Below :data:`MIN_BOOTSTRAP_CLIPS` clips the bootstrap is known to
  under-cover (with 2 clips it has 3 possible resampled means), so a Student-t interval over clips is used there.
* **training seeds**: another training run is another network, which moves every clip's score at once; the clip
  bootstrap cannot see that. With several training seeds, the spread of the per-seed means gives a Student-t
  half-width ``t_{0.975, n-1} * sd / sqrt(n)``. Clips are the same for every seed, so this spread does not contain
  clip sampling noise.

Routing seeds need no term of their own: the routing draw is independent per clip, so its noise is part of each
clip's value and the clip bootstrap already carries it (a separate routing-seed term would count it twice); the
routing draws are averaged within each clip first.

The two half-widths are combined in quadrature on each side of the mean (the sources are taken as independent):
``lo = mean - sqrt(clip_lo^2 + seed^2)``, ``hi = mean + sqrt(clip_hi^2 + seed^2)``. With one training seed the
interval covers clips and routing draws only (``Estimate.covers`` says so); with a single clip it is undefined (NaN).

Paired comparisons (:func:`paired_difference`) bootstrap the per-clip differences of two methods on the same clips
(same steps), and add both methods' seed half-widths in quadrature. A difference whose interval excludes zero is a
verdict ("better" or "worse" by the metric's direction); otherwise "not distinguishable".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 2000
RANDOM_STATE = 20230601  # fixed: a re-rendered table shows the same interval
MIN_BOOTSTRAP_CLIPS = 30  # fewer clips: Student-t interval over clips instead of the bootstrap

#: columns of the frame :func:`estimate` and :func:`paired_difference` take
VALUE_COLUMNS = ["train_seed", "routing_seed", "clip_id", "value"]

BETTER, WORSE, NOT_DISTINGUISHABLE = "better", "worse", "not distinguishable"
UNDETERMINED = "undetermined (fewer than 2 clips)"


class IntervalError(ValueError):
    """Values cannot be turned into an interval as asked (e.g. two methods scored on different clips)."""


@dataclass(frozen=True)
class Estimate:
    """A mean with its confidence interval and what the interval covers."""

    mean: float
    lo: float
    hi: float
    n_clips: int
    n_routing_seeds: int
    n_train_seeds: int
    clip_half_width: tuple[float, float]  # (below, above) the mean, from the clip bootstrap
    seed_half_width: float  # Student-t half-width over training seeds (0 with one training seed)

    @property
    def half_width(self) -> float:
        """Half the interval's width (the "±" a table prints; the CSV keeps lo and hi)."""
        return (self.hi - self.lo) / 2.0

    @property
    def covers(self) -> str:
        """What the interval accounts for, in words."""
        how = "bootstrap" if self.n_clips >= MIN_BOOTSTRAP_CLIPS else "t"
        what = f"{self.n_clips} clips ({how}"
        what += f", {self.n_routing_seeds} routing seeds averaged per clip)" if self.n_routing_seeds > 1 else ")"
        if self.n_train_seeds > 1:
            what += f" + {self.n_train_seeds} training seeds (t)"
        return what

    def scaled(self, factor: float) -> Estimate:
        """The same estimate in other units (e.g. the paper's x10^-2)."""
        below, above = self.clip_half_width
        return Estimate(self.mean * factor, self.lo * factor, self.hi * factor, self.n_clips, self.n_routing_seeds,
                        self.n_train_seeds, (below * factor, above * factor), self.seed_half_width * factor)


def _check_columns(values: pd.DataFrame, where: str) -> None:
    missing = [c for c in VALUE_COLUMNS if c not in values.columns]
    if missing:
        raise IntervalError(f"{where}: columns {missing} missing; expected {VALUE_COLUMNS}")
    if values.empty:
        raise IntervalError(f"{where}: no values")


def clip_means(values: pd.DataFrame) -> pd.Series:
    """Per clip, the mean over every (training seed, routing seed) that scored it."""
    return values.groupby("clip_id", sort=True)["value"].mean()


def mean_interval(sample: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of the mean of ``sample`` over its values (clips).

    BCa bootstrap (percentile where BCa is degenerate) from :data:`MIN_BOOTSTRAP_CLIPS` values on, Student-t below.
    A constant sample has the zero-width interval at its value; fewer than two values give NaNs.
    """
    sample = np.asarray(sample, dtype=np.float64)
    if sample.size < 2:
        return math.nan, math.nan
    if np.all(sample == sample[0]):
        return float(sample[0]), float(sample[0])
    if sample.size < MIN_BOOTSTRAP_CLIPS:
        mean = float(sample.mean())
        half = t_half_width(sample, confidence)
        return mean - half, mean + half
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BCa on tiny samples warns and returns NaN: fall back
            result = stats.bootstrap(
                (sample,), np.mean, confidence_level=confidence, n_resamples=N_RESAMPLES, method=method,
                rng=np.random.default_rng(RANDOM_STATE), vectorized=True,
            )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if math.isfinite(low) and math.isfinite(high):
            return low, high
    return math.nan, math.nan


def seed_units(values: pd.DataFrame) -> pd.Series:
    """The per-training-seed means (each averaged over its routing seeds and clips): the replicates of the mean."""
    per_run = values.groupby(["train_seed", "routing_seed"])["value"].mean()
    return per_run.groupby(level="train_seed").mean()


def t_half_width(units: Sequence[float] | np.ndarray | pd.Series, confidence: float = CONFIDENCE) -> float:
    """Student-t half-width of the mean of ``units`` (0 for one unit: no training-seed spread is observable)."""
    units = np.asarray(units, dtype=np.float64)
    if units.size < 2:
        return 0.0
    sd = float(np.std(units, ddof=1))
    return float(stats.t.ppf(0.5 + confidence / 2.0, df=units.size - 1) * sd / math.sqrt(units.size))


def _combine(mean: float, clip_low: float, clip_high: float, seed_half: float) -> tuple[float, float]:
    below, above = mean - clip_low, clip_high - mean
    return mean - math.hypot(below, seed_half), mean + math.hypot(above, seed_half)


def estimate(values: pd.DataFrame, confidence: float = CONFIDENCE, where: str = "values") -> Estimate:
    """Mean and interval of one cell from its ``train_seed, routing_seed, clip_id, value`` rows."""
    _check_columns(values, where)
    per_clip = clip_means(values)
    mean = float(per_clip.mean())
    clip_low, clip_high = mean_interval(per_clip.to_numpy(), confidence)
    seed_half = t_half_width(seed_units(values), confidence)
    lo, hi = _combine(mean, clip_low, clip_high, seed_half)
    return Estimate(
        mean=mean, lo=lo, hi=hi, n_clips=int(per_clip.size),
        n_routing_seeds=int(values["routing_seed"].nunique()), n_train_seeds=int(values["train_seed"].nunique()),
        clip_half_width=(mean - clip_low, clip_high - mean), seed_half_width=seed_half,
    )


@dataclass(frozen=True)
class Difference:
    """``a - b`` on the same clips, its interval and the verdict for ``a``."""

    mean: float
    lo: float
    hi: float
    n_clips: int
    verdict: str  # better | worse | not distinguishable | undetermined (for a, by the metric's direction)


def verdict_of(lo: float, hi: float, higher_is_better: bool) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return UNDETERMINED
    if lo <= 0.0 <= hi:
        return NOT_DISTINGUISHABLE
    higher = lo > 0.0
    return BETTER if higher == higher_is_better else WORSE


def paired_difference(
    a: pd.DataFrame, b: pd.DataFrame, higher_is_better: bool, confidence: float = CONFIDENCE, where: str = "comparison"
) -> Difference:
    """``a - b`` over clips both were scored on: paired bootstrap over clips + both methods' seed spread.

    The two must cover the same clips (a paired comparison on different clips is meaningless): otherwise an error
    names the clips only one of them has.
    """
    _check_columns(a, where)
    _check_columns(b, where)
    clips_a, clips_b = clip_means(a), clip_means(b)
    only_a = sorted(set(clips_a.index) - set(clips_b.index))
    only_b = sorted(set(clips_b.index) - set(clips_a.index))
    if only_a or only_b:
        raise IntervalError(f"{where}: not scored on the same clips (only in the first: {only_a[:3]}, "
                            f"only in the second: {only_b[:3]})")
    diffs = (clips_a - clips_b.reindex(clips_a.index)).to_numpy()
    mean = float(diffs.mean())
    clip_low, clip_high = mean_interval(diffs, confidence)
    seed_half = math.hypot(t_half_width(seed_units(a), confidence), t_half_width(seed_units(b), confidence))
    lo, hi = _combine(mean, clip_low, clip_high, seed_half)
    return Difference(mean=mean, lo=lo, hi=hi, n_clips=int(diffs.size), verdict=verdict_of(lo, hi, higher_is_better))


def consistency(paper: float, lo: float, hi: float, tolerance: float) -> str | None:
    """Reproduced interval vs the paper's value, widened by ``tolerance`` on both sides.

    ``"consistent"`` when ``lo - tol <= paper <= hi + tol``; ``"above"`` when the whole widened interval lies above
    the paper's value (the reproduction is higher), ``"below"`` when it lies below; None when any is unknown.
    A missing tolerance counts as 0.
    """
    tolerance = 0.0 if tolerance is None or math.isnan(tolerance) else tolerance
    if any(v is None or math.isnan(v) for v in (paper, lo, hi)):
        return None
    if paper < lo - tolerance:
        return "above"
    if paper > hi + tolerance:
        return "below"
    return "consistent"


__all__ = [
    "BETTER", "CONFIDENCE", "MIN_BOOTSTRAP_CLIPS", "Difference", "Estimate", "IntervalError", "NOT_DISTINGUISHABLE", "UNDETERMINED", "VALUE_COLUMNS", "WORSE",
    "mean_interval", "clip_means", "consistency", "estimate", "paired_difference", "seed_units",
    "t_half_width", "verdict_of",
]
