"""The paper's figures rebuilt from score, complexity and prediction files (PNG and PDF).

Place in the flow: scores -> aggregate -> tables and **figures** (this module; several figures draw a table's cells,
:mod:`vpbench.reporting.tables`). Each ``kind:`` of figure in config/tables.yaml is a function registered here with
:func:`register_figure_kind`, taking the figure's plan (:meth:`vpbench.pipeline.plan.Plan.figure_plan`) and the base
directory and returning a matplotlib figure; :func:`render_figure` saves it. Labels, units and directions come from
the metric records (:mod:`vpbench.evaluation.metric_records`).

* Figure 1 (``efficiency``): average MS-SSIM against GFLOPs, marker area ~ parameters; paper points and reproduced
  points side by side.
* Figures 3, 4, 6 (``predictions``): ground truth and each method's predicted frames for a few clips.
* Figure 5 (``usage``): per-block usage on Vimeo-Fast/Medium/Slow, its difference to Medium, and across frame
  intervals.
* Figure 7 (``flow``): DMVFN's fusion map 1 - m, its flow f_{t+1->t} (colour wheel), the prediction and the truth.
* Figure 8 (``beta``): GFLOPs and MS-SSIM as beta varies, DMVFN without routing as reference.

Panels without data (a variant not run in this configuration) say so instead of disappearing, so every figure is
always written.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vpbench.evaluation.metric_records import get_quantity  # noqa: E402
from vpbench.reporting.aggregate import aggregate_scores, block_usage  # noqa: E402
from vpbench.registry import Registry  # noqa: E402
from vpbench.reporting.tables import (  # noqa: E402
    TableError,
    build_table,
    counted_gflops,
    read_cell_scores,
    read_complexity,
)
from vpbench.utils import atomic_write  # noqa: E402

PAPER_STYLE = {"marker": "s", "facecolors": "none", "edgecolors": "tab:gray"}


class FigureError(ValueError):
    """A figure cannot be drawn from its inputs (or its kind is unknown); the message names the file."""


#: ``(plan, base) -> figure``: a figure kind draws its plan's inputs (paths relative to ``base``)
FigureKind = Callable[[Mapping[str, Any], Path], plt.Figure]
FIGURE_KINDS: Registry[FigureKind] = Registry("figure kind", FigureError)


def register_figure_kind(name: str) -> Callable[[FigureKind], FigureKind]:
    """Function decorator: register a :data:`FigureKind` as ``kind: <name>``."""
    return FIGURE_KINDS.register(name)


def _unit(metric: str) -> str:
    """`` (x10^-2)`` after an axis label when the metric is shown scaled, nothing otherwise."""
    note = get_quantity(metric).scale_note
    return f" ({note})" if note else ""


def _placeholder(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=9, color="tab:gray", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def save_figure(fig: plt.Figure, out_dir: str | Path, name: str) -> list[Path]:
    """``<out_dir>/<name>.png`` and ``.pdf``, each written to a temporary name first."""
    paths = []
    for ext in ("png", "pdf"):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, dpi=150, bbox_inches="tight", metadata={"CreationDate": None} if ext == "pdf" else None)
        path = Path(out_dir) / f"{name}.{ext}"
        atomic_write(path, buffer.getvalue())
        paths.append(path)
    plt.close(fig)
    return paths


# ---------------------------------------------------------------------------------------------------------------
# Figure 1


def efficiency_points(plan: Mapping[str, Any], base: Path) -> pd.DataFrame:
    """One point per row and origin (paper / reproduced): average metric over the table's horizons, GFLOPs, params."""
    table = build_table(dict(plan["table_plan"]), base)
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


@register_figure_kind("efficiency")
def figure_efficiency(plan: Mapping[str, Any], base: Path) -> plt.Figure:
    """Figure 1: average metric against GFLOPs (log scale), marker area ~ parameters."""
    points = efficiency_points(plan, base)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    if points.empty:
        _placeholder(ax, "no points: neither paper GFLOPs nor reproduced runs")
        return fig
    paper = points[points["origin"] == "paper"]
    repro = points[points["origin"] == "reproduced"]
    ax.scatter(paper["gflops"], paper["score"], s=40, label="paper", **PAPER_STYLE)
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
    ax.set_ylabel(f"average {get_quantity(plan['metric']).label}{_unit(plan['metric'])}")
    ax.set_title(plan.get("title", plan["name"]), fontsize=9)
    reason = (plan.get("comparability") or {}).get(plan["protocol"], {}).get("gflops")
    if reason and len(repro) and len(paper):
        # Reproduced GFLOPs at another resolution than the paper's: the two sets of points do not compare.
        ax.text(0.01, 0.01, f"not comparable with the paper's points: {reason}", transform=ax.transAxes, fontsize=7,
                color="tab:red", va="bottom")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    ax.grid(alpha=0.3)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Figure 8


