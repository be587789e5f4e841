"""``kind: beta`` (Figure 8): GFLOPs and MS-SSIM as beta varies, from the cells of a beta table, with a reference
variant (DMVFN without routing) as a constant line."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import FigureKind, register_figure_kind, table_named

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["table", "reference"],
    "properties": {
        "table": {"type": "string", "pattern": "^table[0-9]+$"},
        "reference": {"$ref": "#/$defs/variant",
                      "description": "the variant drawn as a constant line (DMVFN without routing)"},
    },
}


def variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return [("", entry["reference"])]


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """The beta table's cells, and the reference variant's cell on each panel's protocol."""
    plan["table_plan"] = table = artefacts.table_plan(plan["table"])
    plan["reference_cells"] = {
        panel["protocol"]: artefacts.cell(plan["reference"], panel["configuration"], panel["protocol"], True)
        for panel in table["panels"]
    }


def reference_values(cell: Mapping[str, Any], protocol: str, horizon: int, base: Path) -> dict[str, float]:
    """The reference variant's MS-SSIM at ``horizon`` (paper units) and its GFLOPs."""
    from vpbench.evaluation.metric_records import get_quantity
    from vpbench.reporting.aggregate import aggregate_scores
    from vpbench.reporting.cells import counted_gflops, read_cell_scores, read_complexity

    scores = read_cell_scores(cell, base)
    scores = scores[scores["protocol"] == protocol]
    aggregated = aggregate_scores(scores, horizons=(horizon,))
    hit = aggregated[aggregated["metric"] == "ms_ssim"]
    value = float(hit["mean"].iloc[0]) * get_quantity("ms_ssim").scale if len(hit) else math.nan
    gflops = counted_gflops(read_complexity(base / cell["complexity"])) if "complexity" in cell else None
    return {"ms_ssim": value, "gflops": math.nan if gflops is None else gflops}


def draw(plan: Mapping[str, Any], base: Path, table: TableResult | None) -> Figure:
    """Figure 8: GFLOPs and MS-SSIM against beta, DMVFN without routing as reference."""
    import numpy as np

    from vpbench.evaluation.metric_records import get_quantity
    from vpbench.reporting import drawing as d
    from vpbench.reporting.drawing import plt  # pyplot on the Agg backend

    assert table is not None  # the figure's plan has its table's (the planner above)
    cells = table.cells
    betas = [float(b) for b in plan["table_plan"]["betas"]]
    panels = plan["table_plan"]["panels"]
    fig, axes = plt.subplots(len(panels), 2, figsize=(8, 3.2 * len(panels)), squeeze=False)
    for row, panel in enumerate(panels):
        protocol = panel["protocol"]
        reference_cell = plan["reference_cells"].get(protocol)
        reference = None
        if reference_cell:
            reference = reference_values(reference_cell, protocol, int(plan["table_plan"].get("horizon", 1)), base)
        for col, quantity in enumerate(("gflops", "ms_ssim")):
            ax = axes[row][col]
            frame = cells[(cells["protocol"] == protocol) & (cells["metric"] == quantity)]
            ax.plot(betas, frame["paper"].to_numpy(), "s--", color="tab:gray", label="DMVFN, paper")
            if frame["reproduced"].notna().any():
                reproduced = frame["reproduced"].to_numpy()
                ax.plot(betas, reproduced, "o-", color="tab:red", label="DMVFN, reproduced (95% interval)")
                lo, hi = frame["lo"].to_numpy(dtype=float), frame["hi"].to_numpy(dtype=float)
                if np.isfinite(lo).all() and np.isfinite(hi).all() and (hi > lo).any():
                    ax.fill_between(betas, lo, hi, color="tab:red", alpha=0.15, linewidth=0)
            if reference is not None and not math.isnan(reference[quantity]):
                ax.axhline(reference[quantity], color="tab:blue", linestyle=":", label="w/o routing, reproduced")
            ax.set_xlabel("β (inference)")
            ax.set_ylabel(f"{get_quantity(quantity).label}{d.unit(quantity)}")
            ax.set_title(f"{panel.get('label', protocol)}", fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


KIND = register_figure_kind(FigureKind("beta", SCHEMA, plan=plan, draw=draw, variants=variants, check=table_named))
