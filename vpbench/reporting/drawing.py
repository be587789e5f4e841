"""What every figure shares: the Agg backend, the paper's marker style, axis units, placeholders for panels without
data, the prediction-file reader and the writer of PNG and PDF files.

The figure kinds (:mod:`vpbench.reporting.kinds`) import this module when they draw, never at import time (the
planner imports the kinds in every Snakemake process, without matplotlib).
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vpbench.evaluation.metric_records import get_quantity  # noqa: E402
from vpbench.reporting.errors import FigureError  # noqa: E402
from vpbench.utils import atomic_write  # noqa: E402

PAPER_STYLE = {"marker": "s", "facecolors": "none", "edgecolors": "tab:gray"}


def unit(metric: str) -> str:
    """`` (x10^-2)`` after an axis label when the metric is shown scaled, nothing otherwise."""
    note = get_quantity(metric).scale_note
    return f" ({note})" if note else ""


def placeholder(ax: plt.Axes, text: str) -> None:
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



def load_predictions(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FigureError(f"{path}: prediction file not found (run its `vpbench render predictions` job first)")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as err:
        raise FigureError(f"{path}: not a readable prediction file ({err})") from None


__all__ = ["PAPER_STYLE", "load_predictions", "placeholder", "save_figure", "unit"]