@register_figure_kind("beta")
def figure_beta(plan: Mapping[str, Any], base: Path) -> plt.Figure:
    """Figure 8: GFLOPs and MS-SSIM against beta, DMVFN without routing as reference."""
    table = build_table(dict(plan["table_plan"]), base)
    cells = table.cells
    betas = [float(b) for b in plan["table_plan"]["betas"]]
    panels = plan["table_plan"]["panels"]
    fig, axes = plt.subplots(len(panels), 2, figsize=(8, 3.2 * len(panels)), squeeze=False)
    for row, panel in enumerate(panels):
        protocol = panel["protocol"]
        reference_cell = plan["reference_cells"].get(protocol)
        reference = None
        if reference_cell:
            reference = _reference_values(reference_cell, protocol, int(plan["table_plan"].get("horizon", 1)), base)
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
            ax.set_ylabel(f"{get_quantity(quantity).label}{_unit(quantity)}")
            ax.set_title(f"{panel.get('label', protocol)}", fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


def _reference_values(cell: Mapping[str, Any], protocol: str, horizon: int, base: Path) -> dict[str, float]:
    scores = read_cell_scores(cell, base)
    scores = scores[scores["protocol"] == protocol]
    aggregated = aggregate_scores(scores, horizons=(horizon,))
    hit = aggregated[aggregated["metric"] == "ms_ssim"]
    value = float(hit["mean"].iloc[0]) * get_quantity("ms_ssim").scale if len(hit) else math.nan
    gflops = counted_gflops(read_complexity(base / cell["complexity"])) if "complexity" in cell else None
    return {"ms_ssim": value, "gflops": math.nan if gflops is None else gflops}


# ---------------------------------------------------------------------------------------------------------------
# Figure 5


def usage_rates(cells: Mapping[str, Mapping[str, Any] | None], base: Path) -> dict[str, np.ndarray | None]:
    """label -> per-block usage rate (or None when that protocol was not run)."""
    rates: dict[str, np.ndarray | None] = {}
    for label, cell in cells.items():
        if not cell:
            rates[label] = None
            continue
        usage = block_usage(read_cell_scores(cell, base))
        rates[label] = usage.sort_values("block")["usage_rate"].to_numpy(dtype=float) if len(usage) else None
    return rates


def _bars(ax: plt.Axes, rates: Mapping[str, np.ndarray | None], ylabel: str) -> None:
    present = {k: v for k, v in rates.items() if v is not None}
    if not present:
        _placeholder(ax, "not run in this configuration")
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


@register_figure_kind("usage")
def figure_usage(plan: Mapping[str, Any], base: Path) -> plt.Figure:
    """Figure 5: per-block usage by motion magnitude, its difference to the reference, and by frame interval."""
    motion = usage_rates(plan["motion_cells"], base)
    interval = usage_rates(plan["interval_cells"], base)
    reference = plan.get("reference", "Medium")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    _bars(axes[0], motion, "usage rate")
    axes[0].set_title("(a) motion magnitude", fontsize=9)
    if motion.get(reference) is None:
        _placeholder(axes[1], f"reference {reference!r} not run")
    else:
        diffs = {k: v - motion[reference] for k, v in motion.items() if k != reference and v is not None}
        _bars(axes[1], diffs, f"usage - {reference}")
        axes[1].axhline(0, color="black", linewidth=0.8)
    axes[1].set_title(f"(b) difference to {reference}", fontsize=9)
    _bars(axes[2], interval, "usage rate")
    axes[2].set_title("(c) time interval between the inputs", fontsize=9)
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# Figures 3, 4, 6, 7 (prediction files written by `vpbench render predictions`)


def load_predictions(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FigureError(f"{path}: prediction file not found (run its `vpbench render predictions` job first)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as err:
        raise FigureError(f"{path}: not a readable prediction file ({err})") from None


@register_figure_kind("predictions")
def figure_predictions(plan: Mapping[str, Any], base: Path) -> plt.Figure:
    """Figures 3, 4, 6: ground truth and each method's predicted frames, a few clips."""
    steps = list(plan["steps"])
    loaded = [(row["label"], load_predictions(base / row["cell"]["predictions"]) if row["cell"] else None) for row in plan["rows"]]
    available = [data for _, data in loaded if data is not None]
    n_clips = min((len(d["target"]) for d in available), default=1)
    n_rows = (1 + len(loaded)) * n_clips
    aspect = available[0]["target"].shape[2] / available[0]["target"].shape[3] if available else 0.5  # H / W
    fig, axes = plt.subplots(n_rows, len(steps), figsize=(2.6 * len(steps), (2.6 * aspect + 0.25) * n_rows), squeeze=False)
    for clip in range(n_clips):
        offset = clip * (1 + len(loaded))
        truth = available[0]["target"][clip] if available else None
        for col, step in enumerate(steps):
            ax = axes[offset][col]
            if truth is not None and step <= len(truth):
                ax.imshow(truth[step - 1])
                ax.set_xticks([])
                ax.set_yticks([])
            else:
                _placeholder(ax, "no ground truth")
            if clip == 0:
                ax.set_title(f"t+{step}", fontsize=9)
            if col == 0:
                ax.set_ylabel("ground truth", fontsize=8)
        for r, (label, data) in enumerate(loaded, start=1):
            for col, step in enumerate(steps):
                ax = axes[offset + r][col]
                if data is None or step > data["prediction"].shape[1]:
                    _placeholder(ax, "not run in this configuration")
                else:
                    ax.imshow(data["prediction"][clip][step - 1])
                    ax.set_xticks([])
                    ax.set_yticks([])
                if col == 0:
                    ax.set_ylabel(label, fontsize=8)
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """[2, H, W] flow -> [H, W, 3] RGB in [0, 1]: hue = direction, saturation = magnitude (colour-wheel coding)."""
    u, v = flow[0], flow[1]
    magnitude = np.sqrt(u**2 + v**2)
    scale = max_magnitude if max_magnitude else max(float(magnitude.max()), 1e-6)
    hue = (np.arctan2(-v, -u) / np.pi + 1.0) / 2.0
    saturation = np.clip(magnitude / scale, 0.0, 1.0)
    hsv = np.stack([hue, saturation, np.ones_like(hue)], axis=-1)
    return matplotlib.colors.hsv_to_rgb(hsv)


def colour_wheel(size: int = 64) -> np.ndarray:
    ys, xs = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    wheel = flow_to_color(np.stack([xs, ys]), max_magnitude=1.0)
    wheel[np.sqrt(xs**2 + ys**2) > 1] = 1.0
    return wheel


@register_figure_kind("flow")
def figure_flow(plan: Mapping[str, Any], base: Path) -> plt.Figure:
    """Figure 7: DMVFN's fusion map, its flow (colour wheel), the prediction and the truth."""
    titles = ["1 - m", "f_{t+1->t}", "predicted I_{t+1}", "ground truth I_{t+1}"]
    cell = plan.get("cell")
    data = load_predictions(base / cell["predictions"]) if cell else None
    if data is None or "flow" not in data or "mask" not in data:
        fig, ax = plt.subplots(figsize=(6, 2))
        _placeholder(ax, "not run in this configuration" if data is None else "this method returns no voxel flow")
        return fig
    n_clips = len(data["flow"])
    fig, axes = plt.subplots(n_clips, 5, figsize=(13, 2.2 * n_clips), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 1, 0.3]})
    for clip in range(n_clips):
        flow = data["flow"][clip][2:4]  # channels 2:4 warp I_t: f_{t+1->t}
        panels = [1.0 - data["mask"][clip][0], flow_to_color(flow), data["prediction"][clip][0], data["target"][clip][0]]
        for col, image in enumerate(panels):
            ax = axes[clip][col]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0 if image.ndim == 2 else None, vmax=1 if image.ndim == 2 else None)
            ax.set_xticks([])
            ax.set_yticks([])
            if clip == 0:
                ax.set_title(titles[col], fontsize=9)
        axes[clip][4].imshow(colour_wheel())
        axes[clip][4].set_axis_off()
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


