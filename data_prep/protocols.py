"""Evaluation protocols: which prepared frames are context and which are targets, at which resolution.

Frame indices are 0-based positions in a window (``EvalWindows`` returns ``frames[k]`` = window frame k).
The horizon is ``len(target_indices)``; a protocol with no targets only records routing decisions.
Frames are RGB; the official evaluation scripts fed OpenCV's BGR order (to LPIPS too): that is an option of
the metric code (``channel_order_lpips``), not of the data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvalProtocol:
    name: str
    dataset: str  # prepared dataset (``resources/prepared/<dataset>``)
    height: int
    width: int
    input_indices: tuple[int, ...]
    target_indices: tuple[int, ...]
    channel_order: str = "RGB"
    description: str = ""
    split: str = "test"  # prepared split the windows come from
    subset: str = ""  # only windows with this subset label (Vimeo fast/medium/slow); "" = all

    @property
    def horizon(self) -> int:
        return len(self.target_indices)

    @property
    def frames_needed(self) -> int:
        """T of ``EvalWindows`` items: frames 0 .. max index."""
        return max(self.input_indices + self.target_indices) + 1

    @property
    def routing_only(self) -> bool:
        return not self.target_indices


def _vimeo_interval(k: int) -> EvalProtocol:
    target = 2 * k  # im(1+2k) as a 0-based index
    return EvalProtocol(
        f"vimeo_slow_int{k}", "vimeo_septuplet", 256, 448, (0, k), (target,) if target <= 6 else (),
        description=(
            f"Fig. 5c: Vimeo-Slow septuplets, inputs im1 and im{1 + k} (interval {k}); "
            + (f"target im{1 + target}" if target <= 6 else f"im{1 + target} does not exist: routing statistics only")
        ),
        subset="slow",
    )


PROTOCOLS: dict[str, EvalProtocol] = {
    p.name: p
    for p in (
        EvalProtocol("cityscapes", "cityscapes", 512, 1024, (2, 3), (4, 5, 6, 7, 8),
                     description="Cityscapes val snippets, frames 2,3 -> 4..8 (t+1..t+5), 1024x512"),
        EvalProtocol("kitti", "kitti", 256, 832, (2, 3), (4, 5, 6, 7, 8),
                     description="KITTI test windows (1,337), frames 2,3 -> 4..8, 832x256"),
        EvalProtocol("davis", "davis", 480, 864, (2, 3), (4, 5, 6, 7, 8),
                     description="DAVIS17-Val, first 9 frames, 2,3 -> 4..8 (the paper reports t+1 and t+3); "
                     "854x480 resized to 864x480, a multiple of 16 and the size the paper's GFLOPs match"),
        EvalProtocol("vimeo", "vimeo", 256, 448, (0, 1), (2,),
                     description="Vimeo-90K test triplets (3,782): im1, im2 -> im3"),
        EvalProtocol("vimeo_fast", "vimeo_septuplet", 256, 448, (0, 1), (2,),
                     description="Fig. 5a/b: Vimeo-Fast septuplets, im1, im2 -> im3", subset="fast"),
        EvalProtocol("vimeo_medium", "vimeo_septuplet", 256, 448, (0, 1), (2,),
                     description="Fig. 5a/b: Vimeo-Medium septuplets, im1, im2 -> im3", subset="medium"),
        EvalProtocol("vimeo_slow", "vimeo_septuplet", 256, 448, (0, 1), (2,),
                     description="Fig. 5a/b: Vimeo-Slow septuplets, im1, im2 -> im3", subset="slow"),
        _vimeo_interval(1),
        _vimeo_interval(3),
        _vimeo_interval(5),
        EvalProtocol("ucfsports", "ucfsports", 512, 512, (0, 1, 2, 3), (4, 5, 6, 7, 8, 9),
                     description="UCF Sports (STRPM): 4 -> 6 frames at 512x512; two-frame methods use frames 2,3"),
        EvalProtocol("human36m", "human36m", 1024, 1024, (0, 1, 2, 3), (4, 5, 6, 7),
                     description="Human3.6M (STRPM): 4 -> 4 frames at 1024x1024; two-frame methods use frames 2,3"),
        EvalProtocol("kitti_a", "kitti_a", 256, 832, (2, 3), (4, 5, 6, 7, 8),
                     description="KITTI-A (user-supplied list of fast-car windows): 2,3 -> 4..8, for block usage"),
    )
}


def get_protocol(name: str) -> EvalProtocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise KeyError(f"unknown protocol {name!r}; choose from {sorted(PROTOCOLS)}") from None
