"""The paper's figures rebuilt from score, complexity and prediction files (PNG and PDF).

Place in the flow: scores -> aggregate -> cells -> tables and **figures** (this module; several figures draw a
table's cells, :mod:`vpbench.reporting.tables`). Each ``kind:`` of figure in config/tables.yaml is one module of
:mod:`vpbench.reporting.kinds` whose ``draw`` takes the figure's plan (:meth:`vpbench.pipeline.artefacts.Artefacts.figure_plan`),
the base directory and, for a figure drawn from a table's cells, that table, and returns a matplotlib figure;
:func:`render_figure` looks the kind up and saves what it draws (:mod:`vpbench.reporting.drawing`). Labels, units
and directions come from the metric records (:mod:`vpbench.evaluation.metric_records`).

* Figure 1 (``efficiency``): average MS-SSIM against GFLOPs, marker area ~ parameters; paper points and reproduced
  points side by side.
* Figures 3, 4, 6 (``predictions``): ground truth and each method's predicted frames for a few clips.
* Figure 5 (``usage``): per-block usage on Vimeo-Fast/Medium/Slow, its difference to Medium, and across frame
  intervals.
* Figure 7 (``flow``): DMVFN's fusion map 1 - m, its flow f_{t+1->t} (colour wheel), the prediction and the truth.
* Figure 8 (``beta``): GFLOPs and MS-SSIM as beta varies, DMVFN without routing as reference.
* ``snakemake compare``: the compared method minus each baseline per predicted frame (here, not a kind).

Panels without data (a variant not run in this configuration) say so instead of disappearing, so every figure is
always written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vpbench.evaluation.metric_records import get_quantity
from vpbench.reporting.comparison import ComparisonError, step_differences
from vpbench.reporting.drawing import placeholder, plt, save_figure, unit
from vpbench.reporting.errors import FigureError, TableError
from vpbench.reporting.kinds import FIGURE_KINDS
from vpbench.reporting.tables import build_table


# ---------------------------------------------------------------------------------------------------------------
# snakemake compare: per-step differences


def figure_compare_steps(plan: Mapping[str, Any], protocol: str, base: Path) -> plt.Figure:
    """Compared method minus each baseline per predicted frame (t+1..t+K, not cumulative), with 95% bands."""
    try:
        frame = step_differences(plan, protocol, base)
    except ComparisonError as err:
        raise FigureError(str(err)) from None
    metrics = [m for m in next(g for g in plan["groups"] if g["protocol"] == protocol)["metrics"]]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.4), squeeze=False)
    compared = plan["rows"][0].get("label", plan["compared"])
    for ax, metric in zip(axes[0], metrics):
        part = frame[frame["metric"] == metric]
        record = get_quantity(metric)
        scale = record.scale
        if part.empty:
            placeholder(ax, "no baseline scored on this protocol")
            continue
        for (label, _), curve in part.groupby(["label", "baseline"], sort=False):
            curve = curve.sort_values("horizon")
            line, = ax.plot(curve["horizon"], curve["difference"] * scale, "o-", label=label, linewidth=1.2, markersize=3)
            ax.fill_between(curve["horizon"], curve["lo"] * scale, curve["hi"] * scale, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel("predicted frame t+k")
        ax.set_ylabel(f"difference in {record.label}{unit(metric)}")  # the method is named in the title
        ax.set_title(f"{record.label} ({record.direction} is better)", fontsize=9)
        ax.set_xticks(sorted(part["horizon"].unique()))
        ax.grid(alpha=0.3)
    # One legend for the figure, below the panels: it covers no data and no axis label.
    handles, labels = next(((h, lab) for h, lab in (ax.get_legend_handles_labels() for ax in axes[0]) if h), ([], []))
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, -0.02))
    fig.subplots_adjust(bottom=0.26, top=0.78, wspace=0.3)
    label = next(g.get("label", protocol) for g in plan["groups"] if g["protocol"] == protocol)
    prefix = "[SMOKE RUN] " if plan.get("run") == "smoke" else ""
    fig.suptitle(f"{prefix}{compared} minus each baseline on {label}\nper predicted frame, 95% paired intervals",
                 fontsize=9)
    return fig


def render_compare_steps(plan: Mapping[str, Any], protocol: str, out_dir: str | Path, base: str | Path = ".") -> list[Path]:
    """``<out_dir>/<name>-steps-<protocol>.{png,pdf}``."""
    try:
        fig = figure_compare_steps(plan, protocol, Path(base))
    except TableError as err:
        raise FigureError(str(err)) from None
    return save_figure(fig, out_dir, f"{plan['name']}-steps-{protocol}")


def render_figure(plan: Mapping[str, Any], out_dir: str | Path, base: str | Path = ".") -> list[Path]:
    """``<out_dir>/<name>.{png,pdf}``, drawn by the plan's kind; a figure drawn from a table's cells
    (``table_plan``) receives that table, built by its own kind."""
    base = Path(base)
    kind = FIGURE_KINDS.get(plan["kind"])
    try:
        table = build_table(dict(plan["table_plan"]), base) if "table_plan" in plan else None
        fig = kind.draw(plan, base, table)
    except TableError as err:
        raise FigureError(str(err)) from None
    return save_figure(fig, out_dir, plan["name"])


__all__ = ["figure_compare_steps", "render_compare_steps", "render_figure"]
