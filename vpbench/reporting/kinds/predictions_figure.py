"""``kind: predictions`` (Figures 3, 4, 6): the ground truth and each variant's predicted frames for a few clips,
from the prediction files of ``vpbench render predictions``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vpbench.reporting.kind import FigureKind, register_figure_kind

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from vpbench.pipeline.artefacts import Artefacts
    from vpbench.reporting.cells import TableResult

SCHEMA = {
    "required": ["protocol", "configuration", "variants", "steps"],
    "properties": {
        "protocol": {"$ref": "#/$defs/name"},
        "configuration": {"$ref": "#/$defs/name"},
        "variants": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/variant"}},
        "steps": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1},
                  "description": "horizons shown (t+k)"},
    },
}


def variants(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    return [("", name) for name in entry["variants"]]


def plan(artefacts: Artefacts, plan: dict[str, Any]) -> None:
    """Predicted frames of several variants side by side: one prediction file per row."""
    known = artefacts.experiments.variants
    plan["rows"] = [
        {"variant": v, "label": known[v].get("label", v), "cell": artefacts.prediction_cell(v, plan)}
        for v in plan["variants"]
    ]


def draw(plan: Mapping[str, Any], base: Path, table: TableResult | None) -> Figure:
    """Figures 3, 4, 6: ground truth and each method's predicted frames, a few clips."""
    from vpbench.reporting.drawing import load_predictions, placeholder, plt

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
                placeholder(ax, "no ground truth")
            if clip == 0:
                ax.set_title(f"t+{step}", fontsize=9)
            if col == 0:
                ax.set_ylabel("ground truth", fontsize=8)
        for r, (label, data) in enumerate(loaded, start=1):
            for col, step in enumerate(steps):
                ax = axes[offset + r][col]
                if data is None or step > data["prediction"].shape[1]:
                    placeholder(ax, "not run in this configuration")
                else:
                    ax.imshow(data["prediction"][clip][step - 1])
                    ax.set_xticks([])
                    ax.set_yticks([])
                if col == 0:
                    ax.set_ylabel(label, fontsize=8)
    fig.suptitle(plan.get("title", plan["name"]), fontsize=9)
    return fig


KIND = register_figure_kind(FigureKind("predictions", SCHEMA, plan=plan, draw=draw, variants=variants))
