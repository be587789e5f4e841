"""Property-based fuzzing of every boundary a user or a plugin can feed (Hypothesis).

Each property generates inputs of one kind (method options, spec values, score files, frames, archives, method
outputs, command-line numbers) and asserts the one contract: the input is either handled, giving the right number,
or refused with the module's own error in one line naming the culprit; never a traceback of another type and never
a changed number.

Examples per property: 15 in CI, deterministic (``derandomize``), so `make test` stays fast and stable; more on
demand: ``VPBENCH_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py`` (random seeds, the "deep" profile), e.g. before a
release.
"""

from __future__ import annotations

import io
import math
import os
import tarfile

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from data_prep.errors import DataPrepError, UnsafeArchiveError
from data_prep.extract import verify_archive
from data_prep.frames import decode_frame
from models.base import Prediction, VideoPredictor
from models.contract import OUTPUT_TOLERANCE
from models.registry import MethodOptionError, check_method
from vpbench.evaluation.metric_records import METRICS, RANGE_TOLERANCE
from vpbench.evaluation.rollout import MethodContractError, NonFinitePrediction, rollout
from vpbench.evaluation.scores import SCORE_COLUMNS, ScoreFileError, validate_scores
from vpbench.pipeline.spec import ExperimentSpec, SpecError

FUZZ_EXAMPLES_ENV = "VPBENCH_FUZZ_EXAMPLES"
_HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_HEALTH)
settings.register_profile("deep", max_examples=int(os.environ.get(FUZZ_EXAMPLES_ENV) or 15), deadline=None,
                          database=None, suppress_health_check=_HEALTH)
settings.load_profile("deep" if os.environ.get(FUZZ_EXAMPLES_ENV) else "ci")


def one_line(error: BaseException) -> str:
    text = str(error)
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


# ------------------------------------------------------------------------------------------------ method options
_numbers = st.one_of(st.integers(-3, 300), st.floats(allow_nan=True, allow_infinity=True, width=32),
                     st.just(0), st.text(max_size=3), st.none(), st.booleans())
_DMVFN_OPTIONS = {
    "scales": st.lists(st.integers(-1, 5), min_size=0, max_size=4),
    "widths": st.lists(st.one_of(st.integers(-4, 12), st.floats(-1, 8, width=16)), min_size=0, max_size=4),
    "beta": _numbers, "gamma": _numbers, "laplacian_levels": _numbers, "gumbel_tau_start": _numbers,
    "gumbel_tau_end": _numbers, "routing": st.sampled_from(["stebs", "none", "bogus"]),
}


@given(st.fixed_dictionaries({}, optional=_DMVFN_OPTIONS))
def test_dmvfn_options_are_refused_at_plan_time_or_build_a_working_network(options):
    """What `vpbench plan` accepts builds a network whose forward pass runs; what it refuses names its key."""
    from models.dmvfn import DMVFN

    try:
        check_method("dmvfn", options)
    except MethodOptionError as err:
        message = one_line(err)
        assert err.key is None or err.key in options, message
        return
    model = DMVFN(**options).eval()
    side = 4 * max(model.scales) * 2
    with torch.inference_mode():
        frame = model(torch.rand(1, 3, side, side), torch.rand(1, 3, side, side))
    assert frame.shape == (1, 3, side, side) and bool(torch.isfinite(frame).all())


# ------------------------------------------------------------------------------------------------------ spec values
_TRAIN_KEYS = ("max_steps", "epochs", "batch_size", "crop", "clip_length", "lr_max", "lr_min", "weight_decay",
               "grad_clip", "checkpoint_every", "log_every", "max_clips", "warmup_steps", "perceptual_weight")


@given(st.dictionaries(st.sampled_from(_TRAIN_KEYS), _numbers, max_size=4),
       st.dictionaries(st.sampled_from(["max_clips", "routing_seeds"]),
                       st.one_of(_numbers, st.lists(st.integers(-2, 3), max_size=3)), max_size=2))
def test_a_spec_is_valid_or_refused_naming_its_key(train, evaluation):
    data = {"id": "x", "method": "copy_last", "train": {"dataset": "d", "data_root": "r", **train}, "eval": evaluation}
    try:
        spec = ExperimentSpec.from_dict(data)
    except SpecError as err:
        message = one_line(err)
        assert any(key in message for key in [*train, *evaluation]), message
        return
    for key, value in train.items():  # accepted: the number is kept as given, and it is in range
        assert getattr(spec.train, key) == value
        assert value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf)
    if spec.eval.max_clips is not None:
        assert spec.eval.max_clips >= 1


# ------------------------------------------------------------------------------------------------------ score files
_values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-0.5, 1.5))


@given(st.lists(st.tuples(st.sampled_from(["c0", "c1", "c2"]), st.integers(-1, 3), st.sampled_from(list(METRICS)),
                          _values, st.integers(0, 2)), min_size=1, max_size=12))
def test_a_score_table_is_accepted_only_with_every_value_in_its_metric_range(rows):
    frame = pd.DataFrame([{"experiment": "e", "method": "m", "protocol": "p", "source": "retrained", "seed": seed,
                           "clip_id": clip, "step": step, "metric": metric, "value": value, "active_blocks": ""}
                          for clip, step, metric, value, seed in rows], columns=list(SCORE_COLUMNS))
    try:
        checked = validate_scores(frame, where="fuzzed.parquet")
    except ScoreFileError as err:
        assert one_line(err).startswith("fuzzed.parquet: ")
        return
    assert checked["value"].tolist() == frame["value"].tolist()  # never a changed number
    for metric, value in zip(checked["metric"], checked["value"]):
        low, high = METRICS[metric].value_range
        assert low - RANGE_TOLERANCE <= value <= high + RANGE_TOLERANCE
    assert (checked["step"] >= 1).all()


