"""Models: DMVFN and its parts (MVFB, warp, routing), the method interface and the method registry.

    from models import DMVFN
    net = DMVFN().eval()          # the paper's configuration
    next_frame = net(prev, cur)   # [B, 3, H, W] in [0, 1]

The names below are imported on first use, so that ``models.registry`` and ``models.routing_choices`` stay
torch-free for the planner.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "LossOutput": "models.base", "Prediction": "models.base", "VideoPredictor": "models.base",
    "CheckpointError": "models.checkpoint", "load_official_checkpoint": "models.checkpoint",
    "save_official_format": "models.checkpoint",
    "PAPER_SCALES": "models.dmvfn", "PAPER_WIDTHS": "models.dmvfn", "DMVFN": "models.dmvfn",
    "DMVFNOutput": "models.dmvfn", "DMVFNTrainOutput": "models.dmvfn",
    "available_methods": "models.registry", "create_method": "models.registry", "register_method": "models.registry",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
