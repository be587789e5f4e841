"""The cells of a table: the score and complexity readers and the computation of each cell, in one module.

Place in the flow: scores (:mod:`vpbench.evaluation.scores`) -> aggregate (:mod:`vpbench.reporting.aggregate`) ->
**cells** (this module; intervals from :mod:`vpbench.reporting.intervals`) -> the table kinds
(:mod:`vpbench.reporting.kinds`) -> tables and figures. The kinds, :mod:`~vpbench.reporting.comparison` and the
figures read their score and complexity files here and nowhere else.

A *cell* of a plan (:meth:`vpbench.pipeline.artefacts.Artefacts.cell`) names the experiments of one variant on one
protocol (one per training seed), their score files, what a whole score file holds (``expect``) and the complexity
file. Its scores are reduced to per-clip values (:func:`cell_values`; t+k = mean over t+1..t+k by default, the
paper's convention), then to a mean and a 95 % interval over clips and seeds (:func:`cell_estimates`). A *record*
is one row of a table's CSV (:data:`CELL_COLUMNS`): the paper's value, the reproduced one with its interval, the
difference and its consistency with the paper, and the files it was computed from.

Reproduced values are shown in the paper's units (each record's ``scale``: MS-SSIM, LPIPS, SSIM and usage rates
×10⁻²); counted quantities (GFLOPs, parameters) are exact.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpbench.evaluation import scores
from vpbench.evaluation.metric_records import METRICS, get_quantity
from vpbench.reporting.aggregate import per_clip_horizon_values
from vpbench.reporting.errors import TableError
from vpbench.reporting.intervals import VALUE_COLUMNS, Estimate, consistency, estimate

CELL_COLUMNS = [
    "table", "row", "label", "variant", "experiment", "source", "status", "protocol", "metric", "horizon", "column",
    "paper", "reproduced", "lo", "hi", "n_clips", "n_seeds", "n_train_seeds", "interval_covers", "delta", "tolerance",
    "consistency", "score_files", "complexity_file", "compared_with", "difference", "difference_lo", "difference_hi",
    "verdict",
]
#: the consistency of a cell whose value does not compare with the paper's (another resolution, the smoke data)
NOT_COMPARABLE = "not comparable"


INTERVAL_NOTE = (
    "Reproduced: mean ± half-width of its 95% interval over clips (BCa bootstrap from 30 clips, Student t below; "
    "routing seeds averaged within each clip), combined with the spread over training seeds where the variant has several; the CSV keeps lo, hi, "
    "n_clips, n_seeds (routing), n_train_seeds and interval_covers. Intervals are clipped to the metric's range "
    "(MS-SSIM and SSIM at most 1, LPIPS and PSNR at least 0); a clipped one is shown as mean [lo, hi]. "
    "GFLOPs and parameters are exact counts."
)
CONSISTENCY_NOTE = (
    "Δ = reproduced − paper, marked ≈ when the paper's value lies inside the interval widened by the table's "
    "tolerance, ↑ when the reproduction is above it, ↓ when below (docs/evaluation.md)."
)


# The notes below name metrics in prose; tests/test_metric_records.py checks them against the metric records.
def _listing(labels: list[str], joint: str) -> str:
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} {joint} {labels[-1]}"


def _units_note() -> str:
    """How values are shown, from the metric records (scale, unit)."""
    by_note: dict[str, list[str]] = {}
    for metric in METRICS.values():
        if metric.scale_note:
            by_note.setdefault(metric.scale_note, []).append(metric.label)
    parts = [f"{_listing(labels, 'and')} in {note}" for note, labels in by_note.items()]
    parts += [f"{m.label} in {m.unit}" for m in METRICS.values() if m.unit]
    parts.append("GFLOPs counted with fvcore, one multiply-add = one FLOP (routed methods: expected cost under the "
                 "measured block usage).")
    return "; ".join(parts)


def _directions() -> str:
    """Which way is better for each metric, from the records."""
    higher = "/".join(m.label for m in METRICS.values() if m.higher_is_better)
    lower = "/".join(m.label for m in METRICS.values() if not m.higher_is_better)
    return f"Directions: higher {higher}, lower {lower}."


METRICS_UNITS_NOTE = _units_note()
PAIRED_NOTE = (
    "Under each baseline: the compared method minus that baseline on the same clips and steps, with a 95% interval "
    "(paired, over clips as for the cells, plus both methods' training-seed spread) and the verdict for the compared method: "
    "better, worse, or not distinguishable (the interval contains 0). " + _directions()
)


# ---------------------------------------------------------------------------------------------------------------
# inputs


def read_paper_csv(path: str | Path) -> pd.DataFrame:
    """The paper's numbers: index = the first column (row label), columns as in the CSV, empty cells NaN."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: paper CSV not found")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    label = frame.columns[0]
    frame = frame.set_index(label)
    numeric = frame.drop(columns=[c for c in ("inputs",) if c in frame.columns])
    try:
        values = numeric.replace("", np.nan).astype(float)
    except ValueError as err:
        raise TableError(f"{path}: non-numeric paper value ({err})") from None
    if values.index.has_duplicates:
        raise TableError(f"{path}: duplicate row label {values.index[values.index.duplicated()][0]!r}")
    return values


