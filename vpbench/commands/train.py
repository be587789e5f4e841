"""``vpbench train --spec <spec.json> --out <dir> [--resume] [--device cpu|cuda]``.

Multi-GPU: ``torchrun --nproc_per_node=N -m vpbench train ...`` (each process joins via env://; the spec's
global batch is split over the processes). The trainer (torch) is imported when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys

from vpbench.cli import EXIT_USER_ERROR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train one experiment (resumable; DDP under torchrun)",
        description="Train the experiment of a spec file into an output folder ({last,final}.pt, "
        "train_log.csv, tensorboard/).",
    )
    parser.add_argument("--spec", required=True, help="experiment spec JSON (vpbench.pipeline.spec.ExperimentSpec)")
    parser.add_argument("--out", required=True, help="output folder, e.g. results/checkpoints/<experiment>")
    parser.add_argument("--resume", action="store_true",
                        help="continue from <out>/last.pt when it exists; a run of a changed spec is moved to "
                        "<out>/superseded/<old spec hash>/ and training starts from scratch")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto",
                        help="auto (default): CUDA when available")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Errors rise to ``vpbench.cli.main``: one line, exit 2 for a bad spec/checkpoint/data, 1 for a diverged run."""
    from vpbench.pipeline.spec import ExperimentSpec
    from vpbench.training.trainer import AlreadyTrained, train

    spec = ExperimentSpec.load(args.spec)
    try:
        result = train(spec, args.out, resume=args.resume, device=args.device, progress=not args.no_progress)
    except AlreadyTrained as err:
        if args.resume:  # a finished run: nothing to do
            print(f"vpbench train: {err}", file=sys.stderr)
            return 0
        print(f"vpbench train: error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    if os.environ.get("RANK", "0") != "0":  # under torchrun only the main process reports
        return 0
    resumed = "" if result.resumed_from_step is None else f" (resumed from step {result.resumed_from_step})"
    print(f"trained {spec.id}: {result.steps} batches, {result.optimizer_steps} optimiser steps, "
          f"{result.seconds:.1f} s -> {result.final_checkpoint}{resumed}")
    return 0
