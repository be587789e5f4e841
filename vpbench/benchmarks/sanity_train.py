"""Smoke-scale sanity check: a small DMVFN trained briefly on CPU beats copy-last-frame on held-out clips.

    python -m vpbench.benchmarks.sanity_train                      # real smoke videos (4x smaller), 1500 steps, 64 px crops
    python -m vpbench.benchmarks.sanity_train --data synthetic     # translating textures (what the test uses)

Training goes through the real engine (:func:`vpbench.training.trainer.train`, recipe ``paper`` with a short schedule);
evaluation predicts I_{t+1} from (I_{t-1}, I_t) on clips never seen in training and prints PSNR and MS-SSIM of
the model next to copy-last-frame (prediction = I_t), computed by the evaluation's own metric functions
(:mod:`vpbench.evaluation.metrics`; MS-SSIM with a 3-px window on crops too small for the paper's 11).

Place in the flow: beside it, not part of it: a quick check that training -> prediction works end to end before a
long run; nothing it writes feeds score files or tables.

Data:
* ``smoke``: the bundled real clips (``vpbench.assets.smoke_video``): bikes (640x272) and bigbuckbunny
  (downscaled to 640x360), cut into segments of 20 frames; every fifth segment is held out (about 20 % of the
  frames, spread over each video so that held-out motion looks like training motion: bigbuckbunny's last fifth is
  a nearly still shot that a time-ordered split would make the whole test); training windows never cross a segment.
* ``synthetic``: textures moving at a constant random integer velocity; train and held-out clips come from
  different seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from vpbench.argtypes import POSITIVE_FLOAT, POSITIVE_INT, SEED
from vpbench.evaluation import metrics
from vpbench.evaluation.metric_records import METRICS
from vpbench.utils import atomic_write

SMOKE_TRAIN_VIDEOS = {"bikes": 1, "bigbuckbunny": 2}  # name -> integer downscale factor
SEGMENT_FRAMES = 20
HELD_OUT_EVERY = 5  # segment i is held out when i % HELD_OUT_EVERY == HELD_OUT_EVERY // 2
# Three narrow blocks and no routing: with n = 3, STEBS at beta = 0.5 runs 1.5 blocks on average and often none, and
# a short run then ends at the copy-last level (tests/test_train_sanity.py trains the STEBS variant on synthetic clips).
SMALL_DMVFN = {"scales": [4, 2, 1], "widths": [32, 32, 16], "routing": "none"}
SMOKE_DEFAULTS = {"steps": 1500, "lr": 1e-3, "downscale": 4}  # measured to beat copy-last (docs/training.md)
PANNING_VELOCITIES = ((1, 0), (2, 0), (1, 1), (2, 1))
ALL_DIRECTIONS = tuple((vx, vy) for vx in (-1, 0, 1) for vy in (-1, 0, 1) if (vx, vy) != (0, 0))
SMALL_CROP_MS_SSIM_WINDOW = 3  # MS-SSIM then needs a shortest side > 32 px (held-out synthetic clips are 64 px)
# Copy-last-frame on a frame that did not change has MSE 0 and an infinite PSNR; capping at 120 dB (MSE 1e-12)
# keeps the mean over triplets finite.
PSNR_CAP_DB = 120.0


# --------------------------------------------------------------------------------------------------------------
# Data


class TranslatingTextureClips(Dataset):
    """Clips of a smooth random texture translating at a constant velocity drawn from ``velocities`` (px/frame).

    The default is a camera pan (drifting right, sometimes down, at 1-2 px/frame): a short CPU run learns that
    motion prior and beats copy-last-frame; ``ALL_DIRECTIONS`` asks for real motion estimation, which needs
    thousands of steps.

    The texture is a sum of bicubically upsampled noise with features of ``feature_sizes`` pixels, so its
    statistics do not depend on the crop. Item ``i`` is a pure function of (seed, i): uint8
    ``[clip_length, 3, crop, crop]``, the training-data contract.
    """

    def __init__(self, num_clips: int, clip_length: int = 3, crop: int = 32,
                 velocities: tuple[tuple[int, int], ...] = PANNING_VELOCITIES, seed: int = 0,
                 feature_sizes: tuple[int, ...] = (16, 8)) -> None:
        if (0, 0) in velocities:
            raise ValueError("a still clip makes copy-last-frame exact and its PSNR infinite: leave (0, 0) out")
        self.num_clips, self.clip_length, self.crop, self.seed = num_clips, clip_length, crop, seed
        self.velocities, self.feature_sizes = velocities, feature_sizes
        self.max_speed = max(max(abs(vx), abs(vy)) for vx, vy in velocities)

    def __len__(self) -> int:
        return self.num_clips

    def __getitem__(self, index: int) -> Tensor:
        if not 0 <= index < self.num_clips:
            raise IndexError(index)
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        margin = self.max_speed * self.clip_length
        size = self.crop + 2 * margin
        canvas = torch.zeros(3, size, size)
        for feature in self.feature_sizes:
            cells = math.ceil(size / feature) + 1
            noise = torch.rand(1, 3, cells, cells, generator=generator)
            layer = F.interpolate(noise, scale_factor=feature, mode="bicubic", align_corners=False)[0]
            canvas += layer[:, :size, :size] / len(self.feature_sizes)
        canvas = canvas.clamp(0, 1)
        velocity = self.velocities[int(torch.randint(len(self.velocities), (), generator=generator))]
        frames = []
        for t in range(self.clip_length):
            y = margin + velocity[1] * (t - self.clip_length // 2)
            x = margin + velocity[0] * (t - self.clip_length // 2)
            frames.append(canvas[:, y : y + self.crop, x : x + self.crop])
        return (torch.stack(frames) * 255).round().to(torch.uint8)


def synthetic_clips(data_root: str, *, clip_length: int, crop: int, augmentation: str, max_clips: int | None,
                    seed: int) -> TranslatingTextureClips:
    """Dataset factory usable as ``train.dataset = "vpbench.benchmarks.sanity_train:synthetic_clips"`` in a spec."""
    return TranslatingTextureClips(max_clips or 256, clip_length=clip_length, crop=crop, seed=seed)


def decode_video(path: Path, downscale: int = 1) -> Tensor:
    """All frames of a video as uint8 ``[N, 3, H, W]`` (RGB), area-downscaled by an integer factor."""
    import av

    with av.open(str(path)) as container:
        frames = [torch.from_numpy(frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]
    if not frames:
        raise ValueError(f"{path}: no decodable video frames")
    video = torch.stack(frames).permute(0, 3, 1, 2).contiguous()
    if downscale > 1:
        video = F.avg_pool2d(video.float(), downscale).round().to(torch.uint8)
    return video


class VideoWindows(Dataset):
    """Every run of ``clip_length`` consecutive frames of some videos, randomly cropped to ``crop`` (training).

    The crop of item ``i`` in epoch ``e`` is a pure function of (seed, e, i), so resumed runs see the same data.
    """

    def __init__(self, videos: list[Tensor], clip_length: int, crop: int, seed: int = 0) -> None:
        self.videos, self.clip_length, self.crop, self.seed, self.epoch = videos, clip_length, crop, seed, 0
        self.index = [(v, s) for v, video in enumerate(videos) for s in range(video.shape[0] - clip_length + 1)]
        for video in videos:
            if min(video.shape[-2:]) < crop:
                raise ValueError(f"crop {crop} is larger than a video frame {tuple(video.shape[-2:])}")

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> Tensor:
        v, start = self.index[i]
        video = self.videos[v]
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) * 10_000_019 + i)
        top = int(torch.randint(0, video.shape[-2] - self.crop + 1, (1,), generator=generator))
        left = int(torch.randint(0, video.shape[-1] - self.crop + 1, (1,), generator=generator))
        return video[start : start + self.clip_length, :, top : top + self.crop, left : left + self.crop].clone()


def split_segments(video: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """(training segments, held-out segments) of one video: consecutive 20-frame pieces, every fifth held out."""
    train_parts, held_out = [], []
    for i, start in enumerate(range(0, video.shape[0], SEGMENT_FRAMES)):
        segment = video[start : start + SEGMENT_FRAMES]
        if segment.shape[0] < 3:
            continue
        (held_out if i % HELD_OUT_EVERY == HELD_OUT_EVERY // 2 else train_parts).append(segment)
    return train_parts, held_out


def smoke_split(extra_downscale: int = 1) -> tuple[list[Tensor], dict[str, list[Tensor]]]:
    """(training segments of all smoke videos, held-out segments per video)."""
    from vpbench.assets import smoke_video

    train_parts: list[Tensor] = []
    held_out: dict[str, list[Tensor]] = {}
    for name, downscale in SMOKE_TRAIN_VIDEOS.items():
        video = decode_video(Path(smoke_video(name)), downscale * extra_downscale)
        train_segments, held_out[name] = split_segments(video)
        train_parts.extend(train_segments)
    return train_parts, held_out


# --------------------------------------------------------------------------------------------------------------
# Evaluation


@dataclass
class Scores:
    psnr: float
    ms_ssim: float


def ms_ssim(prediction: Tensor, target: Tensor) -> Tensor:
    """The evaluation's MS-SSIM; frames smaller than it accepts (161 px) use a 3-px window instead of 11."""
    big_enough = min(prediction.shape[-2:]) >= METRICS["ms_ssim"].min_size
    window = metrics.MS_SSIM_WIN_SIZE if big_enough else SMALL_CROP_MS_SSIM_WINDOW
    return metrics.ms_ssim(prediction, target, win_size=window)


