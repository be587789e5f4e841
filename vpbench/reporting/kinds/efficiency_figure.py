"""``kind: efficiency`` (Figure 1): average quality against GFLOPs (log scale), marker area ~ parameters; the paper's
points beside the reproduced ones, from the cells of a metrics table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import FigureKind, register_figure_kind, table_named

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["table", "protocol", "metric"],
    "properties": {
        "table": {"pattern": "^table[0-9]+$", "type": "string", "description": "the table whose rows are plotted"},
        "protocol": {"$ref": "#/$defs/name"},
        "metric": {"$ref": "#/$defs/metric"},
    },
}


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """The cells of the metrics table it plots."""
    plan["table_plan"] = artefacts.table_plan(plan["table"])


def efficiency_points(plan: Mapping[str, Any], table: TableResult, base: Path) -> pd.DataFrame:
    """One point per row and origin (paper / reproduced): average metric over the table's horizons, GFLOPs, params."""
    import pandas as pd

    from vpbench.reporting.cells import read_complexity

    cells = table.cells
    protocol, metric = plan["protocol"], plan["metric"]
    points = []
    plotted_paper_rows: set[str] = set()  # a paper row shared by several table rows is drawn once
    rows = cells[cells["protocol"] == protocol]
    for (label, variant), frame in rows.groupby(["label", "variant"], sort=False):
        scores = frame[frame["metric"] == metric]
        gflops = frame[frame["metric"] == "gflops"]
        paper_score = scores["paper"].mean(skipna=False) if len(scores) else math.nan
        paper_gflops = float(gflops["paper"].iloc[0]) if len(gflops) else math.nan
        paper_row = str(frame["row"].iloc[0])
        if not (math.isnan(paper_score) or math.isnan(paper_gflops)) and paper_row not in plotted_paper_rows:
            plotted_paper_rows.add(paper_row)
            points.append({"label": paper_row, "origin": "paper", "gflops": paper_gflops, "score": paper_score, "params": math.nan, "source": "paper"})
        repro_score = scores["reproduced"].mean(skipna=False) if len(scores) else math.nan
        repro_gflops = float(gflops["reproduced"].iloc[0]) if len(gflops) else math.nan
        if not (math.isnan(repro_score) or math.isnan(repro_gflops)):
            complexity = read_complexity(base / gflops["complexity_file"].iloc[0])
            points.append({
                "label": label, "origin": "reproduced", "gflops": repro_gflops, "score": repro_score,
                "params": float(complexity.get("params", math.nan)), "source": frame["source"].iloc[0],
            })
    return pd.DataFrame(points, columns=["label", "origin", "gflops", "score", "params", "source"])


def draw(plan: Mapping[str, Any], base: Path, table: TableResult | None) -> Figure:
    """Figure 1: average metric against GFLOPs (log scale), marker area ~ parameters."""
    from vpbench.evaluation.metric_records import get_quantity
    from vpbench.reporting import drawing as d
    from vpbench.reporting.drawing import plt  # pyplot on the Agg backend

    assert table is not None  # the figure's plan has its table's (the planner above)
    points = efficiency_points(plan, table, base)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if points.empty:
        d.placeholder(ax, "no points: neither paper GFLOPs nor reproduced runs")
        return fig
    paper = points[points["origin"] == "paper"]
    repro = points[points["origin"] == "reproduced"]
    ax.scatter(paper["gflops"], paper["score"], s=40, label="paper", **d.PAPER_STYLE)
    if len(repro):
        sizes = 20 + 200 * repro["params"].fillna(0) / max(float(repro["params"].max()), 1.0)
        ax.scatter(repro["gflops"], repro["score"], s=sizes, alpha=0.7, color="tab:red", label="reproduced (area ~ params)")
    placed: list[tuple[float, float]] = []
    for point in points.itertuples():
        params = "" if math.isnan(point.params) else f" ({point.params / 1e6:.2f}M)"
        # Points that (nearly) coincide, e.g. retrained and official-weights DMVFN, get their labels stacked.
        x = math.log10(point.gflops) if point.gflops > 0 else float("-inf")
        near = sum(abs(x - gx) < 0.5 and abs(point.score - gy) < 1.0 for gx, gy in placed)
        placed.append((x, point.score))
        ax.annotate(f"{point.label}{params}", (point.gflops, point.score), fontsize=7,
                    xytext=(3, 3 - 9 * near), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("GFLOPs (log scale)")
    ax.set_ylabel(f"average {get_quantity(plan['metric']).label}{d.unit(plan['metric'])}")
    ax.set_title(plan.get("title", plan["name"]), fontsize=9)
    reason = (plan.get("comparability") or {}).get(plan["protocol"], {}).get("gflops")
    if reason and len(repro) and len(paper):
        # Reproduced GFLOPs at another resolution than the paper's: the two sets of points do not compare.
        ax.text(0.01, 0.01, f"not comparable with the paper's points: {reason}", transform=ax.transAxes, fontsize=7,
                color="tab:red", va="bottom")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    return fig


KIND = register_figure_kind(FigureKind("efficiency", SCHEMA, plan=plan, draw=draw, check=table_named))
