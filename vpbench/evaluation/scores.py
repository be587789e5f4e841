"""Score files: raw per-clip, per-step, per-metric evaluation results (parquet), nothing aggregated.

Place in the flow: evaluation (:mod:`vpbench.evaluation.rollout`) writes them -> **scores** -> aggregate -> tables/
figures. One row per clip x horizon step x metric x routing seed. Every table and figure is an aggregation of these
files (:mod:`vpbench.reporting.aggregate`), so a table is re-rendered without re-running a model. Torch-free, like
the rest of the reporting side.

Columns (see :data:`SCORE_COLUMNS`):

* ``experiment``, ``method``, ``protocol``: what was evaluated, on which evaluation set.
* ``source``: ``retrained`` | ``official-weights`` | ``untrained`` (``paper-only`` numbers never appear here).
* ``seed``: the routing seed of that evaluation pass.
* ``clip_id``, ``step``: the clip and the 1-based horizon step (the row scores frame t+step).
* ``metric``, ``value``: a name of :data:`vpbench.evaluation.metric_records.METRIC_NAMES` and its raw per-step
  value (float64, not cumulative). Routing-only passes (no target frame) write metric ``routing`` with value NaN.
* ``active_blocks``: the routing decision of that step, one ``'0'``/``'1'`` per block (``""`` without routing).

Besides the rows, a file records the clip ids its evaluation was asked for (the prepared tree's windows, cut to
``max_clips``) in the parquet schema metadata (key :data:`EXPECTED_CLIPS_KEY`, a JSON list). A reader that checks a
file is whole (``expect``) compares the rows with that list: a file that lost a clip in every seed is refused, where
comparing it with itself would not notice. A file without the list (written by hand, or by ``DataFrame.to_parquet``)
is refused there too. Every value is checked against its metric record's ``value_range``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpbench.evaluation.metric_records import METRIC_NAMES, METRICS, RANGE_TOLERANCE
from vpbench.utils import atomic_path

#: column -> pandas dtype, in file order
SCORE_COLUMNS: dict[str, str] = {
    "experiment": "str",
    "method": "str",
    "protocol": "str",
    "source": "str",
    "seed": "int64",
    "clip_id": "str",
    "step": "int64",
    "metric": "str",
    "value": "float64",
    "active_blocks": "str",
}
SOURCES: tuple[str, ...] = ("retrained", "official-weights", "untrained")
ROUTING_METRIC = "routing"
SCORE_METRICS: tuple[str, ...] = (*METRIC_NAMES, ROUTING_METRIC)
#: parquet schema metadata key of the clip ids an evaluation was asked for
EXPECTED_CLIPS_KEY = b"vpbench.expected_clips"
#: ``DataFrame.attrs`` key that carries the same list from the rollout to :func:`write_scores`
EXPECTED_CLIPS_ATTR = "expected_clips"
_STRING_COLUMNS = ("experiment", "method", "protocol", "source", "clip_id", "metric", "active_blocks")


class ScoreFileError(ValueError):
    """A score table or file does not follow the score file contract."""


def scores_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a validated score DataFrame (columns and dtypes of the contract) from row mappings."""
    frame = pd.DataFrame(list(rows), columns=list(SCORE_COLUMNS))
    return validate_scores(frame, where="score rows")


def empty_scores() -> pd.DataFrame:
    return scores_frame([])


def validate_scores(frame: pd.DataFrame, where: str = "scores") -> pd.DataFrame:
    """Check columns, dtypes and values; return the frame with contract dtypes and column order.

    ``where`` names the file or table in every error.
    """
    missing = [column for column in SCORE_COLUMNS if column not in frame.columns]
    extra = [column for column in frame.columns if column not in SCORE_COLUMNS]
    if missing or extra:
        raise ScoreFileError(f"{where}: columns missing {missing}, unexpected {extra}; expected {list(SCORE_COLUMNS)}")
    frame = frame[list(SCORE_COLUMNS)].copy()
    for column in _STRING_COLUMNS:
        values = frame[column]
        if not values.map(lambda v: isinstance(v, str)).all():
            bad = values[~values.map(lambda v: isinstance(v, str))].iloc[0]
            raise ScoreFileError(f"{where}: column {column!r} must hold strings, found {bad!r}")
        frame[column] = values.astype(str)
    for column in ("seed", "step"):
        try:
            frame[column] = _as_int64(frame[column])
        except (TypeError, ValueError) as err:
            raise ScoreFileError(f"{where}: column {column!r} must hold integers ({err})") from None
    try:
        frame["value"] = frame["value"].astype("float64")
    except (TypeError, ValueError) as err:
        raise ScoreFileError(f"{where}: column 'value' must hold floats ({err})") from None

    _check_values(frame, where)
    return frame.reset_index(drop=True)


