"""fvcore GFLOPs of the baselines at the paper's resolutions, beside the numbers the DMVFN paper reports.

fvcore counts one multiply-add as one "flop" (the paper's convention: its GFLOPs are GMACs); besides convolutions
it counts BatchNorm (eval: 2 per element), bilinear upsampling (4 per output element), nearest upsampling (1) and
grid_sample (4); ReLU, tanh, pooling and element-wise arithmetic are free.

Every count here is exactly proportional to the number of (padded) pixels, so it is traced once at a small size
and scaled; :func:`per_pixel_flops` checks the proportionality at two sizes before trusting it.

    python -m baselines.costs            # prints the table written down in docs/baselines.md
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from baselines.dvf import DVF, SIZE_MULTIPLE
from baselines.padding import padded_size
from baselines.prednet import PredNetCore

#: resolutions (H, W) of the paper's GFLOPs columns: Cityscapes, KITTI (Table 1), DAVIS17, Vimeo90K (Table 2)
PAPER_RESOLUTIONS: dict[str, tuple[int, int]] = {
    "cityscapes": (512, 1024),
    "kitti": (256, 832),
    "davis": (480, 864),
    "vimeo": (256, 448),
}
#: GFLOPs as printed in the paper (Table 1 and Table 2); None where the paper gives none
PAPER_GFLOPS: dict[str, dict[str, float | None]] = {
    "dvf": {"cityscapes": 409.78, "kitti": 166.47, "davis": 324.15, "vimeo": 89.64},
    "prednet": {"cityscapes": 62.62, "kitti": 25.44, "davis": None, "vimeo": None},
}


class ProportionalityError(RuntimeError):
    """A FLOP count did not scale with the pixel count, so scaling a small trace would be wrong."""


def fvcore_flops(model: nn.Module, inputs: tuple[Tensor, ...]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit deprecation and "unsupported operator" chatter
        from fvcore.nn import FlopCountAnalysis  # imported here: slow to import, and only needed here

        analysis = FlopCountAnalysis(model, inputs)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        return float(analysis.total())


def per_pixel_flops(
    count: Callable[[int, int], float], sizes: tuple[tuple[int, int], tuple[int, int]] = ((32, 48), (48, 64))
) -> float:
    """fvcore flops per pixel of ``count(h, w)``, checked to be the same at two sizes."""
    (h1, w1), (h2, w2) = sizes
    first, second = count(h1, w1) / (h1 * w1), count(h2, w2) / (h2 * w2)
    if abs(first - second) > 1e-9 * max(first, second):
        raise ProportionalityError(f"flops/pixel {first} at {h1}x{w1} but {second} at {h2}x{w2}")
    return first


def dvf_flops(height: int, width: int) -> float:
    model = DVF().eval()
    frame = torch.zeros(1, 3, height, width)
    return fvcore_flops(model, (frame, frame))


class _PredNetOneStep(nn.Module):
    """One full PredNet time step (top-down, prediction, error units) from a zero state, for counting.

    It returns the new state as well: a jit trace drops every operation whose result is not returned, and the
    error units and the A convolutions only feed the *next* step.
    """

    def __init__(self, core: PredNetCore) -> None:
        super().__init__()
        self.core = core

    def forward(self, frame: Tensor) -> tuple[Tensor, ...]:
        batch, _, height, width = frame.shape
        out = self.core.step(frame, self.core.initial_state(batch, height, width, frame))
        return (out.frame_prediction, *out.state.r, *out.state.c, *out.state.e)


def prednet_step_flops(height: int, width: int) -> float:
    core = PredNetCore().eval()
    return fvcore_flops(_PredNetOneStep(core), (torch.zeros(1, 3, height, width),))


def prednet_rollout_flops(height: int, width: int, context_frames: int = 2) -> float:
    """Cost of one predicted frame: ``context_frames`` full steps, then the top-down pass that predicts."""
    core = PredNetCore().eval()
    return fvcore_flops(core, (torch.zeros(1, context_frames, 3, height, width),))


@dataclass
class CostRow:
    method: str
    variant: str
    dataset: str
    height: int
    width: int
    gflops: float
    paper_gflops: float | None

    @property
    def relative_difference(self) -> float | None:
        return None if self.paper_gflops is None else self.gflops / self.paper_gflops - 1.0


def cost_table(prednet_native_context: int = 10) -> list[CostRow]:
    """fvcore GFLOPs of DVF and PredNet (per step, per 2-frame and native-context rollout) at every resolution."""
    multiple = SIZE_MULTIPLE  # DVF and the 4-layer PredNet both pad to multiples of 8
    per_px = {
        ("dvf", "U-Net, per predicted frame"): per_pixel_flops(dvf_flops),
        ("prednet", "official KITTI config, one step"): per_pixel_flops(prednet_step_flops),
        ("prednet", "official KITTI config, 2-frame rollout"): per_pixel_flops(prednet_rollout_flops),
        ("prednet", f"official KITTI config, {prednet_native_context}-frame rollout"): per_pixel_flops(
            lambda h, w: prednet_rollout_flops(h, w, prednet_native_context)
        ),
    }
    rows = []
    for (method, variant), flops_per_px in per_px.items():
        for dataset, (height, width) in PAPER_RESOLUTIONS.items():
            pixels = padded_size(height, multiple) * padded_size(width, multiple)
            paper = PAPER_GFLOPS[method][dataset]
            rows.append(CostRow(method, variant, dataset, height, width, flops_per_px * pixels / 1e9, paper))
    return rows


def format_markdown(rows: list[CostRow]) -> str:
    lines = [
        "| method | variant | dataset | H x W | fvcore GFLOPs | paper GFLOPs | difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        paper = "-" if row.paper_gflops is None else f"{row.paper_gflops:.2f}"
        diff = "-" if row.relative_difference is None else f"{100 * row.relative_difference:+.2f} %"
        lines.append(
            f"| {row.method} | {row.variant} | {row.dataset} | {row.height}x{row.width} | {row.gflops:.2f} "
            f"| {paper} | {diff} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a Markdown table")
    args = parser.parse_args(argv)
    rows = cost_table()
    if args.json:
        print(json.dumps([asdict(r) | {"relative_difference": r.relative_difference} for r in rows], indent=2))
    else:
        print(format_markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