# ---------------------------------------------------------------------------------------------------------------
# snakemake compare: per-step differences


def figure_compare_steps(plan: Mapping[str, Any], protocol: str, base: Path) -> plt.Figure:
    """Compared method minus each baseline per predicted frame (t+1..t+K, not cumulative), with 95% bands."""
    from vpbench.reporting.comparison import ComparisonError, step_differences

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
            _placeholder(ax, "no baseline scored on this protocol")
            continue
        for (label, _), curve in part.groupby(["label", "baseline"], sort=False):
            curve = curve.sort_values("horizon")
            line, = ax.plot(curve["horizon"], curve["difference"] * scale, "o-", label=label, linewidth=1.2, markersize=3)
            ax.fill_between(curve["horizon"], curve["lo"] * scale, curve["hi"] * scale, color=line.get_color(), alpha=0.15, linewidth=0)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel("predicted frame t+k")
        ax.set_ylabel(f"difference in {record.label}{_unit(metric)}")  # the method is named in the title
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
    base = Path(base)
    try:
        fig = FIGURE_KINDS.get(plan["kind"])(plan, base)
    except TableError as err:
        raise FigureError(str(err)) from None
    return save_figure(fig, out_dir, plan["name"])


__all__ = [
    "FIGURE_KINDS", "FigureError", "FigureKind", "colour_wheel", "efficiency_points", "figure_compare_steps",
    "flow_to_color", "load_predictions", "register_figure_kind", "render_compare_steps", "render_figure",
]
