"""Run under torchrun inside one SLURM job: train an experiment spec on CPU (gloo) with every rank saving its
final weights, then (``--compare``, after torchrun) check that all ranks ended with identical weights.

    torchrun --standalone --nproc_per_node=2 tests/cluster/ddp_ranks.py --spec S.json --out DIR --steps 10
    python tests/cluster/ddp_ranks.py --compare --out DIR --ranks 2
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from vpbench.training.checkpoints import load_training_checkpoint


def train_rank(spec_path: str, out: Path, steps: int) -> None:
    from vpbench.pipeline.spec import ExperimentSpec
    from vpbench.training.trainer import train

    spec = ExperimentSpec.load(spec_path).to_dict()
    spec["train"].update(max_steps=steps, checkpoint_every=max(1, steps // 2))
    result = train(ExperimentSpec.from_dict(spec), out / "run", device="cpu", progress=False, tensorboard=False)
    rank = int(os.environ["RANK"])
    torch.save(result.method.state_dict(), out / f"rank{rank}.pt")


def compare(out: Path, ranks: int) -> int:
    states = [torch.load(out / f"rank{rank}.pt", weights_only=True) for rank in range(ranks)]
    differing = [name for name, tensor in states[0].items()
                 if any(not torch.equal(tensor, other[name]) for other in states[1:])]
    final = load_training_checkpoint(out / "run" / "final.pt")
    print(f"{ranks} ranks, world_size in final.pt: {final['world_size']}, {len(states[0])} tensors, "
          f"differing: {len(differing)} {differing[:5]}")
    return 0 if not differing and final["world_size"] == ranks else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()
    if args.compare:
        return compare(args.out, args.ranks)
    train_rank(args.spec, args.out, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
