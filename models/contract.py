"""The frame contract at the method boundary: what every method takes and returns.

Frames are float tensors (float32, float16 or bfloat16) ``[..., 3, H, W]`` with values in [0, 1]. Integer frames,
float64 frames and frames in 0..255 are refused with one message that names the method and what was wrong: a
method fed 0..255 floats returns a saturated frame, and one that returns 0..255 would be clamped to a white frame
and scored (PSNR 4 dB) without a word.

Tolerances: inputs may stray :data:`INPUT_TOLERANCE` outside [0, 1] (rounding); a method's output may stray
:data:`OUTPUT_TOLERANCE` outside [0, 1] (an unclamped network output), which the engine then clamps to [0, 1].
Anything farther is a different convention (0..255, [-1, 1]) and is refused. The check is one min/max reduction per
tensor (``benchmarks/contract.py`` measures it against an evaluation step).
"""

from __future__ import annotations

import torch
from torch import Tensor

FRAME_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
INPUT_TOLERANCE = 1e-3
OUTPUT_TOLERANCE = 0.25


class FrameContractError(ValueError):
    """Frames that break the contract (dtype, value range, shape); the message names the method and the tensor."""


def frame_problem(frames: object, tolerance: float) -> str | None:
    """What is wrong with ``frames`` (dtype or values outside [0, 1] +- ``tolerance``), or None."""
    if not isinstance(frames, Tensor):
        return f"is a {type(frames).__name__}, not a tensor"
    if frames.dtype not in FRAME_DTYPES:
        name = str(frames.dtype).removeprefix("torch.")
        if frames.dtype == torch.float64:
            return f"has dtype {name} (double); frames are float32/float16/bfloat16 in [0, 1] (convert with .float())"
        kind = " (integer)" if not (frames.is_floating_point() or frames.is_complex()) else ""
        return (f"has dtype {name}{kind}; frames are float32/float16/bfloat16 in [0, 1] (convert uint8 with "
                ".float() / 255)")
    if frames.numel() == 0:
        return None
    low, high = torch.aminmax(frames.detach())
    low, high = float(low), float(high)
    if low != low or high != high:  # NaN: the finite checks of the engine name it
        return None
    if low < -tolerance or high > 1.0 + tolerance:
        hint = " (0..255 frames? divide by 255)" if high > 2.0 else ""
        return f"holds values in [{low:.4g}, {high:.4g}], outside [0, 1]{hint}"
    return None


def check_input_frames(method: str, **frames: Tensor) -> None:
    """Refuse input frames that break the contract; ``method`` and the keyword names say whose and which."""
    for name, tensor in frames.items():
        problem = frame_problem(tensor, INPUT_TOLERANCE)
        if problem:
            raise FrameContractError(f"{method}: input {name} {problem}")


__all__ = ["FRAME_DTYPES", "FrameContractError", "INPUT_TOLERANCE", "OUTPUT_TOLERANCE", "check_input_frames", "frame_problem"]