def read_scores(files: Sequence[str], base: Path, expect: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Score files, each validated (:func:`vpbench.evaluation.scores.validate_scores`) and, with ``expect`` (a cell's
    ``expect``: experiment, protocol, seeds, steps, clips), checked to be one whole evaluation."""
    frames = []
    for name in files:
        try:
            frames.append(scores.read_scores(base / name, expect))
        except scores.ScoreFileError as err:  # a missing or invalid file: the score readers' own message
            raise TableError(str(err)) from None
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def read_complexity(path: str | Path) -> dict[str, Any]:
    """A complexity file of ``vpbench complexity`` (parameters, GFLOPs in several conventions)."""
    path = Path(path)
    if not path.is_file():
        raise TableError(f"{path}: complexity file not found (run its `vpbench complexity` job first)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise TableError(f"{path}: not valid JSON ({err})") from None


def counted_gflops(record: Mapping[str, Any]) -> float | None:
    """GFLOPs in the paper's convention; the expected cost under the measured block usage for routed methods."""
    gflops = record.get("gflops") or {}
    for key in ("routed_expected_paper_convention", "paper_convention"):
        value = gflops.get(key)
        if value is not None:
            return float(value)
    return None


def counted_params(record: Mapping[str, Any]) -> float | None:
    """The parameter count of a complexity file, in the paper's unit (the ``params`` record's scale: millions)."""
    params = record.get("params")
    return None if params is None else float(params) * get_quantity("params").scale


#: the counted quantities a table prints, each read from a complexity file (an exact count, no interval)
COUNTED_READERS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "gflops": counted_gflops, "params": counted_params,
}


def _same_clips_as_peers(frame: pd.DataFrame, path: Path, protocol: str, cache: dict[str, Any]) -> None:
    """Every score file of one protocol in a table scores the same clips (a file cut short shows up here)."""
    clips = frozenset(frame["clip_id"])
    key = f"clips of protocol {protocol}"
    if key not in cache:
        cache[key] = (clips, path)
        return
    peer_clips, peer = cache[key]
    if clips != peer_clips:
        (short, n_short), (other, n_other) = sorted([(path, len(clips)), (peer, len(peer_clips))], key=lambda p: p[1])
        raise TableError(
            f"{short}: scores {n_short} clips of protocol {protocol!r}, but {other} scores {n_other} "
            f"({len(clips ^ peer_clips)} differ); the rows of a table compare the same clips: re-run the evaluation "
            "that is short"
        )


def read_cell_scores(cell: Mapping[str, Any], base: Path) -> pd.DataFrame:
    """Every training seed's score file of a cell, each checked to be one whole evaluation (its ``expect``)."""
    expects = cell.get("expect") or [None] * len(cell["scores"])
    return pd.concat([read_scores([path], base, expect) for path, expect in zip(cell["scores"], expects)], ignore_index=True)


