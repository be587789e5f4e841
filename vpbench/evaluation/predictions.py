"""Prediction strips for the qualitative figures (3, 4, 6) and DMVFN's voxel flow (Figure 7).

``write_predictions`` rolls a method out on the first clips of a protocol, exactly as ``vpbench evaluate`` does
(same windows, same autoregressive rollout, routing seeded), and stores uint8 frames in one ``.npz``:

* ``context`` [N, T, H, W, 3], ``target`` [N, K, H, W, 3], ``prediction`` [N, K, H, W, 3], ``clip_ids`` [N];
* for methods whose forward accepts ``return_intermediate=True`` (DMVFN): ``flow`` [N, 4, H, W] (pixels; channels
  0:2 warp I_{t-1}, 2:4 warp I_t) and ``mask`` [N, 1, H, W] (the fusion map m of Eq. 3) of the t+1 prediction.
"""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import numpy as np
import torch

from vpbench.utils import atomic_write


class PredictionError(RuntimeError):
    """Predictions cannot be produced (bad spec, checkpoint, protocol or data); the message names the culprit."""


def _uint8_hwc(frames: torch.Tensor) -> np.ndarray:
    """[..., 3, H, W] float [0, 1] -> [..., H, W, 3] uint8."""
    array = (frames.clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
    return np.moveaxis(array, -3, -1)


def _voxel_flow(method: torch.nn.Module, context: torch.Tensor) -> tuple[np.ndarray, np.ndarray] | None:
    forward = getattr(method, "forward", None)
    if forward is None or "return_intermediate" not in inspect.signature(forward).parameters:
        return None
    output = method(context[:, -2], context[:, -1], return_intermediate=True)
    flow, mask = getattr(output, "flow", None), getattr(output, "mask", None)
    if flow is None or mask is None:
        return None
    return flow.float().cpu().numpy(), mask.float().cpu().numpy()


@torch.inference_mode()
def write_predictions(
    spec_path: str | Path,
    checkpoint: str | None,
    protocol_name: str,
    data_root: str,
    out: str | Path,
    clips: int = 3,
    seed: int = 0,
) -> Path:
    from data_prep.datasets import EvalWindows
    from data_prep.protocols import get_protocol
    from models.contract import frames_to_float
    from vpbench.evaluation.rollout import EvaluationError, load_method_for_spec, rollout
    from vpbench.pipeline.spec import ExperimentSpec, SpecError
    from vpbench.utils import seed_everything

    try:
        spec = ExperimentSpec.load(spec_path)
        method = load_method_for_spec(spec, checkpoint)
        protocol = get_protocol(protocol_name)
        windows = EvalWindows(data_root, protocol, max_clips=clips)
    except (SpecError, EvaluationError, KeyError, ValueError, OSError) as err:
        raise PredictionError(str(err)) from err
    if protocol.routing_only:
        raise PredictionError(f"protocol {protocol_name!r} has no target frames to show")
    contexts, targets, predictions, clip_ids, flows, masks = [], [], [], [], [], []
    for item in windows:
        frames = frames_to_float(item["frames"], where=f"clip {item['clip_id']!r}", error=EvaluationError)
        inputs = frames[list(protocol.input_indices)].unsqueeze(0)
        seed_everything(seed)
        rolled = rollout(method, inputs, protocol.horizon)
        contexts.append(_uint8_hwc(inputs[0]))
        targets.append(_uint8_hwc(frames[list(protocol.target_indices)]))
        predictions.append(_uint8_hwc(torch.cat([p.frame for p in rolled])))
        clip_ids.append(str(item["clip_id"]))
        seed_everything(seed)  # the flow of the same t+1 draw
        voxel = _voxel_flow(method, inputs[:, -method.context_length :])
        if voxel is not None:
            flows.append(voxel[0][0])
            masks.append(voxel[1][0])
    if not clip_ids:
        raise PredictionError(f"{data_root}: protocol {protocol_name!r} has no evaluation windows")
    arrays = {
        "context": np.stack(contexts),
        "target": np.stack(targets),
        "prediction": np.stack(predictions),
        "clip_ids": np.array(clip_ids),
    }
    if flows and len(flows) == len(clip_ids):
        arrays["flow"] = np.stack(flows).astype(np.float32)
        arrays["mask"] = np.stack(masks).astype(np.float32)
    out = Path(out)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write(out, buffer.getvalue())
    return out


__all__ = ["PredictionError", "write_predictions"]
