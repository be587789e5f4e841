"""Load and write DMVFN weights in the authors' released format.

The released ``dmvfn_city.pkl``, ``dmvfn_kitti.pkl`` and ``dmvfn_vimeo.pkl`` are plain ``torch.save(state_dict)``
files of a DDP-wrapped model: every key carries a ``module.`` prefix (``module.block0.conv0.0.0.weight``). They are
read with ``torch.load(weights_only=True)``, so no pickled code runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from models.dmvfn import DMVFN
from vpbench.utils import atomic_path

DDP_PREFIX = "module."


class CheckpointError(RuntimeError):
    """A checkpoint or weights file is missing, unreadable, not in a known format, or does not fit its model.

    The one class for both formats: the released DMVFN files read here and the ``vpbench train`` checkpoints
    (``vpbench.training.checkpoints`` raises it too).
    """


def read_state_dict(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Tensor]:
    """The tensors of a released file (or of a vpbench checkpoint's ``model`` entry), without the DDP prefix."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: weights file not found")
    try:
        obj: Any = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated or non-torch files raise a zoo of error types
        raise CheckpointError(f"{path}: cannot be read as a torch weights file ({type(err).__name__}: {err})") from err
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]
    elif isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected a state dict (name -> tensor), got {type(obj).__name__}")
    return strip_ddp_prefix(dict(obj))


def strip_ddp_prefix(state: dict[str, Tensor]) -> dict[str, Tensor]:
    if state and all(k.startswith(DDP_PREFIX) for k in state):
        return {k[len(DDP_PREFIX) :]: v for k, v in state.items()}
    return state


def check_compatible(model: torch.nn.Module, state: Mapping[str, Tensor], source: str) -> None:
    """Raise CheckpointError naming missing keys, unexpected keys and shape mismatches."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
        for k in set(expected) & set(state)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    if missing or unexpected or mismatched:
        lines = [f"{source} does not match {type(model).__name__}:"]
        for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", mismatched)):
            if keys:
                shown = ", ".join(keys[:8]) + (f", ... ({len(keys)} in all)" if len(keys) > 8 else "")
                lines.append(f"  {label}: {shown}")
        raise CheckpointError("\n".join(lines))


def load_official_checkpoint(path: str | Path, map_location: str | torch.device = "cpu", **options: Any) -> DMVFN:
    """A DMVFN (paper configuration unless ``options`` say otherwise) with the weights of ``path``, in eval mode."""
    state = read_state_dict(path, map_location)
    model = DMVFN(**options)
    check_compatible(model, state, str(path))
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval()


def save_official_format(model: DMVFN, path: str | Path, ddp_prefix: bool = True) -> Path:
    """Write ``model``'s weights exactly as the authors' files are laid out (``module.`` keys by default)."""
    path = Path(path)
    state = {(DDP_PREFIX + k if ddp_prefix else k): v.detach().cpu() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path
