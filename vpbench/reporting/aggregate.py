"""Aggregation of raw score rows (:mod:`vpbench.evaluation.scores`) into the numbers tables and figures show.

Place in the flow: scores -> **aggregate** (this module; intervals and comparison build on its per-clip values) ->
tables/figures. Values stay in the metrics' raw units here; tables and figures apply each metric record's scale.

Cumulative horizons (the paper's convention, and the default): the value at horizon k is, per clip, the mean of the
per-step values over t+1..t+k; so the paper's "t+3" and "t+5" columns are means over the first 3 and 5 predicted
frames, not the score of frame t+3 or t+5 alone (official-implementation notes §3: the released test script logs
``sum(score[:k]) / k``). ``cumulative=False`` gives per-step values (frame t+k alone).

Per (experiment, method, protocol, source, metric, horizon): per-clip values are averaged over clips within each
routing seed, then mean and sample standard deviation (ddof=1; NaN for a single seed) are taken over seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from vpbench.evaluation.scores import ROUTING_METRIC

GROUP_COLUMNS = ["experiment", "method", "protocol", "source", "metric"]
AGGREGATE_COLUMNS = [*GROUP_COLUMNS, "horizon", "mean", "std", "n_seeds", "n_clips"]
BLOCK_USAGE_COLUMNS = ["experiment", "protocol", "block", "usage_rate"]


class AggregationError(ValueError):
    """Score rows cannot be aggregated as asked (missing steps, inconsistent routing strings)."""


def per_clip_horizon_values(df: pd.DataFrame, horizons: Sequence[int] = (1, 3, 5), cumulative: bool = True) -> pd.DataFrame:
    """One value per (group, seed, clip, horizon): the mean over steps 1..k (cumulative) or step k alone.

    Horizons longer than a protocol's rollout are left out for that protocol (Vimeo has only t+1). A clip missing
    one of the steps 1..k is an error that names it.
    """
    scored = df[df["metric"] != ROUTING_METRIC]
    keys = [*GROUP_COLUMNS, "seed", "clip_id"]
    out: list[pd.DataFrame] = []
    if scored.empty:
        return pd.DataFrame(columns=[*keys, "horizon", "value"])
    duplicated = scored.duplicated([*keys, "step"])
    if duplicated.any():
        row = scored[duplicated].iloc[0]
        raise AggregationError(
            f"duplicate score rows for {row['experiment']}/{row['protocol']} clip {row['clip_id']!r} "
            f"step {row['step']} metric {row['metric']} seed {row['seed']}"
        )
    last_step = scored.groupby(keys)["step"].max()
    uneven = last_step.groupby(level=GROUP_COLUMNS).nunique() > 1
    if uneven.any():
        where = dict(zip(GROUP_COLUMNS, uneven.index[uneven][0]))
        raise AggregationError(f"score rows {where}: clips or seeds were rolled out for different numbers of steps")
    wide = scored.set_index([*keys, "step"])["value"].unstack("step")
    for horizon in horizons:
        if horizon < 1:
            raise AggregationError(f"horizons are 1-based (t+k), got {horizon}")
        steps = list(range(1, horizon + 1)) if cumulative else [horizon]
        if horizon not in wide.columns:
            continue
        block = wide.reindex(columns=steps)
        # A group whose rollout reaches k must have every step 1..k for every clip.
        reached = block[horizon].notna()
        incomplete = reached & block.isna().any(axis=1)
        if incomplete.any():
            where = block.index[incomplete][0]
            raise AggregationError(f"score rows {dict(zip(keys, where))} lack some of steps {steps}")
        values = block[reached].mean(axis=1)
        part = values.rename("value").reset_index()
        part["horizon"] = horizon
        out.append(part)
    if not out:
        return pd.DataFrame(columns=[*keys, "horizon", "value"])
    return pd.concat(out, ignore_index=True)


def aggregate_scores(df: pd.DataFrame, horizons: Sequence[int] = (1, 3, 5), cumulative: bool = True) -> pd.DataFrame:
    """Mean ± std over routing seeds of the clip-averaged (cumulative, by default) score at each horizon.

    Returns columns ``experiment, method, protocol, source, metric, horizon, mean, std, n_seeds, n_clips``; with
    ``cumulative=True`` ``horizon`` k means "mean over t+1..t+k" (recorded in ``result.attrs["cumulative"]``).
    ``n_clips`` is the number of clips per seed (the smallest, if seeds saw different counts).
    """
    clip_values = per_clip_horizon_values(df, horizons, cumulative)
    if clip_values.empty:
        result = pd.DataFrame(columns=AGGREGATE_COLUMNS)
    else:
        per_seed = (
            clip_values.groupby([*GROUP_COLUMNS, "horizon", "seed"], sort=True)["value"]
            .agg(value="mean", n_clips="count")
            .reset_index()
        )
        result = (
            per_seed.groupby([*GROUP_COLUMNS, "horizon"], sort=True)
            .agg(
                mean=("value", "mean"),
                std=("value", lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")),
                n_seeds=("seed", "nunique"),
                n_clips=("n_clips", "min"),
            )
            .reset_index()
        )[AGGREGATE_COLUMNS]
        result = result.astype({"horizon": "int64", "mean": "float64", "std": "float64", "n_seeds": "int64", "n_clips": "int64"})
    result.attrs["cumulative"] = cumulative
    return result


def _routing_decisions(df: pd.DataFrame) -> pd.DataFrame:
    """One row per routing decision (the metric rows of a step repeat it), methods without routing dropped."""
    routed = df[df["active_blocks"] != ""]
    return routed.drop_duplicates(["experiment", "protocol", "seed", "clip_id", "step"])


def block_usage(df: pd.DataFrame) -> pd.DataFrame:
    """Per-block usage rate per evaluation set (Table 4, Figure 5): the fraction of decisions that ran block i.

    Every (seed, clip, step) decision counts once. Returns ``experiment, protocol, block (0-based), usage_rate``.
    """
    decisions = _routing_decisions(df)
    parts: list[pd.DataFrame] = []
    for (experiment, protocol), group in decisions.groupby(["experiment", "protocol"], sort=True):
        lengths = group["active_blocks"].str.len().unique()
        if len(lengths) != 1:
            raise AggregationError(
                f"{experiment}/{protocol}: active_blocks strings differ in length {sorted(lengths)}; "
                "one method per experiment must have one block count"
            )
        bits = np.array([[c == "1" for c in s] for s in group["active_blocks"]], dtype=np.float64)
        rates = bits.mean(axis=0)
        parts.append(
            pd.DataFrame(
                {"experiment": experiment, "protocol": protocol, "block": np.arange(len(rates)), "usage_rate": rates}
            )
        )
    if not parts:
        return pd.DataFrame(columns=BLOCK_USAGE_COLUMNS)
    return pd.concat(parts, ignore_index=True).astype({"block": "int64", "usage_rate": "float64"})


def per_clip_usage(df: pd.DataFrame) -> pd.DataFrame:
    """Per (experiment, routing seed, clip, block): the fraction of that clip's steps that ran the block.

    The mean over clips equals :func:`block_usage` (every clip of a protocol has the same number of steps); the
    per-clip values are what an interval over clips is computed from. Columns:
    ``experiment, seed, clip_id, block, usage_rate``.
    """
    decisions = _routing_decisions(df)
    columns = ["experiment", "seed", "clip_id", "block", "usage_rate"]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    lengths = decisions["active_blocks"].str.len().unique()
    if len(lengths) != 1:
        raise AggregationError(f"active_blocks strings differ in length {sorted(lengths)}; one method must have one block count")
    bits = pd.DataFrame(
        np.array([[c == "1" for c in s] for s in decisions["active_blocks"]], dtype=np.float64),
        index=pd.MultiIndex.from_frame(decisions[["experiment", "seed", "clip_id"]]),
    )
    rates = bits.groupby(level=["experiment", "seed", "clip_id"], sort=True).mean()
    rates.columns.name = "block"
    out = rates.stack().rename("usage_rate").reset_index()
    return out[columns].astype({"block": "int64", "usage_rate": "float64"})


def expected_gflops(
    usage_rates: Sequence[float] | Mapping[int, float] | np.ndarray,
    per_block_gflops: Sequence[float] | np.ndarray,
    fixed_gflops: float = 0.0,
) -> float:
    """Expected GFLOPs of a routed network: ``fixed + sum_i usage_i * gflops_i``.

    ``fixed_gflops`` holds what runs on every input (e.g. the routing head), if the convention counts it.
    """
    if isinstance(usage_rates, Mapping):
        usage = np.array([usage_rates[i] for i in range(len(per_block_gflops))], dtype=np.float64)
    else:
        usage = np.asarray(usage_rates, dtype=np.float64)
    gflops = np.asarray(per_block_gflops, dtype=np.float64)
    if usage.shape != gflops.shape:
        raise ValueError(f"{usage.size} usage rates for {gflops.size} blocks; they must match")
    if ((usage < 0) | (usage > 1)).any():
        raise ValueError(f"usage rates must lie in [0, 1], got {usage.tolist()}")
    return float(fixed_gflops + usage @ gflops)