@torch.no_grad()
def score_next_frame(method: torch.nn.Module | None, triplets: list[Tensor], seed: int = 0) -> Scores:
    """Mean PSNR / MS-SSIM of predicting frame 2 from frames 0, 1 (``method=None``: copy-last-frame)."""
    torch.manual_seed(seed)  # stochastic routing draws
    psnrs, ssims = [], []
    for triplet in triplets:  # [3, 3, H, W] uint8
        frames = triplet.float().div(255).unsqueeze(0)
        context, target = frames[:, :2], frames[:, 2]
        prediction = context[:, -1] if method is None else method.predict(context).frame.clamp(0, 1)
        psnrs.append(metrics.psnr(prediction, target).clamp_max(PSNR_CAP_DB))
        ssims.append(ms_ssim(prediction, target))
    return Scores(float(torch.cat(psnrs).mean()), float(torch.cat(ssims).mean()))


def held_out_triplets(videos: list[Tensor], stride: int = 4) -> list[Tensor]:
    triplets = []
    for video in videos:
        height, width = (video.shape[-2] // 16) * 16, (video.shape[-1] // 16) * 16
        for start in range(0, video.shape[0] - 2, stride):
            triplets.append(video[start : start + 3, :, :height, :width])
    return triplets


# --------------------------------------------------------------------------------------------------------------
# Driver


def run_sanity(data: str = "smoke", steps: int = 300, crop: int = 64, batch_size: int = 8, seed: int = 0,
               method_options: dict | None = None, out_dir: Path | None = None, progress: bool = True,
               lr: float = 2e-3, downscale: int = 1) -> dict[str, dict[str, float]]:
    """Train a small DMVFN, score it and copy-last-frame on held-out clips.

    Returns ``{"dmvfn": {psnr, ms_ssim}, "copy_last": {...}, "per_video": {video: {...}} (smoke only), "run": {...}}``.
    """
    from vpbench.training.checkpoints import load_method
    from vpbench.pipeline.spec import ExperimentSpec, TrainSpec
    from vpbench.training.trainer import train

    options = dict(SMALL_DMVFN if method_options is None else method_options)
    if data == "smoke":
        train_videos, held_out = smoke_split(downscale)
        dataset: Dataset = VideoWindows(train_videos, clip_length=3, crop=crop, seed=seed)
        held_out_sets = {name: held_out_triplets(segments) for name, segments in held_out.items()}
    elif data == "synthetic":
        dataset = TranslatingTextureClips(max(batch_size * 16, 128), clip_length=3, crop=crop, seed=seed)
        # held-out clips at >= 64 px: MS-SSIM's four downsamplings need more than 32 px even with a 3x3 window
        held_out_set = TranslatingTextureClips(32, clip_length=3, crop=max(crop, 64), seed=seed + 10_000)
        held_out_sets = {"textures": [held_out_set[i] for i in range(len(held_out_set))]}
    else:
        raise ValueError(f"data must be 'smoke' or 'synthetic', got {data!r}")
    triplets = [triplet for group in held_out_sets.values() for triplet in group]

    # A short run needs a larger learning rate than the paper's 1e-4 (300 steps instead of ~300 epochs).
    spec = ExperimentSpec(
        id=f"sanity-dmvfn-{data}",
        method="dmvfn",
        method_options=options,
        train=TrainSpec(dataset=data, data_root="", recipe="paper", max_steps=steps, batch_size=batch_size,
                        crop=crop, lr_max=lr, lr_min=lr / 10, num_workers=0, checkpoint_every=max(steps, 1),
                        log_every=max(steps // 10, 1)),
        seed=seed,
    )
    with tempfile.TemporaryDirectory(prefix="vpbench-sanity-") as tmp:
        target_dir = out_dir or Path(tmp)
        result = train(spec, target_dir, dataset=dataset, device="cpu", progress=progress, tensorboard=False)
        model = load_method(result.final_checkpoint)
    report: dict = {}
    for name, method in (("dmvfn", model), ("copy_last", None)):
        overall = score_next_frame(method, triplets, seed)
        report[name] = {"psnr": overall.psnr, "ms_ssim": overall.ms_ssim}
        for group, group_triplets in held_out_sets.items():
            if len(held_out_sets) > 1:
                part = score_next_frame(method, group_triplets, seed)
                report.setdefault("per_video", {}).setdefault(group, {})[name] = {"psnr": part.psnr, "ms_ssim": part.ms_ssim}
    report["run"] = {"steps": result.steps, "seconds": result.seconds, "held_out_triplets": len(triplets),
                     "train_items": len(dataset)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("smoke", "synthetic"), default="smoke")
    parser.add_argument("--steps", type=POSITIVE_INT, default=None, help="default: 1500 (smoke), 300 (synthetic)")
    parser.add_argument("--crop", type=POSITIVE_INT, default=64)
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=8)
    parser.add_argument("--lr", type=POSITIVE_FLOAT, default=None, help="default: 1e-3 (smoke), 2e-3 (synthetic)")
    parser.add_argument("--downscale", type=POSITIVE_INT, default=None, help="extra integer downscale of the smoke videos (default 4)")
    parser.add_argument("--seed", type=SEED, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep the run's checkpoints and logs here")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    defaults = SMOKE_DEFAULTS if args.data == "smoke" else {"steps": 300, "lr": 2e-3, "downscale": 1}
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    report = run_sanity(args.data, args.steps, args.crop, args.batch_size, args.seed, out_dir=args.out, lr=args.lr,
                        progress=not args.no_progress, downscale=args.downscale)
    run = report["run"]
    print(f"held-out next-frame scores ({args.data}, {run['held_out_triplets']} triplets, "
          f"{run['steps']} steps in {run['seconds']:.0f} s):")
    for name in ("dmvfn", "copy_last"):
        print(f"  {name:10s} PSNR {report[name]['psnr']:.2f} dB   MS-SSIM {report[name]['ms_ssim']:.4f}")
    for video, scores in report.get("per_video", {}).items():
        print(f"  {video}: " + "   ".join(
            f"{name} {s['psnr']:.2f} dB / {s['ms_ssim']:.4f}" for name, s in scores.items()))
    beats = report["dmvfn"]["psnr"] > report["copy_last"]["psnr"] and report["dmvfn"]["ms_ssim"] > report["copy_last"]["ms_ssim"]
    print("DMVFN beats copy-last-frame" if beats else "DMVFN does NOT beat copy-last-frame")
    if args.json:
        atomic_write(args.json, json.dumps(report, indent=2))
    return 0 if beats else 1


if __name__ == "__main__":
    sys.exit(main())
