"""Paired comparisons of a new method with each baseline (``snakemake compare``): difference, interval, verdict.

Place in the flow: scores -> cells (each cell's scores and per-clip values, :mod:`vpbench.reporting.cells`) ->
**comparison** and intervals -> the compare table (``kind: metrics``, :mod:`vpbench.reporting.kinds.metrics_table`)
and its per-step figure. Which way is better comes from
each metric's record (:mod:`vpbench.evaluation.metric_records`).

For every (protocol, metric, horizon) cell of a compare plan (:meth:`vpbench.pipeline.artefacts.Artefacts.compare_plan`), the compared
method minus each baseline, on the same clips and steps: :func:`vpbench.reporting.intervals.paired_difference` bootstraps the
per-clip differences and adds both sides' seed spread; the verdict says whether the compared method is better,
worse, or not distinguishable at 95 %. :func:`step_differences` gives the same per predicted frame (t+1..t+k, not
cumulative) for the difference-curve figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from vpbench.evaluation.metric_records import get_metric
from vpbench.reporting.cells import cell_scores, cell_values
from vpbench.reporting.intervals import IntervalError, paired_difference

DIFFERENCE_COLUMNS = ["baseline", "label", "protocol", "metric", "horizon", "difference", "lo", "hi", "n_clips", "verdict"]


class ComparisonError(ValueError):
    """The compared method and a baseline cannot be paired (different clips or steps); the message names them."""


def differences(
    compared: Mapping[tuple[str, int], pd.DataFrame],
    baseline: Mapping[tuple[str, int], pd.DataFrame],
    *, name: str, label: str, protocol: str,
) -> list[dict[str, Any]]:
    """One record per (metric, horizon) both sides have: compared - baseline, in the metric's raw units."""
    records = []
    for key in sorted(set(compared) & set(baseline)):
        metric, horizon = key
        where = f"{protocol} {metric} t+{horizon}: compared method vs {name}"
        try:
            diff = paired_difference(compared[key], baseline[key], get_metric(metric).higher_is_better, where=where)
        except IntervalError as err:
            raise ComparisonError(str(err)) from None
        records.append({"baseline": name, "label": label, "protocol": protocol, "metric": metric, "horizon": horizon,
                        "difference": diff.mean, "lo": diff.lo, "hi": diff.hi, "n_clips": diff.n_clips,
                        "verdict": diff.verdict})
    return records


def step_differences(plan: Mapping[str, Any], protocol: str, base: str | Path = ".") -> pd.DataFrame:
    """Per predicted frame t+1..t+K (not cumulative): compared method minus each baseline, with intervals.

    Rows of baselines that were not run on ``protocol`` are left out. Columns: :data:`DIFFERENCE_COLUMNS`.
    """
    base = Path(base)
    group = next((g for g in plan["groups"] if g["protocol"] == protocol), None)
    if group is None:
        raise ComparisonError(f"protocol {protocol!r} is not in the comparison (protocols: "
                              f"{', '.join(g['protocol'] for g in plan['groups'])})")
    steps = list(range(1, max(group["horizons"]) + 1))
    compared_row, *baseline_rows = plan["rows"]
    compared_cell = compared_row["cells"].get(protocol)
    if not compared_cell:
        raise ComparisonError(f"the compared method has no score file on {protocol!r}")
    cache: dict[str, pd.DataFrame] = {}
    compared = cell_values(cell_scores(compared_cell, protocol, base, cache), steps, cumulative=False)
    records: list[dict[str, Any]] = []
    for row in baseline_rows:
        cell = row["cells"].get(protocol)
        if not cell:
            continue
        baseline = cell_values(cell_scores(cell, protocol, base, cache), steps, cumulative=False)
        records += differences(compared, baseline, name=row["variant"], label=row.get("label", row["variant"]), protocol=protocol)
    frame = pd.DataFrame.from_records(records, columns=DIFFERENCE_COLUMNS)
    return frame[frame["metric"].isin(group["metrics"])].reset_index(drop=True)


__all__ = ["ComparisonError", "DIFFERENCE_COLUMNS", "differences", "step_differences"]
