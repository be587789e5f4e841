"""``kind: usage`` (Figure 5): per-block usage on Vimeo-Fast/Medium/Slow, its difference to the reference (Medium),
and across frame intervals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import FigureKind, register_figure_kind

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["variant", "configuration", "motion", "interval"],
    "properties": {
        "variant": {"$ref": "#/$defs/variant"},
        "configuration": {"$ref": "#/$defs/name"},
        "motion": {"type": "object", "additionalProperties": {"$ref": "#/$defs/name"}, "minProperties": 2,
                   "description": "panel (a)/(b): label -> protocol; the key 'Medium' is the reference of (b)"},
        "reference": {"type": "string"},
        "interval": {"type": "object", "additionalProperties": {"$ref": "#/$defs/name"}, "minProperties": 1,
                     "description": "panel (c): label -> protocol"},
    },
}


def variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return [("", entry["variant"])]


def check(entry: Mapping[str, Any], tables: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """Panel (b) draws the difference to the reference: it must be one of the motion panels."""
    if entry.get("reference", "Medium") not in entry["motion"]:
        yield "reference", f"{entry.get('reference', 'Medium')!r} is not a key of motion"


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """One cell per motion and interval protocol, of one variant."""
    for key in ("motion", "interval"):
        plan[f"{key}_cells"] = {
            label: artefacts.cell(plan["variant"], plan["configuration"], protocol, False)
            for label, protocol in plan[key].items()
        }


def usage_rates(cells: Mapping[str, Mapping[str, Any] | None], base: Path) -> dict[str, np.ndarray | None]:
    """label -> per-block usage rate (or None when that protocol was not run)."""
    from vpbench.reporting.aggregate import block_usage
    from vpbench.reporting.cells import read_cell_scores

    rates: dict[str, np.ndarray | None] = {}
    for label, cell in cells.items():
        if not cell:
            rates[label] = None
            continue
        usage = block_usage(read_cell_scores(cell, base))
        rates[label] = usage.sort_values("block")["usage_rate"].to_numpy(dtype=float) if len(usage) else None
    return rates


def _bars(ax: Axes, rates: Mapping[str, np.ndarray | None], ylabel: str) -> None:
    import numpy as np

    from vpbench.reporting.drawing import placeholder

    present = {k: v for k, v in rates.items() if v is not None}
    if not present:
        placeholder(ax, "not run in this configuration")
        return
    n_blocks = max(len(v) for v in present.values())
    width = 0.8 / len(present)
    for i, (label, values) in enumerate(present.items()):
        ax.bar(np.arange(len(values)) + i * width - 0.4 + width / 2, values, width, label=label)
    ax.set_xticks(range(n_blocks), [f"{i + 1}" for i in range(n_blocks)])
    ax.set_xlabel("MVFB")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")


def draw(plan: Mapping[str, Any], base: Path, table: TableResult | None) -> Figure:
    """Figure 5: per-block usage by motion magnitude, its difference to the reference, and by frame interval."""
    from vpbench.reporting.drawing import placeholder, plt

    motion = usage_rates(plan["motion_cells"], base)
    interval = usage_rates(plan["interval_cells"], base)
    reference = plan.get("reference", "Medium")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    _bars(axes[0], motion, "usage rate")
    axes[0].set_title("(a) motion magnitude", fontsize=9)
    if motion.get(reference) is None:
        placeholder(axes[1], f"reference {reference!r} not run")
    else:
        diffs = {k: v - motion[reference] for k, v in motion.items() if k != reference and v is not None}
        _bars(axes[1], diffs, f"usage - {reference}")
        axes[1].axhline(0, color="black", linewidth=0.8)
    axes[1].set_title(f"(b) difference to {reference}", fontsize=9)
    _bars(axes[2], interval, "usage rate")
    axes[2].set_title("(c) time interval between the inputs", fontsize=9)
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


KIND = register_figure_kind(FigureKind("usage", SCHEMA, plan=plan, draw=draw, variants=variants, check=check))