def _as_int64(values: pd.Series) -> pd.Series:
    if values.isna().any():
        raise ValueError("missing values")
    numeric = pd.to_numeric(values)
    if not np.all(np.asarray(numeric, dtype="float64") == np.round(np.asarray(numeric, dtype="float64"))):
        raise ValueError("non-integer values")
    return numeric.astype("int64")


def _check_values(frame: pd.DataFrame, where: str) -> None:
    if frame.empty:
        return
    bad_source = sorted(set(frame["source"]) - set(SOURCES))
    if bad_source:
        raise ScoreFileError(f"{where}: unknown source(s) {bad_source}; allowed: {list(SOURCES)}")
    bad_metric = sorted(set(frame["metric"]) - set(SCORE_METRICS))
    if bad_metric:
        raise ScoreFileError(f"{where}: unknown metric(s) {bad_metric}; allowed: {list(SCORE_METRICS)}")
    if (frame["step"] < 1).any():
        raise ScoreFileError(f"{where}: 'step' is 1-based (t+step); found {int(frame['step'].min())}")
    bits_ok = frame["active_blocks"].map(lambda s: set(s) <= {"0", "1"})
    if not bits_ok.all():
        raise ScoreFileError(
            f"{where}: 'active_blocks' must be a string of '0'/'1', found {frame.loc[~bits_ok, 'active_blocks'].iloc[0]!r}"
        )
    routing = frame["metric"] == ROUTING_METRIC
    if frame.loc[routing, "value"].notna().any():
        raise ScoreFileError(f"{where}: rows with metric 'routing' must have value NaN")
    if frame.loc[~routing, "value"].isna().any():
        row = frame.loc[~routing & frame["value"].isna()].iloc[0]
        raise ScoreFileError(f"{where}: NaN {row['metric']} for clip {row['clip_id']!r} step {row['step']}")
    for name, metric in METRICS.items():
        values = frame.loc[frame["metric"] == name, "value"]
        if values.empty:
            continue
        low, high = metric.value_range
        outside = (values < low - RANGE_TOLERANCE) | (values > high + RANGE_TOLERANCE)
        if outside.any():
            row = frame.loc[outside[outside].index[0]]
            raise ScoreFileError(
                f"{where}: {name} {float(row['value'])!r} for clip {row['clip_id']!r} step {row['step']} seed {row['seed']} "
                f"is outside the metric's range {metric.range_text}; the file is damaged or its metric is broken"
            )


def write_scores(frame: pd.DataFrame, path: str | Path, expected_clips: Sequence[str] | None = None) -> Path:
    """Validate and write ``frame`` to ``path`` (parquet) atomically: a temp name first, then a rename.

    ``expected_clips``: the clip ids the evaluation was asked for (default: ``frame.attrs["expected_clips"]``, set
    by the rollout, else the clips the rows score). Every one must be scored; they are recorded in the file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if expected_clips is None:
        expected_clips = frame.attrs.get(EXPECTED_CLIPS_ATTR)
    frame = validate_scores(frame, where=str(path))
    asked = [str(c) for c in (expected_clips if expected_clips is not None else sorted(set(frame["clip_id"])))]
    check_expected_clips(frame, asked, str(path))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), EXPECTED_CLIPS_KEY: json.dumps(asked).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def check_expected_clips(frame: pd.DataFrame, asked: Sequence[str], where: str) -> None:
    """Raise :class:`ScoreFileError` unless the rows score exactly the clips ``asked`` for (routing passes too)."""
    found, wanted = set(frame["clip_id"]), set(asked)
    if len(wanted) != len(asked):
        raise ScoreFileError(f"{where}: the list of expected clips names a clip twice")
    missing, extra = sorted(wanted - found), sorted(found - wanted)
    if missing:
        raise ScoreFileError(
            f"{where}: clip {missing[0]!r} ({len(missing)} of the {len(asked)} clips its evaluation was asked for) "
            "has no score rows; re-run its evaluation"
        )
    if extra:
        raise ScoreFileError(f"{where}: clip {extra[0]!r} is scored but its evaluation was not asked for it")


def expected_clips_of(path: str | Path) -> list[str] | None:
    """The clip ids recorded in score file ``path`` (None when it records none)."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(EXPECTED_CLIPS_KEY)
    if raw is None:
        return None
    try:
        clips = json.loads(raw)
    except ValueError:
        clips = None
    if not isinstance(clips, list) or not all(isinstance(c, str) for c in clips):
        raise ScoreFileError(f"{path}: its list of expected clips ({EXPECTED_CLIPS_KEY.decode()}) is damaged")
    return clips


