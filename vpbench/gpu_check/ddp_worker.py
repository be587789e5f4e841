"""One torchrun process of the DDP part: join the process group, train (or resume) through the engine, report.

The engine joins a process group only when torchrun starts more than one process (one GPU gains nothing from DDP).
The check wants NCCL and the DDP wrapper exercised even on a single GPU, so this worker always initialises the
group itself (NCCL on CUDA, gloo on CPU) and hands the engine a context that says "distributed"; everything after
that (the DDP wrapper, collective checks, gathered RNG states, checkpoints, resume) is the engine's own code.

    python -m torch.distributed.run --standalone --nproc_per_node=N -m vpbench.gpu_check.ddp_worker \
        --spec SPEC --out DIR --device cuda --result RESULT.json [--resume]
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from vpbench.training.distributed import DistributedContext, init_distributed
from vpbench.pipeline.spec import ExperimentSpec
from vpbench.utils import atomic_write_json


@dataclass(frozen=True)
class ProcessGroupContext(DistributedContext):
    """A context that is distributed whenever a process group exists, world size 1 included."""

    @property
    def is_distributed(self) -> bool:
        return True


def _nccl_version() -> str:
    version = torch.cuda.nccl.version()
    return ".".join(map(str, version)) if isinstance(version, tuple) else str(version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vpbench.gpu_check.ddp_worker")
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", choices=("cuda", "cpu"), required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    from vpbench.training.trainer import Trainer

    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    engine_would_distribute = world_size > 1  # what vpbench.training.distributed.init_distributed does on its own
    if args.device == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"
    dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world_size)
    try:
        # once a group exists, the engine's own set-up returns the same rank and device
        engine_context = init_distributed(args.device)
        context = ProcessGroupContext(rank, world_size, local_rank, device)
        probe = torch.tensor([float(rank)], device=device)
        dist.all_reduce(probe)
        all_reduce_ok = float(probe.item()) == world_size * (world_size - 1) / 2

        spec = ExperimentSpec.load(args.spec)
        trainer = Trainer(spec, args.out, context, None, "imagenet")
        if args.resume:
            trainer.resume()
        wrapped = isinstance(trainer.loss_module, DistributedDataParallel)
        outcome = trainer.run(progress=False, tensorboard=False)
        if rank == 0:
            payload = {
                "backend": dist.get_backend(),
                "world_size": world_size,
                "device": str(device),
                "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                "nccl_version": _nccl_version() if backend == "nccl" else None,
                "engine_context_device": str(engine_context.device),
                "engine_joins_group_by_itself": engine_would_distribute,
                "ddp_wrapped": wrapped,
                "all_reduce_ok": all_reduce_ok,
                "resumed_from_step": outcome.resumed_from_step,
                "steps": outcome.steps,
                "seconds": outcome.seconds,
            }
            atomic_write_json(args.result, payload)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
