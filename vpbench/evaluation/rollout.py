"""Evaluation rollout: autoregressive multi-step prediction, scored per clip, per step and per metric.

Protocol (paper §4.1; the authors' ``scripts/test.py``): the method sees the protocol's input frames (the last
``method.context_length`` of them), predicts t+1, the prediction is appended to the context *as a clamped float*
(never quantised to uint8) and the method predicts t+2 from it, and so on for the protocol's horizon. Each step is
scored against its ground-truth frame and its routing decision (``Prediction.active_blocks``) is recorded; routing is
re-sampled at every step, as in the release. Rows are raw per-step values; the paper's t+3 / t+5 columns are
*cumulative* means over t+1..t+k and are formed later by :func:`vpbench.reporting.aggregate.aggregate_scores`.

Stochastic routing is evaluated once per routing seed: the global RNGs (Python's, NumPy's and torch's, by
:func:`vpbench.utils.seed_everything`) are re-seeded before each seed's pass over the evaluation set, so one seed's
pass is reproducible on its own (same data order, same device). Routing-only protocols (no target frames: the
usage-rate studies of Table 4 and Figure 5) predict once and write ``routing`` rows with value NaN.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from torch import Tensor
from tqdm.auto import tqdm

from models.base import Prediction, VideoPredictor
from models.contract import OUTPUT_TOLERANCE, frame_problem, frames_to_float
from models.routing import NonFiniteRouting
from vpbench.evaluation.metric_records import METRIC_NAMES
from vpbench.evaluation.metrics import MetricSuite
from vpbench.evaluation.scores import EXPECTED_CLIPS_ATTR, ROUTING_METRIC, check_expected_clips, scores_frame
from vpbench.utils import seed_everything


class EvaluationError(RuntimeError):
    """The evaluation cannot run as asked (bad window, protocol/method mismatch, missing weights)."""


class NonFinitePrediction(EvaluationError):
    """A prediction, routing probability or loaded weight is NaN/inf: nothing is scored, no score file is written.

    Scoring it would be worse than failing: NaN routing probabilities make every block "not run" and the zero flow
    still gives a finite frame, so a broken network would get a plausible PSNR.
    """

    def __init__(self, message: str, step: int | None = None, samples: tuple[int, ...] = ()) -> None:
        super().__init__(message)
        self.step, self.samples = step, samples


class MethodContractError(EvaluationError):
    """A method returned something other than float frames in [0, 1] of its input's shape (:mod:`models.contract`)."""

    def __init__(self, message: str, step: int | None = None) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True)
class RowLabels:
    """What every score row of one evaluation says about where it comes from."""

    experiment: str
    method: str
    protocol: str
    source: str


@dataclass(frozen=True)
class FrameSelection:
    """Which frames of a window are the inputs and which the targets t+1, t+2, ... (0-based indices)."""

    input_indices: tuple[int, ...]
    target_indices: tuple[int, ...]

    @property
    def horizon(self) -> int:
        return len(self.target_indices)

    @property
    def routing_only(self) -> bool:
        return not self.target_indices


def active_blocks_string(active: Tensor | None) -> str:
    """One routing decision ``[n]`` as ``"110101101"``; ``""`` for methods without routing."""
    if active is None:
        return ""
    return "".join("1" if bool(flag) else "0" for flag in active.flatten().tolist())


@torch.inference_mode()
def rollout(method: VideoPredictor, inputs: Tensor, steps: int) -> list[Prediction]:
    """Predict ``steps`` frames autoregressively from ``inputs`` ``[B, T, 3, H, W]`` (float, [0, 1]).

    The context is the last ``method.context_length`` input frames; each prediction is clamped to [0, 1] and
    appended as a float (not quantised), and the oldest frame dropped. Returns one :class:`Prediction` per step.

    Every prediction is checked against the frame contract first (:mod:`models.contract`): a float frame of the
    context's shape, within [0, 1] +- ``OUTPUT_TOLERANCE`` (only that much is clamped away); a violation raises
    :class:`MethodContractError` naming the step.
    """
    if inputs.dim() != 5 or inputs.shape[2] != 3:
        raise EvaluationError(f"rollout inputs must be [B, T, 3, H, W], got {tuple(inputs.shape)}")
    needed = method.context_length
    if inputs.shape[1] < needed:
        raise EvaluationError(
            f"{type(method).__name__} needs {needed} context frames but the protocol gives {inputs.shape[1]}"
        )
    if steps < 1:
        raise EvaluationError(f"rollout needs at least one step, got {steps}")
    context = inputs[:, inputs.shape[1] - needed :]
    predictions: list[Prediction] = []
    for step in range(1, steps + 1):
        try:
            predicted = method.predict(context)
        except NonFiniteRouting as err:
            raise NonFinitePrediction(f"step t+{step}: the {err}", step) from None
        _check_output(predicted, context[:, -1].shape, step)
        finite = torch.isfinite(predicted.frame.float()).flatten(1).all(dim=1)
        if not bool(finite.all()):
            bad = tuple(int(i) for i in (~finite).nonzero().flatten().tolist())
            raise NonFinitePrediction(f"step t+{step}: the predicted frame holds NaN/inf", step, bad)
        frame = predicted.frame.float().clamp(0.0, 1.0)
        predictions.append(Prediction(frame=frame, active_blocks=predicted.active_blocks))
        context = torch.cat([context[:, 1:], frame.unsqueeze(1)], dim=1)
    return predictions


