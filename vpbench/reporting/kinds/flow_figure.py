"""``kind: flow`` (Figure 7): one variant's fusion map 1 - m, its flow f_{t+1->t} (colour wheel), the prediction
and the truth, from a prediction file of ``vpbench render predictions``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import FigureKind, register_figure_kind

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["protocol", "configuration", "variant"],
    "properties": {
        "protocol": {"$ref": "#/$defs/name"},
        "configuration": {"$ref": "#/$defs/name"},
        "variant": {"$ref": "#/$defs/variant"},
    },
}


def variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return [("", entry["variant"])]


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """One variant's prediction file (its voxel flow and masks)."""
    plan["cell"] = artefacts.prediction_cell(plan["variant"], plan)


def flow_to_color(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """[2, H, W] flow -> [H, W, 3] RGB in [0, 1]: hue = direction, saturation = magnitude (colour-wheel coding)."""
    import numpy as np
    from matplotlib.colors import hsv_to_rgb

    u, v = flow[0], flow[1]
    magnitude = np.sqrt(u**2 + v**2)
    scale = max_magnitude if max_magnitude else max(float(magnitude.max()), 1e-6)
    hue = (np.arctan2(-v, -u) / np.pi + 1.0) / 2.0
    saturation = np.clip(magnitude / scale, 0.0, 1.0)
    hsv = np.stack([hue, saturation, np.ones_like(hue)], axis=-1)
    return hsv_to_rgb(hsv)


def colour_wheel(size: int = 64) -> np.ndarray:
    import numpy as np

    ys, xs = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    wheel = flow_to_color(np.stack([xs, ys]), max_magnitude=1.0)
    wheel[np.sqrt(xs**2 + ys**2) > 1] = 1.0
    return wheel


def draw(plan: Mapping[str, Any], base: Path, table: TableResult | None) -> Figure:
    """Figure 7: DMVFN's fusion map, its flow (colour wheel), the prediction and the truth."""
    from vpbench.reporting.drawing import load_predictions, placeholder, plt

    titles = ["1 - m", "f_{t+1->t}", "predicted I_{t+1}", "ground truth I_{t+1}"]
    cell = plan.get("cell")
    data = load_predictions(base / cell["predictions"]) if cell else None
    if data is None or "flow" not in data or "mask" not in data:
        fig, ax = plt.subplots(figsize=(6, 2))
        placeholder(ax, "not run in this configuration" if data is None else "this method returns no voxel flow")
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


KIND = register_figure_kind(FigureKind("flow", SCHEMA, plan=plan, draw=draw, variants=variants))