def cell_scores(cell: Mapping[str, Any], protocol: str, base: Path, cache: dict[str, Any]) -> pd.DataFrame:
    """The score rows of a cell on ``protocol``: every training seed's experiment, every file checked to be whole
    and to score the same clips as the table's other files of that protocol."""
    frames = []
    expects = cell.get("expect") or [None] * len(cell["scores"])
    for path, experiment, expect in zip(cell["scores"], cell["experiments"], expects):
        if path not in cache:
            cache[path] = read_scores([path], base, expect)
            _same_clips_as_peers(cache[path], base / path, protocol, cache)
        frame = cache[path]
        selected = frame[(frame["experiment"] == experiment) & (frame["protocol"] == protocol)]
        if selected.empty:
            raise TableError(f"{base / path}: no rows for experiment {experiment!r} on protocol {protocol!r}")
        frames.append(selected)
    return pd.concat(frames, ignore_index=True)


def interval_frame(values: pd.DataFrame) -> pd.DataFrame:
    """Per-clip values with the seed columns :func:`vpbench.reporting.intervals.estimate` reads (experiment = training seed)."""
    return values.rename(columns={"experiment": "train_seed", "seed": "routing_seed"})[VALUE_COLUMNS]


def cell_values(scores_of_cell: pd.DataFrame, horizons: Sequence[int], cumulative: bool) -> dict[tuple[str, int], pd.DataFrame]:
    """(metric, horizon) -> per-clip values with ``train_seed, routing_seed, clip_id, value`` (experiment = training seed)."""
    values = per_clip_horizon_values(scores_of_cell, tuple(horizons), cumulative)
    return {(metric, int(horizon)): interval_frame(part)
            for (metric, horizon), part in values.groupby(["metric", "horizon"], sort=True)}


def cell_estimates(values: Mapping[tuple[str, int], pd.DataFrame], where: str) -> dict[tuple[str, int], Estimate]:
    """(metric, horizon) -> mean and 95 % interval over clips and seeds of one cell (values: :func:`cell_values`)."""
    return {key: estimate(part, where=f"{where} {key[0]} t+{key[1]}") for key, part in values.items()}


# ---------------------------------------------------------------------------------------------------------------
# records: one row of a table's CSV


