"""Models: DMVFN and its parts (MVFB, warp, routing), the method interface and the method registry.

    from models import DMVFN
    net = DMVFN().eval()          # the paper's configuration
    next_frame = net(prev, cur)   # [B, 3, H, W] in [0, 1]
"""

from models.base import LossOutput, Prediction, VideoPredictor
from models.checkpoint import CheckpointError, load_official_checkpoint, save_official_format
from models.dmvfn import PAPER_SCALES, PAPER_WIDTHS, DMVFN, DMVFNOutput, DMVFNTrainOutput
from models.registry import available_methods, create_method, register_method

__all__ = [
    "DMVFN",
    "DMVFNOutput",
    "DMVFNTrainOutput",
    "PAPER_SCALES",
    "PAPER_WIDTHS",
    "VideoPredictor",
    "Prediction",
    "LossOutput",
    "CheckpointError",
    "load_official_checkpoint",
    "save_official_format",
    "create_method",
    "register_method",
    "available_methods",
]