def _check_output(predicted: object, shape: torch.Size, step: int) -> None:
    """The frame contract on one prediction (the caller names the method); NaN/inf are left to the finite check."""
    frame = getattr(predicted, "frame", None)
    if not isinstance(predicted, Prediction) or not isinstance(frame, Tensor):
        raise MethodContractError(f"step t+{step}: predict() returned {type(predicted).__name__}, not a Prediction "
                                  "holding a frame tensor", step)
    if frame.shape != shape:
        raise MethodContractError(f"step t+{step}: predicted frames of shape {tuple(frame.shape)}, expected "
                                  f"{tuple(shape)} (the context's last frame)", step)
    problem = frame_problem(frame, OUTPUT_TOLERANCE)
    if problem:
        raise MethodContractError(
            f"step t+{step}: the predicted frame {problem}; a method returns float frames in [0, 1] (up to "
            f"{OUTPUT_TOLERANCE} outside is clamped)", step)


def _batches(windows: Iterable[Mapping[str, Any]], batch_size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(windows)
    while batch := list(itertools.islice(iterator, batch_size)):
        yield batch


def _stack_batch(
    batch: list[Mapping[str, Any]], selection: FrameSelection, device: torch.device
) -> tuple[list[str], Tensor]:
    clip_ids: list[str] = []
    clips: list[Tensor] = []
    needed = max((*selection.input_indices, *selection.target_indices)) + 1
    for window in batch:
        try:
            clip_id, frames = str(window["clip_id"]), window["frames"]
        except (KeyError, TypeError):
            raise EvaluationError(f"an evaluation window must be a mapping with 'clip_id' and 'frames', got {window!r:.80}")
        frames = frames_to_float(frames, device, where=f"clip {clip_id!r}", error=EvaluationError)
        if frames.shape[0] < needed:
            raise EvaluationError(f"clip {clip_id!r} has {frames.shape[0]} frames; the protocol indexes frame {needed - 1}")
        clip_ids.append(clip_id)
        clips.append(frames)
    shapes = {tuple(clip.shape[1:]) for clip in clips}
    if len(shapes) > 1:
        raise EvaluationError(f"clips {clip_ids} differ in frame size {sorted(shapes)}; use batch_size=1")
    return clip_ids, torch.stack(clips)


def evaluate_windows(
    method: VideoPredictor,
    windows: Iterable[Mapping[str, Any]],
    selection: FrameSelection,
    labels: RowLabels,
    suite: MetricSuite | None,
    seeds: Sequence[int] = (0,),
    device: str | torch.device = "cpu",
    batch_size: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Roll ``method`` out on every window, once per routing seed, and return the score rows.

    ``windows`` yields ``{"clip_id": str, "frames": uint8 [T, 3, H, W] RGB}`` and must be re-iterable (one pass per
    seed). ``suite`` may be None only for routing-only selections.
    """
    if not seeds:
        raise EvaluationError("at least one routing seed is needed")
    if batch_size < 1:
        raise EvaluationError(f"batch_size must be >= 1, got {batch_size}")
    if not selection.input_indices:
        raise EvaluationError(f"protocol {labels.protocol!r} has no input frames")
    if suite is None and not selection.routing_only:
        raise EvaluationError(f"protocol {labels.protocol!r} has targets, so a MetricSuite is needed")
    if len(seeds) > 1 and iter(windows) is windows:
        raise EvaluationError("windows is a one-shot iterator; pass a re-iterable (a dataset or list) for several seeds")

    device = torch.device(device)
    method = method.to(device).eval()
    steps = max(selection.horizon, 1)
    total = len(windows) if hasattr(windows, "__len__") else None  # type: ignore[arg-type]
    rows: list[dict[str, Any]] = []
    base = {"experiment": labels.experiment, "method": labels.method, "protocol": labels.protocol, "source": labels.source}
    input_index = list(selection.input_indices)
    target_index = list(selection.target_indices)

    asked: list[str] | None = list(getattr(windows, "clip_ids", None) or []) or None
    with torch.inference_mode():
        for seed in seeds:
            seed_everything(seed)
            bar = tqdm(total=total, desc=f"{labels.experiment} | {labels.protocol} | seed {seed}", unit="clip", disable=not progress)
            for batch in _batches(windows, batch_size):
                clip_ids, clips = _stack_batch(batch, selection, device)
                if suite is not None and not selection.routing_only:
                    suite.check_size(clips.shape[-2], clips.shape[-1])
                try:
                    predictions = rollout(method, clips[:, input_index], steps)
                except NonFinitePrediction as err:
                    named = [clip_ids[i] for i in err.samples] or clip_ids
                    clips_text = ", ".join(repr(c) for c in named)
                    raise NonFinitePrediction(
                        f"{labels.experiment} on {labels.protocol} (routing seed {seed}), clip {clips_text}, {err}; "
                        "refusing to score it (no score file written)", err.step, err.samples
                    ) from None
                except MethodContractError as err:
                    raise MethodContractError(
                        f"method {labels.method!r} ({labels.experiment} on {labels.protocol}, clip "
                        f"{', '.join(repr(c) for c in clip_ids)}), {err}; nothing scored", err.step
                    ) from None
                for step, predicted in enumerate(predictions, start=1):
                    if selection.routing_only:
                        values = None
                    else:
                        values = suite.score(predicted.frame, clips[:, target_index[step - 1]])  # type: ignore[union-attr]
                    rows.extend(_step_rows(base, int(seed), clip_ids, step, predicted.active_blocks, values))
                bar.update(len(clip_ids))
                if seed == seeds[0] and not hasattr(windows, "clip_ids"):
                    asked = (asked or []) + clip_ids
            bar.close()
    frame = scores_frame(rows)
    if asked:
        check_expected_clips(frame, asked, f"{labels.experiment} on {labels.protocol}")
        frame.attrs[EXPECTED_CLIPS_ATTR] = asked
    return frame


def _step_rows(
    base: dict[str, str],
    seed: int,
    clip_ids: list[str],
    step: int,
    active: Tensor | None,
    values: dict[str, Tensor] | None,
) -> Iterator[dict[str, Any]]:
    """Score rows of one rollout step for a batch; ``values is None`` means a routing-only pass."""
    for b, clip_id in enumerate(clip_ids):
        common = {**base, "seed": seed, "clip_id": clip_id, "step": step}
        blocks = active_blocks_string(active[b] if active is not None else None)
        if values is None:
            yield {**common, "metric": ROUTING_METRIC, "value": float("nan"), "active_blocks": blocks}
            continue
        for metric, per_sample in values.items():
            yield {**common, "metric": metric, "value": float(per_sample[b]), "active_blocks": blocks}


# ------------------------------------------------------------------------------------------------------------
# One experiment on one protocol: what `vpbench evaluate` runs.


class ChannelOrderAdapter(VideoPredictor):
    """Feeds a method BGR frames and hands its predictions back as RGB.

    For protocols whose ``channel_order`` is ``"bgr"``: the released DMVFN weights were trained on cv2's BGR frames
    (with random channel reversal as augmentation). Reversing channels is exact, so RGB-side scoring is unaffected.
    """

    def __init__(self, method: VideoPredictor) -> None:
        super().__init__()
        self.method = method
        self.context_length = method.context_length
        self.trainable = method.trainable

    def predict(self, context: Tensor) -> Prediction:
        predicted = self.method.predict(context.flip(2))
        return Prediction(frame=predicted.frame.flip(1), active_blocks=predicted.active_blocks)


def load_method_for_spec(spec: Any, checkpoint: str | None, device: str | torch.device = "cpu") -> VideoPredictor:
    """The method of ``spec`` with its weights, in eval mode.

    A ``vpbench train`` checkpoint goes through :func:`vpbench.training.checkpoints.load_method`; with
    ``spec.source == "official-weights"`` the authors' file is read by ``models.load_official_checkpoint`` with the
    spec's method options (e.g. ``inference_routing``). Without ``checkpoint`` the spec's ``weights`` is used;
    parameter-free methods need neither.
    """
    from models.registry import create_method

    checkpoint = checkpoint or getattr(spec, "weights", None)
    if checkpoint is None:
        try:
            method = create_method(spec.method, **spec.method_options)
        except KeyError as err:
            raise EvaluationError(err.args[0] if err.args else f"unknown method {spec.method!r}") from None
        if method.trainable:
            raise EvaluationError(
                f"experiment {spec.id!r}: method {spec.method!r} has weights; pass --checkpoint (a vpbench train "
                "checkpoint or the official weights)"
            )
        return method.to(device).eval()
    if spec.source == "official-weights":
        from models import load_official_checkpoint

        return _finite_weights(load_official_checkpoint(checkpoint, map_location=device, **spec.method_options).eval(), checkpoint)

    from vpbench.training.checkpoints import is_vpbench_checkpoint, load_method, read_checkpoint

    stored = read_checkpoint(checkpoint)
    if is_vpbench_checkpoint(stored) and stored.get("method") != spec.method:
        raise EvaluationError(
            f"{checkpoint}: holds method {stored.get('method')!r}, but experiment {spec.id!r} is {spec.method!r}"
        )
    del stored
    # The spec's options win over the checkpoint's: an evaluation-only variant (e.g. beta = 0.3 for Tables 8/13)
    # reuses the weights trained at beta = 0.5.
    return _finite_weights(load_method(checkpoint, map_location=device, overrides=spec.method_options).eval(), checkpoint)


def _finite_weights(method: VideoPredictor, checkpoint: str) -> VideoPredictor:
    """Refuse weights holding NaN/inf (a diverged run saved by other means, a corrupted file) before any clip."""
    for name, tensor in itertools.chain(method.named_parameters(), method.named_buffers()):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise NonFinitePrediction(f"{checkpoint}: weight {name} is not finite (NaN/inf); it cannot be evaluated")
    return method


def _protocol_windows(protocol_name: str, data_root: str, max_clips: int | None) -> tuple[Any, Any]:
    """The protocol object and its evaluation windows, from the dataset preparation package."""
    try:
        from data_prep.datasets import EvalWindows
        from data_prep.protocols import get_protocol
    except ImportError as err:
        raise EvaluationError(f"evaluation protocols are unavailable: data_prep cannot be imported ({err})") from err
    try:
        protocol = get_protocol(protocol_name)
    except KeyError as err:
        raise EvaluationError(err.args[0] if err.args else f"unknown protocol {protocol_name!r}") from None
    return protocol, EvalWindows(data_root, protocol, max_clips=max_clips)


def evaluate_experiment(
    spec: Any,
    protocol_name: str,
    data_root: str,
    checkpoint: str | None = None,
    device: str | torch.device = "cpu",
    max_clips: int | None = None,
    seeds: Sequence[int] | None = None,
    metrics: Sequence[str] | None = None,
    batch_size: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Score rows of experiment ``spec`` (:class:`vpbench.pipeline.spec.ExperimentSpec`) on one protocol.

    ``max_clips`` and ``seeds`` override ``spec.eval``; ``metrics`` defaults to the protocol's own list when it
    has one, else every metric of ``metric_records.METRICS``. The LPIPS channel order is ``spec.eval.channel_order_lpips``.
    """
    max_clips = max_clips if max_clips is not None else spec.eval.max_clips
    if max_clips is not None and (isinstance(max_clips, bool) or not isinstance(max_clips, int) or max_clips < 1):
        raise EvaluationError(f"max_clips must be an integer >= 1 (or None: every window), got {max_clips!r}")
    protocol, windows = _protocol_windows(protocol_name, data_root, max_clips)
    selection = FrameSelection(tuple(protocol.input_indices), tuple(protocol.target_indices))
    method = load_method_for_spec(spec, checkpoint, device).optimize_for_inference(torch.device(device))
    # The windows are RGB; a protocol may ask for the method to be fed BGR (the official scripts' cv2 order).
    channel_order = str(getattr(protocol, "channel_order", "rgb")).lower()
    if channel_order == "bgr":
        method = ChannelOrderAdapter(method)
    elif channel_order != "rgb":
        raise EvaluationError(f"protocol {protocol_name!r}: channel_order must be 'rgb' or 'bgr', got {channel_order!r}")

    suite = None
    if not selection.routing_only:
        chosen = metrics if metrics is not None else getattr(protocol, "metrics", None) or METRIC_NAMES
        try:
            suite = MetricSuite(chosen, device=device, lpips_channel_order=spec.eval.channel_order_lpips)
        except ValueError as err:  # a bad eval.channel_order_lpips or metric name in the spec
            raise EvaluationError(f"experiment {spec.id!r}: {err}") from None
        # The prepared tree's size (smoke data override the protocol's) is what the metrics will see.
        height = getattr(windows, "height", None) or getattr(protocol, "height", None)
        width = getattr(windows, "width", None) or getattr(protocol, "width", None)
        if height and width:
            suite.check_size(int(height), int(width))  # before any model runs
    labels = RowLabels(spec.id, spec.method, protocol_name, spec.source)
    return evaluate_windows(
        method,
        windows,
        selection,
        labels,
        suite,
        seeds=list(seeds if seeds is not None else spec.eval.routing_seeds),
        device=device,
        batch_size=batch_size,
        progress=progress,
    )