def rows_in_order(cells: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """(row label, cells) per block of display lines: one block per table row, in the order of the cells."""
    order = list(dict.fromkeys(zip(cells["label"], cells["variant"], cells["row"])))
    return [(label, cells[(cells["label"] == label) & (cells["variant"] == variant) & (cells["row"] == row)])
            for label, variant, row in order]


@dataclass
class TableResult:
    """A table's cells, computed by its kind: what the Markdown, CSV and LaTeX writers print."""

    plan: dict[str, Any]
    cells: pd.DataFrame  # CELL_COLUMNS
    columns: list[tuple[str, str]]  # (column key, header) in display order
    notes: list[str]
    #: how the display lines group: (row label, its cells) per block; one block per table row by default
    display_groups: Callable[[pd.DataFrame], list[tuple[str, pd.DataFrame]]] = field(default=rows_in_order)

    @classmethod
    def of_records(cls, plan: dict[str, Any], records: list[dict[str, Any]], columns: list[tuple[str, str]],
                   notes: list[str], **kwargs: Any) -> TableResult:
        return cls(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes, **kwargs)


def paper_value(paper: pd.DataFrame | None, row: str | None, column: str) -> float:
    if paper is None or row is None or row not in paper.index or column not in paper.columns:
        return math.nan
    return float(paper.at[row, column])


def _tolerance(plan: Mapping[str, Any], metric: str) -> float:
    return float((plan.get("tolerance") or {}).get(metric, math.nan))


def not_comparable_reason(plan: Mapping[str, Any], protocol: str, metric: str) -> str | None:
    """Why a cell of ``metric`` on ``protocol`` does not compare with the paper's value (the plan's
    ``comparability``: another resolution, the smoke data), or None. Parameter counts always compare."""
    if metric == "params":
        return None
    reasons = (plan.get("comparability") or {}).get(protocol) or {}
    return reasons.get("gflops" if metric == "gflops" else "scores")


def finish(record: dict[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
    paper, reproduced = record["paper"], record["reproduced"]
    record["tolerance"] = _tolerance(plan, record["metric"])
    if not math.isnan(paper) and not_comparable_reason(plan, record["protocol"], record["metric"]):
        record["delta"] = math.nan  # no difference where the two measure different things
        record["consistency"] = NOT_COMPARABLE
        return record
    record["delta"] = reproduced - paper if not (math.isnan(paper) or math.isnan(reproduced)) else math.nan
    record["consistency"] = consistency(paper, record["lo"], record["hi"], record["tolerance"])
    return record


def set_estimate(record: dict[str, Any], value: Estimate, scale: float) -> None:
    """Fill the reproduced value, its interval and its sample sizes, in the paper's units. The interval is clipped
    to the values the quantity can take (its record's ``value_range``: MS-SSIM cannot exceed 1, LPIPS cannot
    fall below 0); a clipped interval is shown as [lo, hi] rather than ± a half-width."""
    scaled = value.scaled(scale)
    low, high = get_quantity(record["metric"]).value_range  # +-inf where unbounded
    lo, hi = scaled.lo, scaled.hi
    if not math.isnan(lo):
        lo = max(lo, low * scale)
    if not math.isnan(hi):
        hi = min(hi, high * scale)
    record.update(reproduced=scaled.mean, lo=lo, hi=hi, n_clips=value.n_clips,
                  n_seeds=value.n_routing_seeds, n_train_seeds=value.n_train_seeds, interval_covers=value.covers)


def set_difference(record: dict[str, Any], found: Mapping[str, Any], compared: str, scale: float) -> None:
    """The compared method minus this row, paired on clips, with its interval and verdict (compare tables)."""
    record.update(compared_with=compared, difference=found["difference"] * scale, difference_lo=found["lo"] * scale,
                  difference_hi=found["hi"] * scale, verdict=found["verdict"])


def set_exact(record: dict[str, Any], value: float | None) -> None:
    """A counted quantity (GFLOPs, parameters): no sampling, the interval is the value itself."""
    value = math.nan if value is None else float(value)
    record.update(reproduced=value, lo=value, hi=value, interval_covers="exact count" if not math.isnan(value) else "")


def base_record(plan: Mapping[str, Any], row: Mapping[str, Any], cell: Mapping[str, Any] | None) -> dict[str, Any]:
    """A record of ``row`` with nothing reproduced yet (its cell's files named, no value, no interval)."""
    return {
        "table": plan["name"],
        "row": row.get("paper") or "",
        "label": row_label(row),
        "variant": row.get("variant", ""),
        "experiment": cell["experiment"] if cell else "",
        "source": cell["source"] if cell else ("paper-only" if row.get("status") == "paper-only" else ""),
        "status": row.get("status", ""),
        "reproduced": math.nan,
        "lo": math.nan,
        "hi": math.nan,
        "n_clips": 0,
        "n_seeds": 0,
        "n_train_seeds": 0,
        "interval_covers": "",
        "score_files": ";".join(cell["scores"]) if cell and "scores" in cell else "",
        "complexity_file": "",
        "compared_with": "",
        "difference": math.nan,
        "difference_lo": math.nan,
        "difference_hi": math.nan,
        "verdict": "",
    }


def row_label(row: Mapping[str, Any]) -> str:
    return row.get("label") or row.get("paper") or row.get("variant", "")


def set_counted(record: dict[str, Any], cell: Mapping[str, Any] | None, complexity: Mapping[str, Any] | None) -> None:
    """A counted quantity's record (``record["metric"]`` in :data:`COUNTED_READERS`): read from the cell's complexity
    file, which the record names; it reads no score file."""
    record["score_files"] = ""
    if cell and complexity is not None:
        set_exact(record, COUNTED_READERS[record["metric"]](complexity))
        record["complexity_file"] = cell["complexity"]


__all__ = [
    "CELL_COLUMNS", "CONSISTENCY_NOTE", "COUNTED_READERS", "INTERVAL_NOTE", "METRICS_UNITS_NOTE", "NOT_COMPARABLE",
    "PAIRED_NOTE", "TableError", "TableResult", "base_record", "cell_estimates", "cell_scores", "cell_values",
    "counted_gflops", "counted_params", "finish", "interval_frame", "not_comparable_reason", "paper_value",
    "read_cell_scores", "read_complexity", "read_paper_csv", "read_scores", "row_label", "rows_in_order",
    "set_counted", "set_difference", "set_estimate", "set_exact",
]