# ----------------------------------------------------------------------------------------------------------- frames
def _png(height: int, width: int) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return data.tobytes()


_GOOD_PNG = _png(12, 20)


@given(st.one_of(st.binary(max_size=64),
                 st.integers(0, len(_GOOD_PNG)).map(lambda n: _GOOD_PNG[:n]),
                 st.tuples(st.integers(8, len(_GOOD_PNG) - 1), st.integers(0, 255)).map(
                     lambda p: _GOOD_PNG[: p[0]] + bytes([p[1]]) + _GOOD_PNG[p[0] + 1:])))
def test_frame_bytes_decode_to_the_right_frame_or_are_refused_naming_the_file(data):
    try:
        image = decode_frame(data, "raw/seq/0001.png", same_size_as=("raw/seq/0000.png", (12, 20)))
    except DataPrepError as err:
        assert one_line(err).startswith("raw/seq/0001.png: ")
        return
    assert image.shape == (12, 20, 3) and image.dtype == np.uint8


# --------------------------------------------------------------------------------------------------------- archives
def _tar_bytes(sizes: list[int]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for i, size in enumerate(sizes):
            info = tarfile.TarInfo(f"m{i}.bin")
            info.size = size
            tf.addfile(info, io.BytesIO(bytes([i % 251]) * size))
    return buffer.getvalue()


@given(st.lists(st.integers(0, 1500), min_size=1, max_size=4), st.data())
def test_only_a_whole_tar_passes_verification(tmp_path_factory, sizes, data):
    whole = _tar_bytes(sizes)
    cut = data.draw(st.integers(0, len(whole)))
    path = tmp_path_factory.mktemp("tar") / "a.tar"
    path.write_bytes(whole[:cut])
    try:
        verify_archive(path)
    except UnsafeArchiveError as err:
        assert one_line(err).startswith(str(path))
        return
    # accepted: every member and the end marker are there (a cut only inside the trailing zero padding is harmless)
    with tarfile.open(path) as tf:
        assert [m.size for m in tf.getmembers()] == sizes
    data_end = sum(512 + -(-size // 512) * 512 for size in sizes)
    assert cut >= data_end + 1024


# --------------------------------------------------------------------------------------------------- method outputs
class Emits(VideoPredictor):
    trainable = False

    def __init__(self, frame: torch.Tensor) -> None:
        super().__init__()
        self.frame = frame

    def predict(self, context: torch.Tensor) -> Prediction:
        return Prediction(frame=self.frame)


_DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64, torch.uint8, torch.int32, torch.bool]


@given(st.sampled_from(_DTYPES), st.floats(-300, 300), st.floats(0, 300), st.sampled_from([(1, 3, 8, 8), (1, 3, 8, 9),
                                                                                             (1, 1, 8, 8), (3, 8, 8)]),
       st.booleans())
def test_a_method_output_is_scored_as_given_or_refused_naming_the_step(dtype, offset, scale, shape, poison):
    generator = torch.Generator().manual_seed(0)
    values = offset + scale * torch.rand(shape, generator=generator)
    if poison:
        values.view(-1)[0] = float("nan")
    frame = values.to(dtype) if dtype.is_floating_point else values.clamp(-1e6, 1e6).to(dtype)
    try:
        (prediction,) = rollout(Emits(frame), torch.rand(1, 2, 3, 8, 8), 1)
    except (MethodContractError, NonFinitePrediction) as err:
        assert "step t+1" in one_line(err)
        return
    assert dtype in (torch.float32, torch.float16, torch.bfloat16) and tuple(frame.shape) == (1, 3, 8, 8)
    as_float = frame.float()
    assert bool(torch.isfinite(as_float).all())
    assert float(as_float.min()) >= -OUTPUT_TOLERANCE and float(as_float.max()) <= 1 + OUTPUT_TOLERANCE
    assert torch.equal(prediction.frame, as_float.clamp(0, 1))  # only the tolerated overshoot is clamped away


# ----------------------------------------------------------------------------------------------- command-line numbers
@given(st.one_of(st.integers(-5, 5).map(str), st.text(max_size=4), st.floats(allow_nan=True).map(str)))
def test_numeric_options_parse_in_range_or_are_a_usage_error(capsys, text):
    from vpbench.cli import build_parser

    assume(not text.startswith("-") or text.lstrip("-").replace(".", "").isdigit())
    parser = build_parser()
    argv = ["evaluate", "--spec", "s", "--protocol", "p", "--data-root", "d", "--out", "o", "--max-clips", text,
            "--batch-size", text]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        assert exit_.code == 2
        err = capsys.readouterr().err
        assert "argument --max-clips" in err or "argument --batch-size" in err, err
        return
    assert args.max_clips == args.batch_size == int(text) >= 1


@pytest.mark.parametrize("profile", ["ci"])
def test_ci_profile_has_a_fixed_example_count(profile):
    assert settings.get_profile(profile).max_examples == 15 and settings.get_profile(profile).derandomize
