"""Process-group set-up for multi-GPU training launched by ``torchrun`` (env:// rendezvous).

A single process (plain ``vpbench train``) gets a context with ``world_size == 1`` and no process group, so the
training loop has one code path. Backends: NCCL on CUDA, gloo on CPU (used by the tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistributedContext:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def resolve_device(preference: str | None, local_rank: int = 0) -> torch.device:
    """``None``/"auto": CUDA when available; "cuda" without a GPU is an error, not a silent CPU run."""
    if preference in (None, "auto"):
        preference = "cuda" if torch.cuda.is_available() else "cpu"
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was requested but no CUDA device is available")
        return torch.device("cuda", local_rank)
    if preference == "cpu":
        return torch.device("cpu")
    raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {preference!r}")


def init_distributed(device_preference: str | None = None) -> DistributedContext:
    """Join the torchrun process group when launched by torchrun; otherwise a single-process context."""
    if not launched_by_torchrun():
        return DistributedContext(0, 1, 0, resolve_device(device_preference))
    rank = int(os.environ["RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device = resolve_device(device_preference, local_rank)
    if world_size > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world_size)
    return DistributedContext(rank, world_size, local_rank, device)


def shutdown(context: DistributedContext) -> None:
    if context.is_distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(context: DistributedContext) -> None:
    if context.is_distributed:
        dist.barrier()


def any_rank(context: DistributedContext, flag: bool) -> bool:
    """True when ``flag`` is true on any rank (so that every rank takes the same branch and none deadlocks)."""
    if not context.is_distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=context.device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def gather_objects(context: DistributedContext, obj: Any) -> list[Any]:
    """``obj`` of every rank, in rank order (every rank receives the list)."""
    if not context.is_distributed:
        return [obj]
    gathered: list[Any] = [None] * context.world_size
    dist.all_gather_object(gathered, obj)
    return gathered