def check_complete(
    frame: pd.DataFrame,
    where: str,
    *,
    experiment: str | None = None,
    protocol: str | None = None,
    seeds: Sequence[int] | None = None,
    steps: int | None = None,
    clips: int | None = None,
    max_clips: int | None = None,
) -> None:
    """Raise :class:`ScoreFileError` unless ``frame`` (validated) is one whole evaluation.

    Whole: one experiment on one protocol (the given ones), exactly the routing ``seeds`` of its spec, steps
    1..``steps`` (the protocol's horizon; 1 for routing-only protocols), and every (seed, metric) scoring the same
    clips at every step, once. ``clips`` is the exact clip count when known, ``max_clips`` the spec's cap. A file cut
    short (fewer clips, a missing step or seed) would otherwise render quietly with different numbers.
    """
    if frame.empty:
        raise ScoreFileError(f"{where}: no score rows")
    for column, wanted in (("experiment", experiment), ("protocol", protocol)):
        found = sorted(set(frame[column]))
        if len(found) != 1 or (wanted is not None and found[0] != wanted):
            raise ScoreFileError(f"{where}: expected the rows of {column} {wanted or '(one)'!r} only, found {found}")
    found_seeds = sorted(int(s) for s in set(frame["seed"]))
    if seeds is not None and found_seeds != sorted(int(s) for s in seeds):
        raise ScoreFileError(f"{where}: routing seeds {found_seeds}, but the spec evaluates seeds {sorted(seeds)}")
    found_steps = sorted(int(s) for s in set(frame["step"]))
    wanted_steps = list(range(1, (steps if steps is not None else max(found_steps)) + 1))
    if found_steps != wanted_steps:
        raise ScoreFileError(f"{where}: steps {found_steps}, but the protocol's horizon needs steps {wanted_steps}")
    keys = ["seed", "clip_id", "step", "metric"]
    duplicated = frame.duplicated(keys)
    if duplicated.any():
        row = frame.loc[duplicated].iloc[0]
        raise ScoreFileError(
            f"{where}: clip {row['clip_id']!r} step {row['step']} {row['metric']} seed {row['seed']} is scored twice"
        )
    all_clips = sorted(set(frame["clip_id"]))
    for (seed, metric), group in frame.groupby(["seed", "metric"], sort=True):
        if len(group) != len(all_clips) * len(wanted_steps):
            per_step = group.groupby("step")["clip_id"].nunique().reindex(wanted_steps, fill_value=0)
            short = [f"t+{step}: {count}" for step, count in per_step.items() if count != len(all_clips)]
            missing_clips = sorted(set(all_clips) - set(group["clip_id"]))
            detail = f"clips missing: {missing_clips[:3]}" if missing_clips else f"clips per step {', '.join(short)}"
            raise ScoreFileError(
                f"{where}: incomplete: seed {seed}, {metric} has {len(group)} rows, expected {len(all_clips)} clips x "
                f"{len(wanted_steps)} steps ({detail}); re-run its evaluation"
            )
    if clips is not None and len(all_clips) != clips:
        raise ScoreFileError(f"{where}: {len(all_clips)} clips, but the protocol has {clips}; re-run its evaluation")
    if max_clips is not None and len(all_clips) > max_clips:
        raise ScoreFileError(f"{where}: {len(all_clips)} clips, more than the spec's eval.max_clips {max_clips}")


def read_scores(path: str | Path, expect: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read and validate one score file (and, with ``expect``, check it is whole: :func:`check_complete`)."""
    path = Path(path)
    if not path.exists():
        raise ScoreFileError(f"{path}: score file not found (run `vpbench evaluate` for it)")
    try:
        frame = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for truncated or foreign files
        raise ScoreFileError(f"{path}: not a readable parquet file ({err})") from err
    frame = validate_scores(frame, where=str(path))
    if expect is not None:
        check_complete(frame, str(path), **expect)
    asked = expected_clips_of(path)
    if asked is not None:
        check_expected_clips(frame, asked, str(path))
        if expect is not None and expect.get("max_clips") is not None and len(asked) > expect["max_clips"]:
            raise ScoreFileError(f"{path}: asked for {len(asked)} clips, more than the spec's eval.max_clips {expect['max_clips']}")
    elif expect is not None:
        raise ScoreFileError(
            f"{path}: does not record which clips its evaluation was asked for (written by hand or by an older "
            "version), so a clip missing from every seed could not be noticed; re-run its evaluation"
        )
    return frame


def read_many(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Concatenate several score files (each validated) into one table."""
    frames = [read_scores(path) for path in paths]
    if not frames:
        return empty_scores()
    return validate_scores(pd.concat(frames, ignore_index=True), where="combined score files")
