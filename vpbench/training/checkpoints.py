"""Checkpoints written by ``vpbench train`` and the loader every consumer uses.

Format ``vpbench-checkpoint-v1``: ``torch.save`` of a dict loadable with ``torch.load(weights_only=True)``::

    {"format", "method", "method_options", "model" (state dict), "spec" (ExperimentSpec dict), "step",
     "epoch", "batch_in_epoch", "optimizer_steps", "optimizer", "scheduler", "grad_scaler", "rng" (per rank),
     "recipe", "world_size", "finished"}

``step`` counts batches (the unit of the learning-rate schedule); ``epoch`` + ``batch_in_epoch`` is the data
position a resumed run continues from. Files are written to a temporary name and renamed, so a reader never
sees half a checkpoint.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.base import VideoPredictor
from models.checkpoint import CheckpointError  # one class for both checkpoint formats; raised here too
from models.registry import create_method
from vpbench.outputs import write_error
from vpbench.utils import atomic_path

CHECKPOINT_FORMAT = "vpbench-checkpoint-v1"
LAST_NAME = "last.pt"
FINAL_NAME = "final.pt"


def save_checkpoint(payload: dict[str, Any], path: str | Path) -> None:
    """Write ``payload`` atomically (a temporary sibling, renamed once complete).

    Serialised in memory first, then written by Python: a full disk is then an ``OSError`` (ENOSPC) reported as "no
    space left" with the path (:class:`vpbench.outputs.OutputError`), not torch's ``inline_container.cc`` message;
    the file at ``path`` is untouched until the new one is complete.
    """
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(buffer.getbuffer())
    except OSError as err:
        raise write_error(err, path) from None


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(weights_only=True)`` with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated/corrupt files raise a variety of errors
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(err).__name__}: {err})") from err


def is_vpbench_checkpoint(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == CHECKPOINT_FORMAT


def load_training_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    data = read_checkpoint(path, map_location)
    if not is_vpbench_checkpoint(data):
        raise CheckpointError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint (key 'format' missing or different)")
    return data


def load_method(
    path: str | Path, map_location: str | torch.device = "cpu", overrides: dict[str, Any] | None = None
) -> VideoPredictor:
    """The method stored in ``path``, in eval mode.

    Accepts a ``vpbench train`` checkpoint (built with ``create_method`` from its recorded name and options)
    or an official DMVFN release (``dmvfn_city.pkl`` ...), handed to ``models.load_official_checkpoint``.
    ``overrides`` are method options applied on top of the recorded ones: inference-time settings such as DMVFN's
    ``beta`` or ``inference_routing`` (Tables 8/13 evaluate one trained model at several beta); options that change
    the parameters make loading fail with the mismatching keys named.
    """
    data = read_checkpoint(path, map_location)
    if not is_vpbench_checkpoint(data):
        try:
            from models import load_official_checkpoint
        except ImportError as err:
            raise CheckpointError(
                f"{path}: not a {CHECKPOINT_FORMAT} checkpoint, and official DMVFN weights cannot be read "
                f"because models.load_official_checkpoint is unavailable ({err})"
            ) from err
        method = load_official_checkpoint(path, **(overrides or {}))
        return method.to(map_location).eval()
    for key in ("method", "method_options", "model"):
        if key not in data:
            raise CheckpointError(f"{path}: checkpoint lacks key {key!r}")
    method = create_method(data["method"], **{**data["method_options"], **(overrides or {})})
    try:
        method.load_state_dict(data["model"])
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit method {data['method']!r} ({err})") from err
    return method.to(map_location).eval()


# --------------------------------------------------------------------------------------------------------------
# RNG states, kept to plain tensors / numbers so that ``weights_only=True`` can read them back.


def capture_rng_state() -> dict[str, Any]:
    np_state = np.random.get_state(legacy=False)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "python": _python_state_to_lists(random.getstate()),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"].cpu())
    numpy_state = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": numpy_state["bit_generator"],
            "state": {"key": numpy_state["key"].cpu().numpy().astype(np.uint32), "pos": numpy_state["pos"]},
            "has_gauss": numpy_state["has_gauss"],
            "gauss": numpy_state["gauss"],
        }
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def _python_state_to_lists(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]
