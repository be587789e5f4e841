"""Paper tables rebuilt from raw score files, each reproduced cell beside the paper's value.

Place in the flow: scores (:mod:`vpbench.evaluation.scores`) -> aggregate (:mod:`vpbench.reporting.aggregate`,
intervals, comparison) -> **tables** (this module) and figures. Each ``kind:`` of table in config/tables.yaml is a
:class:`TableKind` registered here with :func:`register_table_kind`; labels, units and digits come from the metric
records (:mod:`vpbench.evaluation.metric_records`).

A table plan (:meth:`vpbench.pipeline.plan.Plan.table_plan`) names, per row and protocol, the experiment and its score file;
this module reduces the scores to per-clip values (:func:`vpbench.reporting.comparison.cell_values`; t+k = mean over
t+1..t+k by default, the paper's convention) and their means and intervals (:mod:`vpbench.reporting.intervals`), reads counted GFLOPs from the complexity files, and writes

* ``<name>.csv``: one tidy row per cell (paper value, reproduced mean with its 95 % interval ``lo``/``hi`` over
  clips and seeds (:mod:`vpbench.reporting.intervals`), difference, tolerance, consistency with the paper, source, and the
  score/complexity files the cell was computed from: its provenance);
* ``<name>.md`` and ``<name>.tex``: the paper's layout, with a "paper" line, a reproduced line (mean ± half-width of
  the interval) tagged with its source (retrained, official weights, untrained) and a "Δ" line per row marked
  ≈ (the paper's value lies inside the interval widened by the table's tolerance), ↑ or ↓ (the reproduction is
  above or below it); rows only in the paper say so.

A cell of a variant trained with several seeds (``seeds:`` in config/experiments.yaml) pools every seed's scores.

Reproduced values are shown in the paper's units (each record's ``scale``: MS-SSIM, LPIPS, SSIM and usage rates
×10⁻²).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from vpbench.evaluation import scores
from vpbench.evaluation.metric_records import METRICS, get_quantity
from vpbench.reporting.aggregate import per_clip_usage
from vpbench.reporting.comparison import cell_values, differences
from vpbench.reporting.intervals import VALUE_COLUMNS, Estimate, consistency, estimate
from vpbench.registry import Registry
from vpbench.utils import atomic_write

SOURCE_LABEL = {
    "retrained": "retrained",
    "official-weights": "official weights",
    "untrained": "untrained",
}
CELL_COLUMNS = [
    "table", "row", "label", "variant", "experiment", "source", "status", "protocol", "metric", "horizon", "column",
    "paper", "reproduced", "lo", "hi", "n_clips", "n_seeds", "n_train_seeds", "interval_covers", "delta", "tolerance",
    "consistency", "score_files", "complexity_file", "compared_with", "difference", "difference_lo", "difference_hi",
    "verdict",
]
#: how a Δ cell marks the paper's value against the reproduced interval (:func:`vpbench.reporting.intervals.consistency`)
CONSISTENCY_MARK = {"consistent": "≈", "above": "↑", "below": "↓"}
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


class TableError(ValueError):
    """A table cannot be rendered (missing score file, malformed paper CSV, unknown kind); the message names it."""


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


# ---------------------------------------------------------------------------------------------------------------
# building the cells


@dataclass
class TableResult:
    plan: dict[str, Any]
    cells: pd.DataFrame  # CELL_COLUMNS
    columns: list[tuple[str, str]]  # (column key, header) in display order
    notes: list[str]


def _paper_value(paper: pd.DataFrame | None, row: str | None, column: str) -> float:
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


def _finish(record: dict[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
    paper, reproduced = record["paper"], record["reproduced"]
    record["tolerance"] = _tolerance(plan, record["metric"])
    if not math.isnan(paper) and not_comparable_reason(plan, record["protocol"], record["metric"]):
        record["delta"] = math.nan  # no difference where the two measure different things
        record["consistency"] = NOT_COMPARABLE
        return record
    record["delta"] = reproduced - paper if not (math.isnan(paper) or math.isnan(reproduced)) else math.nan
    record["consistency"] = consistency(paper, record["lo"], record["hi"], record["tolerance"])
    return record


def _set_estimate(record: dict[str, Any], value: Estimate, scale: float) -> None:
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


def _set_difference(record: dict[str, Any], found: Mapping[str, Any], compared: str, scale: float) -> None:
    """The compared method minus this row, paired on clips, with its interval and verdict (compare tables)."""
    record.update(compared_with=compared, difference=found["difference"] * scale, difference_lo=found["lo"] * scale,
                  difference_hi=found["hi"] * scale, verdict=found["verdict"])


def _set_exact(record: dict[str, Any], value: float | None) -> None:
    """A counted quantity (GFLOPs, parameters): no sampling, the interval is the value itself."""
    value = math.nan if value is None else float(value)
    record.update(reproduced=value, lo=value, hi=value, interval_covers="exact count" if not math.isnan(value) else "")


def _base_record(plan: Mapping[str, Any], row: Mapping[str, Any], cell: Mapping[str, Any] | None) -> dict[str, Any]:
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


def _interval_frame(values: pd.DataFrame) -> pd.DataFrame:
    """Per-clip values with the seed columns :func:`vpbench.reporting.intervals.estimate` reads (experiment = training seed)."""
    return values.rename(columns={"experiment": "train_seed", "seed": "routing_seed"})[VALUE_COLUMNS]


def cell_estimates(values: Mapping[tuple[str, int], pd.DataFrame], where: str) -> dict[tuple[str, int], Estimate]:
    """(metric, horizon) -> mean and 95 % interval over clips and seeds of one cell (values: :func:`cell_values`)."""
    return {key: estimate(part, where=f"{where} {key[0]} t+{key[1]}") for key, part in values.items()}


# ---------------------------------------------------------------------------------------------------------------
# table kinds


class TableKind:
    """One ``kind:`` of table in config/tables.yaml, selected by the ``kind`` of a table plan.

    A subclass computes every cell of a resolved plan (:meth:`build`: ``plan`` is
    :meth:`vpbench.pipeline.plan.Plan.table_plan`'s, i.e. the table's config entry plus ``name`` and, per row or
    panel, ``cells`` naming the score and complexity files under ``base``) and may say how the display lines of the
    Markdown and LaTeX files group (:meth:`display_groups`). ``@register_table_kind(name)`` makes it selectable, so
    a new kind is one class here plus its config (and schema) entry.
    """

    kind: ClassVar[str] = ""

    def build(self, plan: dict[str, Any], base: Path) -> TableResult:
        raise NotImplementedError

    def display_groups(self, cells: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """(row label, cells) per block of display lines: one block per table row, in the order of the cells."""
        order = list(dict.fromkeys(zip(cells["label"], cells["variant"], cells["row"])))
        return [(label, cells[(cells["label"] == label) & (cells["variant"] == variant) & (cells["row"] == row)])
                for label, variant, row in order]


TABLE_KINDS: Registry[type[TableKind]] = Registry("table kind", TableError)


def register_table_kind(name: str) -> Callable[[type[TableKind]], type[TableKind]]:
    """Class decorator: register a :class:`TableKind` subclass as ``kind: <name>``."""

    def decorate(cls: type[TableKind]) -> type[TableKind]:
        cls.kind = name
        return TABLE_KINDS.register(name)(cls)

    return decorate


def table_kind(name: str) -> TableKind:
    """The registered kind ``name``; a :class:`TableError` names the known kinds otherwise."""
    return TABLE_KINDS.get(name)()


@register_table_kind("metrics")
class MetricsTable(TableKind):
    """Rows x (protocol, [GFLOPs], [params], metric, horizon) cells.

    ``plan["paper"]`` may be None (``snakemake compare``): the table then has reproduced lines only, and with
    ``plan["compared"]`` every row after the first gets its paired difference to the first.
    """

    def build(self, plan: dict[str, Any], base: Path) -> TableResult:
        paper = read_paper_csv(base / plan["paper"]) if plan.get("paper") else None
        cumulative = bool(plan.get("cumulative", True))
        gflops_record, params_record = get_quantity("gflops"), get_quantity("params")
        records: list[dict[str, Any]] = []
        columns: list[tuple[str, str]] = []
        for group in plan["groups"]:
            protocol = group["protocol"]
            label = group.get("label", protocol)
            if group.get("gflops"):
                columns.append((f"{protocol}/gflops", f"{label} {gflops_record.label}"))
            if group.get("params"):
                columns.append((f"{protocol}/params", f"{label} {params_record.label}"))
            for metric in group["metrics"]:
                for horizon in group["horizons"]:
                    # The header itself says when t+k is a cumulative mean (the paper's convention), not frame t+k.
                    when = f"t+{horizon} (cum. t+1..t+{horizon})" if cumulative and horizon > 1 else f"t+{horizon}"
                    columns.append((f"{protocol}/{metric}/t{horizon}", f"{label} {get_quantity(metric).label} {when}"))
        cache: dict[str, Any] = {}
        compared_values: dict[str, dict[tuple[str, int], pd.DataFrame]] = {}  # protocol -> the compared method's values
        for index, row in enumerate(plan["rows"]):
            for group in plan["groups"]:
                protocol = group["protocol"]
                cell = row["cells"].get(protocol)
                estimates: dict[tuple[str, int], Estimate] = {}
                paired: dict[tuple[str, int], dict[str, Any]] = {}
                if cell:
                    values = cell_values(cell_scores(cell, protocol, base, cache), group["horizons"], cumulative)
                    estimates = cell_estimates(values, where=f"{cell['experiment']}/{protocol}")
                    if plan.get("compared") and index == 0:
                        compared_values[protocol] = values
                    elif plan.get("compared") and protocol in compared_values:
                        found = differences(compared_values[protocol], values, name=row["variant"], label=row_label(row),
                                            protocol=protocol)
                        paired = {(d["metric"], d["horizon"]): d for d in found}
                if group.get("gflops"):
                    record = _base_record(plan, row, cell)
                    record.update(protocol=protocol, metric="gflops", horizon=0, column=f"{protocol}/gflops", score_files="")
                    record["paper"] = _paper_value(paper, row.get("paper"), f"{protocol}/gflops")
                    if cell and "complexity" in cell:
                        _set_exact(record, counted_gflops(read_complexity(base / cell["complexity"])))
                        record["complexity_file"] = cell["complexity"]
                    records.append(_finish(record, plan))
                if group.get("params"):
                    record = _base_record(plan, row, cell)
                    record.update(protocol=protocol, metric="params", horizon=0, column=f"{protocol}/params", score_files="")
                    record["paper"] = _paper_value(paper, row.get("paper"), f"{protocol}/params")
                    if cell and "complexity" in cell:
                        params = read_complexity(base / cell["complexity"]).get("params")
                        _set_exact(record, None if params is None else float(params) * params_record.scale)
                        record["complexity_file"] = cell["complexity"]
                    records.append(_finish(record, plan))
                for metric in group["metrics"]:
                    scale = get_quantity(metric).scale
                    for horizon in group["horizons"]:
                        column = f"{protocol}/{metric}/t{horizon}"
                        record = _base_record(plan, row, cell)
                        record.update(protocol=protocol, metric=metric, horizon=horizon, column=column)
                        record["paper"] = _paper_value(paper, row.get("paper"), column)
                        if (metric, horizon) in estimates:
                            _set_estimate(record, estimates[(metric, horizon)], scale)
                        if (metric, horizon) in paired:
                            _set_difference(record, paired[(metric, horizon)], plan["compared"], scale)
                        records.append(_finish(record, plan))
        notes = [
            "t+3 / t+5: cumulative means over t+1..t+k (the paper's convention)." if cumulative else
            "t+k: the score of frame t+k alone (not cumulative).",
            METRICS_UNITS_NOTE,
            INTERVAL_NOTE,
            CONSISTENCY_NOTE if paper is not None else PAIRED_NOTE,
        ]
        missing_groups = [g["protocol"] for g in plan["groups"] if not g.get("available", True)]
        if missing_groups:
            notes.append(f"Protocols not in this configuration: {', '.join(missing_groups)}.")
        return TableResult(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes)


@register_table_kind("usage")
class UsageTable(TableKind):
    """Per-block usage rates (Table 4): fraction of routing decisions that ran each block, ×10⁻²."""

    def build(self, plan: dict[str, Any], base: Path) -> TableResult:
        paper = read_paper_csv(base / plan["paper"])
        blocks = [c for c in paper.columns if c.startswith("block")]
        columns = [(b, f"{b.replace('block', 'block ')} (x{int(paper.at['scale', b])})" if "scale" in paper.index else b)
                   for b in blocks]
        scale = get_quantity("usage").scale
        records = []
        cache: dict[str, Any] = {}
        for row in plan["rows"]:
            cell = row["cells"].get(row["protocol"])
            usage = None
            if cell:
                usage = per_clip_usage(cell_scores(cell, row["protocol"], base, cache))
            for index, block in enumerate(blocks):
                record = _base_record(plan, row, cell)
                record.update(protocol=row["protocol"], metric="usage", horizon=0, column=block)
                record["paper"] = _paper_value(paper, row.get("paper"), block)
                if usage is not None:
                    hit = usage[usage["block"] == index]
                    if not hit.empty:
                        where = f"{cell['experiment']}/{row['protocol']} block {index}"
                        _set_estimate(record, estimate(_interval_frame(hit.rename(columns={"usage_rate": "value"})),
                                                       where=where), scale)
                records.append(_finish(record, plan))
        notes = [
            "Usage rate (x10^-2): fraction of routing decisions (clips x steps x routing seeds) that ran the block.",
            INTERVAL_NOTE,
            CONSISTENCY_NOTE,
        ]
        return TableResult(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes)


@register_table_kind("beta")
class BetaTable(TableKind):
    """GFLOPs, LPIPS and MS-SSIM of DMVFN evaluated with other betas (Tables 8, 13); rows = quantities."""

    quantities: ClassVar[tuple[str, ...]] = ("gflops", "lpips", "ms_ssim")

    def build(self, plan: dict[str, Any], base: Path) -> TableResult:
        paper = read_paper_csv(base / plan["paper"])
        horizon = int(plan.get("horizon", 1))
        records = []
        columns = []
        cache: dict[str, Any] = {}
        for panel in plan["panels"]:
            protocol = panel["protocol"]
            for beta in plan["betas"]:
                column = f"{protocol}/beta={beta}"
                columns.append((column, f"{panel.get('label', protocol)} β={beta}"))
                cell = panel["cells"].get(beta)
                estimates = (cell_estimates(cell_values(cell_scores(cell, protocol, base, cache), [horizon], True),
                                            where=f"{cell['experiment']}/{protocol}") if cell else {})
                complexity = read_complexity(base / cell["complexity"]) if cell and "complexity" in cell else None
                for quantity in self.quantities:
                    row = {"paper": quantity, "label": get_quantity(quantity).label, "variant": plan["betas"][beta],
                           "status": "run" if cell else "not-run"}
                    record = _base_record(plan, row, cell)
                    record.update(protocol=protocol, metric=quantity, horizon=horizon if quantity != "gflops" else 0,
                                  column=column)
                    record["paper"] = _paper_value(paper, quantity, column)
                    if quantity == "gflops":
                        record["score_files"] = ""
                        if complexity is not None:
                            _set_exact(record, counted_gflops(complexity))
                            record["complexity_file"] = cell["complexity"]
                    elif (quantity, horizon) in estimates:
                        _set_estimate(record, estimates[(quantity, horizon)], get_quantity(quantity).scale)
                    records.append(_finish(record, plan))
        notes = [
            f"Scores at t+{horizon}; MS-SSIM and LPIPS in x10^-2; GFLOPs: expected cost under the measured block usage.",
            "beta is changed at inference only: every column evaluates the same trained DMVFN.",
            INTERVAL_NOTE,
            CONSISTENCY_NOTE,
        ]
        return TableResult(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes)

    def display_groups(self, cells: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
        """One block per quantity (the rows of the paper's beta tables)."""
        return [(get_quantity(q).label, cells[cells["row"] == q]) for q in self.quantities]


def build_table(plan: dict[str, Any], base: str | Path = ".") -> TableResult:
    """The cells of ``plan``, computed by its registered kind."""
    return table_kind(plan["kind"]).build(plan, Path(base))


# ---------------------------------------------------------------------------------------------------------------
# display


def _digits(record: Mapping[str, Any]) -> int:
    return get_quantity(record["metric"]).digits


def _fmt(value: float, digits: int) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _fmt_paper(record: Mapping[str, Any]) -> str:
    return _fmt(record["paper"], _digits(record))


def _clipped(record: Mapping[str, Any]) -> bool:
    """Whether the cell's interval reaches a bound of its quantity's range (:func:`_set_estimate` clipped it)."""
    quantity = get_quantity(record["metric"])
    low, high = quantity.value_range
    return ((math.isfinite(low) and record["lo"] <= low * quantity.scale)
            or (math.isfinite(high) and record["hi"] >= high * quantity.scale))


def _fmt_repro(record: Mapping[str, Any]) -> str:
    value, digits = record["reproduced"], _digits(record)
    if math.isnan(value):
        return "–"
    lo, hi = record["lo"], record["hi"]
    if math.isnan(lo) or math.isnan(hi):
        return f"{value:.{digits}f} ± ?"  # one clip: no interval can be given
    if _clipped(record):
        return f"{value:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
    if hi > lo:
        return f"{value:.{digits}f} ± {(hi - lo) / 2:.{digits}f}"
    return f"{value:.{digits}f}"


def _fmt_delta(record: Mapping[str, Any]) -> str:
    if record["consistency"] == NOT_COMPARABLE:
        return "not comparable"
    if math.isnan(record["delta"]):
        return "–"
    mark = CONSISTENCY_MARK.get(record["consistency"] or "", "")
    return f"{record['delta']:+.{_digits(record)}f}" + (f" {mark}" if mark else "")


def _fmt_difference(record: Mapping[str, Any]) -> str:
    if not record["verdict"]:
        return ""
    d = _digits(record)
    return (f"{record['difference']:+.{d}f} [{record['difference_lo']:+.{d}f}, {record['difference_hi']:+.{d}f}] "
            f"{record['verdict']}")


def display_lines(result: TableResult) -> tuple[list[str], list[list[str]]]:
    """Header and body lines (strings) shared by the Markdown and LaTeX writers."""
    header = ["Row", "Values", *[title for _, title in result.columns]]
    body: list[list[str]] = []
    for label, frame in table_kind(result.plan["kind"]).display_groups(result.cells):
        by_column = {r["column"]: r for r in frame.to_dict("records")}
        first = frame.iloc[0]
        status = first["status"]
        has_paper = frame["paper"].notna().any()
        has_repro = frame["reproduced"].notna().any()
        if has_paper or not first["variant"]:
            tag = "paper" if first["variant"] else "paper (reported in paper only)"
            body.append([label, tag, *[_fmt_paper(by_column[c]) if c in by_column else "" for c, _ in result.columns]])
        if first["variant"]:
            if status == "not-run" and not has_repro:
                body.append([label, "not run in this configuration", *["–"] * len(result.columns)])
                continue
            sources = sorted({SOURCE_LABEL.get(s, s) for s in frame["source"] if s})
            tag = "reproduced (" + ", ".join(sources) + ")" if sources else "reproduced"
            if not has_paper:
                tag += ", not in paper"
            body.append([label, tag, *[_fmt_repro(by_column[c]) if c in by_column else "" for c, _ in result.columns]])
            if frame["verdict"].astype(bool).any():
                compared = frame["compared_with"][frame["verdict"].astype(bool)].iloc[0]
                body.append([label, f"{compared} − this row (95% interval)",
                             *[_fmt_difference(by_column[c]) if c in by_column else "" for c, _ in result.columns]])
            if has_paper:
                body.append([label, "Δ reproduced − paper", *[_fmt_delta(by_column[c]) if c in by_column else "" for c, _ in result.columns]])
    return header, body


def protocol_sections(result: TableResult) -> list[tuple[str, TableResult]]:
    """A compare table split per protocol: (the protocol's label, the table of its columns with short headers).

    The protocol is named once, in the section's heading, instead of in every column header; "t+3" is the
    cumulative mean over t+1..t+3, which the notes say once."""
    sections = []
    for group in result.plan["groups"]:
        protocol, label = group["protocol"], group.get("label", group["protocol"])
        columns = [(key, _short_header(title, label)) for key, title in result.columns if key.split("/", 1)[0] == protocol]
        if columns:
            sections.append((label, TableResult(result.plan, result.cells[result.cells["protocol"] == protocol],
                                                columns, result.notes)))
    return sections


def _short_header(title: str, protocol_label: str) -> str:
    short = title[len(protocol_label):].strip() if title.startswith(protocol_label) else title
    return short.split(" (cum.", 1)[0]


def _markdown_grid(header: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in body]


def to_markdown(result: TableResult) -> str:
    title = result.plan.get("title", result.plan["name"])
    lines = [f"# {title}", ""]
    if result.plan.get("caption"):
        lines += [result.plan["caption"], ""]
    if result.plan.get("compared"):  # one short table per protocol: readable at a glance
        for label, section in protocol_sections(result):
            lines += [f"## {label}", "", *_markdown_grid(*display_lines(section)), ""]
    else:
        lines += _markdown_grid(*display_lines(result))
        lines.append("")
    lines += [f"- {note}" for note in result.notes]
    if result.plan.get("paper"):
        lines.append(f"- Paper values: {result.plan['paper']} (typed from the paper). Per-cell provenance: {result.plan['name']}.csv.")
    else:
        lines.append(f"- Per-cell provenance (score and complexity files): {result.plan['name']}.csv.")
    return "\n".join(lines) + "\n"


_TEX_ESCAPES = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}",
                "±": r"$\pm$", "Δ": r"$\Delta$", "−": "-", "β": r"$\beta$", "≈": r"$\approx$", "↑": r"$\uparrow$",
                "↓": r"$\downarrow$",
                "–": "--", "→": r"$\rightarrow$", "^": r"\^{}"}


