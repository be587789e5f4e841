"""``vpbench evaluate``: roll an experiment's method out on one protocol and write its score file.

The rollout and the metrics (torch) are imported when the command runs or a ``--metrics`` value is checked, not
when the parser is built.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpbench.argtypes import POSITIVE_INT, int_list
from vpbench.evaluation.metric_records import METRIC_NAMES  # torch-free


def _metric_list(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in METRIC_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown metric(s) {unknown or text!r}; choose from {','.join(METRIC_NAMES)}")
    return names


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="autoregressive rollout on one protocol; writes per-clip, per-step scores (parquet)",
        description=(
            "Predict the protocol's horizon autoregressively (predictions fed back as clamped floats), score every "
            "step with MS-SSIM, LPIPS (alex, v0.1), PSNR and SSIM, and write one row per clip x step x metric x "
            "routing seed. Nothing is aggregated here: t+3 / t+5 cumulative means come from `vpbench render`."
        ),
    )
    p.add_argument("--spec", required=True, type=Path, help="experiment spec JSON (results/specs/<exp>.json)")
    p.add_argument("--checkpoint", help="vpbench checkpoint (final.pt) or official weights; not needed for copy_last")
    p.add_argument("--protocol", required=True, help="evaluation protocol name (e.g. cityscapes, kitti, vimeo)")
    p.add_argument("--data-root", required=True, help="prepared dataset tree of the protocol's dataset")
    p.add_argument("--out", required=True, type=Path, help="score file to write (.parquet)")
    p.add_argument("--device", default="auto", help="auto (default): CUDA when available; or cpu, cuda, cuda:N")
    p.add_argument("--max-clips", type=POSITIVE_INT, help="evaluate only the first N windows (overrides the spec)")
    p.add_argument("--seeds", type=int_list(0, 2**32 - 1, "seed"), help="routing seeds, e.g. 0,1,2 (overrides the spec's routing_seeds)")
    p.add_argument("--metrics", type=_metric_list,
                   help=f"comma-separated metric names out of {','.join(METRIC_NAMES)} (default: all)")
    p.add_argument("--batch-size", type=POSITIVE_INT, default=1, help="windows per forward pass (default 1)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from vpbench.evaluation.rollout import evaluate_experiment
    from vpbench.evaluation.scores import write_scores
    from vpbench.outputs import output_lock, write_error
    from vpbench.pipeline.spec import ExperimentSpec

    if args.device == "auto":  # as `vpbench train --device auto`
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"vpbench evaluate: --device {args.device} asked for, but CUDA is not available", file=sys.stderr)
        return 2
    # Errors rise to vpbench.cli.main (one line; exit 2 for bad inputs, 1 for non-finite predictions).
    spec = ExperimentSpec.load(args.spec)
    # one writer per score file; taking the lock also proves the folder writable before the rollout runs
    with output_lock(args.out, "the score file"):
        scores = evaluate_experiment(
            spec,
            args.protocol,
            args.data_root,
            checkpoint=args.checkpoint,
            device=args.device,
            max_clips=args.max_clips,
            seeds=args.seeds,
            metrics=args.metrics,
            batch_size=args.batch_size,
            progress=not args.no_progress,
        )
        if scores.empty:
            print(f"vpbench evaluate: error: {args.spec} on {args.protocol}: no evaluation windows under "
                  f"{args.data_root}", file=sys.stderr)
            return 2
        try:
            write_scores(scores, args.out)
        except OSError as err:
            raise write_error(err, args.out) from None
    n_clips = scores["clip_id"].nunique()
    print(f"{spec.id} on {args.protocol}: {n_clips} clips, {len(scores)} score rows -> {args.out}")
    return 0
