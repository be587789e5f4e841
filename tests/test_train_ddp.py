"""DDP on CPU: two gloo processes split the global batch and end with identical weights (those of one process)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from tests.test_train_support import RandomClips, state_dicts_equal, tiny_spec
from vpbench.training.checkpoints import load_training_checkpoint
from vpbench.pipeline.spec import ExperimentSpec
from vpbench.training.trainer import train

WORLD_SIZE = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rank_main(rank: int, port: int, spec_dict: dict, out: str, results: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE),
                      LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    spec = ExperimentSpec.from_dict(spec_dict)
    result = train(spec, out, device="cpu", dataset=RandomClips(16, flip=False), progress=False, tensorboard=False)
    torch.save({"model": result.method.state_dict(), "optimizer_steps": result.optimizer_steps},
               Path(results) / f"rank{rank}.pt")


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_two_gloo_ranks_end_identical_and_match_one_process(tmp_path):
    # noise off: without per-rank randomness the DDP run must equal the single-process run with the same global batch
    spec = tiny_spec("ddp", max_steps=5, checkpoint_every=2, batch_size=4, method_options={"noise": False})
    mp.spawn(_rank_main, args=(_free_port(), spec.to_dict(), str(tmp_path / "ddp"), str(tmp_path)),
             nprocs=WORLD_SIZE, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD_SIZE)]
    assert state_dicts_equal(ranks[0]["model"], ranks[1]["model"]) == []
    assert ranks[0]["optimizer_steps"] == 5

    final = load_training_checkpoint(tmp_path / "ddp" / "final.pt")
    assert final["world_size"] == WORLD_SIZE and len(final["rng"]) == WORLD_SIZE
    assert state_dicts_equal(final["model"], ranks[0]["model"]) == []

    single = train(spec, tmp_path / "single", device="cpu", dataset=RandomClips(16, flip=False), progress=False,
                   tensorboard=False)
    for name, tensor in single.method.state_dict().items():
        torch.testing.assert_close(final["model"][name], tensor, rtol=1e-5, atol=1e-6, msg=name)