def tex_escape(text: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(result: TableResult) -> str:
    header, body = display_lines(result)
    spec = "ll" + "r" * (len(header) - 2)
    lines = [
        "% Generated by `vpbench render`; paper values beside reproduced ones (needs \\usepackage{amssymb}).",
        r"\begin{table*}[t]", r"\centering", r"\scriptsize",
        f"\\caption{{{tex_escape(result.plan.get('title', result.plan['name']))}}}",
        f"\\begin{{tabular}}{{{spec}}}", r"\hline",
        " & ".join(tex_escape(h) for h in header) + r" \\", r"\hline",
    ]
    lines += [" & ".join(tex_escape(c) for c in line) + r" \\" for line in body]
    lines += [r"\hline", r"\end{tabular}"]
    lines += [f"\\\\[2pt]{{\\footnotesize {tex_escape(note)}}}" for note in result.notes]
    lines += [r"\end{table*}"]
    return "\n".join(lines) + "\n"


def write_table(result: TableResult, out_dir: str | Path) -> list[Path]:
    """``<out_dir>/<name>.{md,csv,tex}``."""
    out_dir = Path(out_dir)
    name = result.plan["name"]
    paths = [out_dir / f"{name}.{ext}" for ext in ("md", "csv", "tex")]
    atomic_write(paths[0], to_markdown(result))
    atomic_write(paths[1], result.cells.to_csv(index=False))
    atomic_write(paths[2], to_latex(result))
    return paths


def render_table(plan: dict[str, Any], out_dir: str | Path, base: str | Path = ".") -> list[Path]:
    return write_table(build_table(plan, base), out_dir)


__all__ = [
    "CELL_COLUMNS", "TABLE_KINDS", "BetaTable", "MetricsTable", "TableError", "TableKind", "TableResult", "UsageTable",
    "build_table", "counted_gflops", "read_paper_csv", "register_table_kind", "render_table", "table_kind", "to_latex",
    "to_markdown", "write_table",
]
