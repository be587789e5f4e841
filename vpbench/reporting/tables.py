"""Paper tables rebuilt from raw score files, each reproduced cell beside the paper's value: the display and the writers.

Place in the flow: scores (:mod:`vpbench.evaluation.scores`) -> aggregate -> cells (:mod:`vpbench.reporting.cells`:
the score and complexity readers and each cell's value, interval and consistency with the paper) -> **tables**
(this module) and figures. Each ``kind:`` of table in config/tables.yaml is one module of
:mod:`vpbench.reporting.kinds` that computes the table's cells (:func:`build_table` looks it up); this module
writes them:

* ``<name>.csv``: one tidy row per cell (paper value, reproduced mean with its 95 % interval ``lo``/``hi`` over
  clips and seeds (:mod:`vpbench.reporting.intervals`), difference, tolerance, consistency with the paper, source, and the
  score/complexity files the cell was computed from: its provenance);
* ``<name>.md`` and ``<name>.tex``: the paper's layout, with a "paper" line, a reproduced line (mean ± half-width of
  the interval) tagged with its source (retrained, official weights, untrained) and a "Δ" line per row marked
  ≈ (the paper's value lies inside the interval widened by the table's tolerance), ↑ or ↓ (the reproduction is
  above or below it); rows only in the paper say so.

A cell of a variant trained with several seeds (``seeds:`` in config/experiments.yaml) pools every seed's scores.
Labels, units and digits come from the metric records (:mod:`vpbench.evaluation.metric_records`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vpbench.evaluation.metric_records import get_quantity
from vpbench.reporting.cells import NOT_COMPARABLE, TableResult
from vpbench.reporting.kinds import TABLE_KINDS
from vpbench.utils import atomic_write

SOURCE_LABEL = {
    "retrained": "retrained",
    "official-weights": "official weights",
    "untrained": "untrained",
}
#: how a Δ cell marks the paper's value against the reproduced interval (:func:`vpbench.reporting.intervals.consistency`)
CONSISTENCY_MARK = {"consistent": "≈", "above": "↑", "below": "↓"}


def build_table(plan: dict[str, Any], base: str | Path = ".") -> TableResult:
    """The cells of ``plan``, computed by its registered kind (a :class:`TableError` names the known kinds)."""
    return TABLE_KINDS.get(plan["kind"]).build(plan, Path(base))


# ---------------------------------------------------------------------------------------------------------------
# display


def _digits(record: Mapping[str, Any]) -> int:
    return get_quantity(record["metric"]).digits


def _fmt(value: float, digits: int) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _fmt_paper(record: Mapping[str, Any]) -> str:
    return _fmt(record["paper"], _digits(record))


def _clipped(record: Mapping[str, Any]) -> bool:
    """Whether the cell's interval reaches a bound of its quantity's range (:func:`vpbench.reporting.cells.set_estimate` clipped it)."""
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
    for label, frame in result.display_groups(result.cells):
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
            sections.append((label, dataclasses.replace(result, cells=result.cells[result.cells["protocol"] == protocol],
                                                        columns=columns)))
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
    "CONSISTENCY_MARK", "SOURCE_LABEL", "build_table", "display_lines", "protocol_sections", "render_table",
    "tex_escape", "to_latex", "to_markdown", "write_table",
]
