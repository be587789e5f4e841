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
#: layouts of :func:`frames_to_float`: one clip's frames (evaluation windows), a batch of clips (training)
CLIP_FRAMES = "[T, 3, H, W]"
CLIP_BATCH = "[B, L, 3, H, W]"


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


def frames_to_float(frames: object, device: torch.device | str = "cpu", *, layout: str = CLIP_FRAMES,
                    where: str = "frames", error: type[Exception] = FrameContractError) -> Tensor:
    """Frames as a loader yields them (uint8 0..255, or float in [0, 1]) -> float32 in [0, 1] on ``device``.

    ``layout`` names the expected dimensions (``"[B, L, 3, H, W]"`` for a training batch): the tensor must have as
    many, with 3 channels third from last. Anything else (not a tensor, another shape, an integer dtype other than
    uint8, floats outside [0, 1] +- :data:`INPUT_TOLERANCE`) raises ``error`` with a message that starts with
    ``where`` (the evaluation raises its own error class, naming the clip). uint8 frames travel to the device before
    the conversion (a quarter of the bytes).
    """
    if not isinstance(frames, Tensor):
        raise error(f"{where}: expected a tensor {layout}, got {type(frames).__name__}")
    ndim = len(layout.strip("[]").split(","))
    if frames.dim() != ndim or frames.shape[-3] != 3:
        raise error(f"{where}: frames must be {layout}, got {tuple(frames.shape)}")
    frames = frames.to(device, non_blocking=True)
    if frames.dtype == torch.uint8:
        return frames.float().div_(255.0)
    if not frames.is_floating_point():
        raise error(f"{where}: frames must be uint8 0..255 or float in [0, 1], got {frames.dtype}")
    frames = frames.float()
    problem = frame_problem(frames, INPUT_TOLERANCE)
    if problem:
        raise error(f"{where}: float frames {problem}; float frames must be in [0, 1]")
    return frames


def check_input_frames(method: str, **frames: Tensor) -> None:
    """Refuse input frames that break the contract; ``method`` and the keyword names say whose and which."""
    for name, tensor in frames.items():
        problem = frame_problem(tensor, INPUT_TOLERANCE)
        if problem:
            raise FrameContractError(f"{method}: input {name} {problem}")


__all__ = [
    "CLIP_BATCH", "CLIP_FRAMES", "FRAME_DTYPES", "FrameContractError", "INPUT_TOLERANCE", "OUTPUT_TOLERANCE", "check_input_frames", "frame_problem",
    "frames_to_float",
]
