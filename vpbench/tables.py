"""Paper tables rebuilt from raw score files, each reproduced cell beside the paper's value.

A table plan (:meth:`vpbench.plan.Plan.table_plan`) names, per row and protocol, the experiment and its score file;
this module aggregates the scores with :func:`vpbench.aggregate.aggregate_scores` (t+k = mean over t+1..t+k by
default, the paper's convention), reads counted GFLOPs from the complexity files, and writes

* ``<name>.csv``: one tidy row per cell (paper value, reproduced mean ± std over routing seeds, difference,
  tolerance, source, and the score/complexity files the cell was computed from: its provenance);
* ``<name>.md`` and ``<name>.tex``: the paper's layout, with a "paper" line, a reproduced line tagged with its
  source (retrained, official weights, untrained) and a "Δ" line per row; rows only in the paper say so.

Reproduced values are shown in the paper's units (MS-SSIM, LPIPS, SSIM and usage rates ×10⁻²).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpbench import scores
from vpbench.aggregate import aggregate_scores, block_usage

#: the paper prints these metrics ×10⁻²
PAPER_SCALE = {"ms_ssim": 100.0, "lpips": 100.0, "ssim": 100.0, "psnr": 1.0, "gflops": 1.0, "usage": 100.0, "params": 1e-6}
METRIC_LABEL = {"ms_ssim": "MS-SSIM", "lpips": "LPIPS", "ssim": "SSIM", "psnr": "PSNR", "gflops": "GFLOPs", "usage": "usage",
                "params": "Params (M)"}
HIGHER_IS_BETTER = {"ms_ssim": True, "ssim": True, "psnr": True, "lpips": False, "gflops": False, "usage": True, "params": False}
SOURCE_LABEL = {
    "retrained": "retrained",
    "official-weights": "official weights",
    "untrained": "untrained",
}
CELL_COLUMNS = [
    "table", "row", "label", "variant", "experiment", "source", "status", "protocol", "metric", "horizon", "column",
    "paper", "reproduced", "std", "n_seeds", "n_clips", "delta", "tolerance", "within_tolerance", "score_files",
    "complexity_file",
]


class TableError(ValueError):
    """A table cannot be rendered (missing score file, malformed paper CSV); the message names the file."""


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
    """Score files, each validated (:func:`vpbench.scores.validate_scores`) and, with ``expect`` (a cell's
    ``expect``: experiment, protocol, seeds, steps, clips), checked to be one whole evaluation."""
    frames = []
    for name in files:
        path = base / name
        if not path.is_file():
            raise TableError(f"{path}: score file not found (run its `vpbench evaluate` job first)")
        try:
            frames.append(scores.read_scores(path, expect))
        except scores.ScoreFileError as err:
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


def _finish(record: dict[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
    paper, reproduced = record["paper"], record["reproduced"]
    record["delta"] = reproduced - paper if not (math.isnan(paper) or math.isnan(reproduced)) else math.nan
    record["tolerance"] = _tolerance(plan, record["metric"])
    if math.isnan(record["delta"]) or math.isnan(record["tolerance"]):
        record["within_tolerance"] = None
    else:
        record["within_tolerance"] = bool(abs(record["delta"]) <= record["tolerance"])
    return record


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
        "std": math.nan,
        "n_seeds": 0,
        "n_clips": 0,
        "score_files": cell["scores"] if cell and "scores" in cell else "",
        "complexity_file": "",
    }


def row_label(row: Mapping[str, Any]) -> str:
    return row.get("label") or row.get("paper") or row.get("variant", "")


def _aggregate(cell_scores: pd.DataFrame, horizons: Sequence[int], cumulative: bool) -> pd.DataFrame:
    if cell_scores.empty:
        return pd.DataFrame(columns=["metric", "horizon", "mean", "std", "n_seeds", "n_clips"])
    return aggregate_scores(cell_scores, horizons=tuple(horizons), cumulative=cumulative)


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


def _cell_scores(cell: Mapping[str, Any], protocol: str, base: Path, cache: dict[str, Any]) -> pd.DataFrame:
    path = cell["scores"]
    if path not in cache:
        cache[path] = read_scores([path], base, cell.get("expect"))
        _same_clips_as_peers(cache[path], base / path, protocol, cache)
    frame = cache[path]
    selected = frame[(frame["experiment"] == cell["experiment"]) & (frame["protocol"] == protocol)]
    if selected.empty:
        raise TableError(f"{base / path}: no rows for experiment {cell['experiment']!r} on protocol {protocol!r}")
    return selected


def metrics_table(plan: dict[str, Any], base: str | Path = ".") -> TableResult:
    """Rows x (protocol, [GFLOPs], [params], metric, horizon) cells of a ``kind: metrics`` table.

    ``plan["paper"]`` may be None (``snakemake compare``): the table then has reproduced lines only.
    """
    base = Path(base)
    paper = read_paper_csv(base / plan["paper"]) if plan.get("paper") else None
    cumulative = bool(plan.get("cumulative", True))
    records: list[dict[str, Any]] = []
    columns: list[tuple[str, str]] = []
    for group in plan["groups"]:
        protocol = group["protocol"]
        label = group.get("label", protocol)
        if group.get("gflops"):
            columns.append((f"{protocol}/gflops", f"{label} GFLOPs"))
        if group.get("params"):
            columns.append((f"{protocol}/params", f"{label} Params (M)"))
        for metric in group["metrics"]:
            for horizon in group["horizons"]:
                # The header itself says when t+k is a cumulative mean (the paper's convention), not frame t+k.
                when = f"t+{horizon} (cum. t+1..t+{horizon})" if cumulative and horizon > 1 else f"t+{horizon}"
                columns.append((f"{protocol}/{metric}/t{horizon}", f"{label} {METRIC_LABEL[metric]} {when}"))
    cache: dict[str, Any] = {}
    for row in plan["rows"]:
        for group in plan["groups"]:
            protocol = group["protocol"]
            cell = row["cells"].get(protocol)
            aggregated = None
            if cell:
                aggregated = _aggregate(_cell_scores(cell, protocol, base, cache), group["horizons"], cumulative)
            if group.get("gflops"):
                record = _base_record(plan, row, cell)
                record.update(protocol=protocol, metric="gflops", horizon=0, column=f"{protocol}/gflops", score_files="")
                record["paper"] = _paper_value(paper, row.get("paper"), f"{protocol}/gflops")
                if cell and "complexity" in cell:
                    complexity = read_complexity(base / cell["complexity"])
                    value = counted_gflops(complexity)
                    record["reproduced"] = math.nan if value is None else value
                    record["complexity_file"] = cell["complexity"]
                records.append(_finish(record, plan))
            if group.get("params"):
                record = _base_record(plan, row, cell)
                record.update(protocol=protocol, metric="params", horizon=0, column=f"{protocol}/params", score_files="")
                record["paper"] = _paper_value(paper, row.get("paper"), f"{protocol}/params")
                if cell and "complexity" in cell:
                    params = read_complexity(base / cell["complexity"]).get("params")
                    record["reproduced"] = math.nan if params is None else float(params) * PAPER_SCALE["params"]
                    record["complexity_file"] = cell["complexity"]
                records.append(_finish(record, plan))
            for metric in group["metrics"]:
                for horizon in group["horizons"]:
                    column = f"{protocol}/{metric}/t{horizon}"
                    record = _base_record(plan, row, cell)
                    record.update(protocol=protocol, metric=metric, horizon=horizon, column=column)
                    record["paper"] = _paper_value(paper, row.get("paper"), column)
                    if aggregated is not None:
                        hit = aggregated[(aggregated["metric"] == metric) & (aggregated["horizon"] == horizon)]
                        if not hit.empty:
                            scale = PAPER_SCALE[metric]
                            record["reproduced"] = float(hit["mean"].iloc[0]) * scale
                            record["std"] = float(hit["std"].iloc[0]) * scale
                            record["n_seeds"] = int(hit["n_seeds"].iloc[0])
                            record["n_clips"] = int(hit["n_clips"].iloc[0])
                    records.append(_finish(record, plan))
    notes = [
        "t+3 / t+5: cumulative means over t+1..t+k (the paper's convention)." if cumulative else
        "t+k: the score of frame t+k alone (not cumulative).",
        "MS-SSIM, SSIM and LPIPS in x10^-2; PSNR in dB; GFLOPs counted with fvcore, one multiply-add = one FLOP "
        "(routed methods: expected cost under the measured block usage).",
        "Reproduced: mean ± std over routing seeds of the clip-averaged score; Δ = reproduced - paper."
        if paper is not None else "Each cell: mean ± std over routing seeds of the clip-averaged score.",
    ]
    missing_groups = [g["protocol"] for g in plan["groups"] if not g.get("available", True)]
    if missing_groups:
        notes.append(f"Protocols not in this configuration: {', '.join(missing_groups)}.")
    return TableResult(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes)


def usage_table(plan: dict[str, Any], base: str | Path = ".") -> TableResult:
    """Per-block usage rates (Table 4): fraction of routing decisions that ran each block, ×10⁻²."""
    base = Path(base)
    paper = read_paper_csv(base / plan["paper"])
    blocks = [c for c in paper.columns if c.startswith("block")]
    columns = [(b, f"{b.replace('block', 'block ')} (x{int(paper.at['scale', b])})" if "scale" in paper.index else b) for b in blocks]
    records = []
    cache: dict[str, Any] = {}
    for row in plan["rows"]:
        cell = row["cells"].get(row["protocol"])
        usage = None
        if cell:
            usage = block_usage(_cell_scores(cell, row["protocol"], base, cache))
        for index, block in enumerate(blocks):
            record = _base_record(plan, row, cell)
            record.update(protocol=row["protocol"], metric="usage", horizon=0, column=block)
            record["paper"] = _paper_value(paper, row.get("paper"), block)
            if usage is not None:
                hit = usage[usage["block"] == index]
                if not hit.empty:
                    record["reproduced"] = float(hit["usage_rate"].iloc[0]) * PAPER_SCALE["usage"]
                    record["n_seeds"] = int(_cell_scores(cell, row["protocol"], base, cache)["seed"].nunique())
            records.append(_finish(record, plan))
    notes = ["Usage rate (x10^-2): fraction of routing decisions (clips x steps x routing seeds) that ran the block."]
    return TableResult(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes)


def beta_table(plan: dict[str, Any], base: str | Path = ".") -> TableResult:
    """GFLOPs, LPIPS and MS-SSIM of DMVFN evaluated with other betas (Tables 8, 13); rows = quantities."""
    base = Path(base)
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
            aggregated = _aggregate(_cell_scores(cell, protocol, base, cache), [horizon], True) if cell else None
            complexity = read_complexity(base / cell["complexity"]) if cell and "complexity" in cell else None
            for quantity in ("gflops", "lpips", "ms_ssim"):
                row = {"paper": quantity, "label": METRIC_LABEL[quantity], "variant": plan["betas"][beta], "status": "run" if cell else "not-run"}
                record = _base_record(plan, row, cell)
                record.update(protocol=protocol, metric=quantity, horizon=horizon if quantity != "gflops" else 0, column=column)
                record["paper"] = _paper_value(paper, quantity, column)
                if quantity == "gflops":
                    record["score_files"] = ""
                    if complexity is not None:
                        value = counted_gflops(complexity)
                        record["reproduced"] = math.nan if value is None else value
                        record["complexity_file"] = cell["complexity"]
                elif aggregated is not None:
                    hit = aggregated[(aggregated["metric"] == quantity) & (aggregated["horizon"] == horizon)]
                    if not hit.empty:
                        record["reproduced"] = float(hit["mean"].iloc[0]) * PAPER_SCALE[quantity]
                        record["std"] = float(hit["std"].iloc[0]) * PAPER_SCALE[quantity]
                        record["n_seeds"] = int(hit["n_seeds"].iloc[0])
                        record["n_clips"] = int(hit["n_clips"].iloc[0])
                records.append(_finish(record, plan))
    notes = [
        f"Scores at t+{horizon}; MS-SSIM and LPIPS in x10^-2; GFLOPs: expected cost under the measured block usage.",
        "beta is changed at inference only: every column evaluates the same trained DMVFN.",
    ]
    return TableResult(plan, pd.DataFrame.from_records(records, columns=CELL_COLUMNS), columns, notes)


def build_table(plan: dict[str, Any], base: str | Path = ".") -> TableResult:
    builders = {"metrics": metrics_table, "usage": usage_table, "beta": beta_table}
    return builders[plan["kind"]](plan, base)


# ---------------------------------------------------------------------------------------------------------------
# display


def _fmt(value: float, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _fmt_repro(record: Mapping[str, Any]) -> str:
    value = record["reproduced"]
    if math.isnan(value):
        return "–"
    if record["n_seeds"] and record["n_seeds"] > 1 and not math.isnan(record["std"]):
        return f"{value:.2f} ± {record['std']:.2f}"
    return f"{value:.2f}"


def _fmt_delta(record: Mapping[str, Any]) -> str:
    if math.isnan(record["delta"]):
        return "–"
    mark = "" if record["within_tolerance"] is None else (" ✓" if record["within_tolerance"] else " ✗")
    return f"{record['delta']:+.2f}{mark}"


def display_lines(result: TableResult) -> tuple[list[str], list[list[str]]]:
    """Header and body lines (strings) shared by the Markdown and LaTeX writers."""
    header = ["Row", "Values", *[title for _, title in result.columns]]
    body: list[list[str]] = []
    cells = result.cells
    if result.plan["kind"] == "beta":
        groups = [(q, cells[cells["row"] == q]) for q in ("gflops", "lpips", "ms_ssim")]
    else:
        order = list(dict.fromkeys(zip(cells["label"], cells["variant"], cells["row"])))
        groups = [(key, cells[(cells["label"] == key[0]) & (cells["variant"] == key[1]) & (cells["row"] == key[2])]) for key in order]
    for key, frame in groups:
        by_column = {r["column"]: r for r in frame.to_dict("records")}
        label = METRIC_LABEL.get(key, key) if isinstance(key, str) else key[0]
        first = frame.iloc[0]
        status = first["status"]
        has_paper = frame["paper"].notna().any()
        has_repro = frame["reproduced"].notna().any()
        if has_paper or not first["variant"]:
            tag = "paper" if first["variant"] else "paper (reported in paper only)"
            body.append([label, tag, *[_fmt(by_column[c]["paper"]) if c in by_column else "" for c, _ in result.columns]])
        if first["variant"]:
            if status == "not-run" and not has_repro:
                body.append([label, "not run in this configuration", *["–"] * len(result.columns)])
                continue
            sources = sorted({SOURCE_LABEL.get(s, s) for s in frame["source"] if s})
            tag = "reproduced (" + ", ".join(sources) + ")" if sources else "reproduced"
            if not has_paper:
                tag += ", not in paper"
            body.append([label, tag, *[_fmt_repro(by_column[c]) if c in by_column else "" for c, _ in result.columns]])
            if has_paper:
                body.append([label, "Δ reproduced − paper", *[_fmt_delta(by_column[c]) if c in by_column else "" for c, _ in result.columns]])
    return header, body


def to_markdown(result: TableResult) -> str:
    header, body = display_lines(result)
    title = result.plan.get("title", result.plan["name"])
    lines = [f"# {title}", ""]
    if result.plan.get("caption"):
        lines += [result.plan["caption"], ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|")
    for line in body:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
    lines.append("")
    lines += [f"- {note}" for note in result.notes]
    if result.plan.get("paper"):
        lines.append(f"- Paper values: {result.plan['paper']} (typed from the paper). Per-cell provenance: {result.plan['name']}.csv.")
    else:
        lines.append(f"- Per-cell provenance (score and complexity files): {result.plan['name']}.csv.")
    return "\n".join(lines) + "\n"


_TEX_ESCAPES = {"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}",
                "±": r"$\pm$", "Δ": r"$\Delta$", "−": "-", "β": r"$\beta$", "✓": r"\checkmark{}", "✗": r"$\times$",
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


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Write to a temporary name beside ``path`` and rename, so a crash never leaves a half-written artefact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


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
    "CELL_COLUMNS", "PAPER_SCALE", "TableError", "TableResult", "atomic_write", "beta_table", "build_table",
    "counted_gflops", "metrics_table", "read_paper_csv", "render_table", "to_latex", "to_markdown", "usage_table",
    "write_table",
]
