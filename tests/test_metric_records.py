"""The metric records against what they describe: the torch functions, the JSON schemas and the tables' prose.

Each record claims a direction, a smallest frame side and a function; these tests check the claims against the
functions themselves (a perfect prediction must score better than a noisy one; pytorch-msssim must refuse exactly
the sizes the record refuses), so a record cannot drift from the code it describes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vpbench.evaluation.metric_records import COUNTED, METRIC_NAMES, METRICS, get_metric, get_quantity
from vpbench.pipeline.config import ConfigError, load_config, load_schema, validate

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "config" / "schema"


def test_records_are_keyed_by_their_names_and_resolve_to_the_metric_functions() -> None:
    from vpbench.evaluation import metrics

    assert METRIC_NAMES == tuple(METRICS)
    for name, record in {**METRICS, **COUNTED}.items():
        assert record.name == name and get_quantity(name) is record
    for name, record in METRICS.items():
        assert record.function() is getattr(metrics, name)
    with pytest.raises(ValueError, match="counted"):
        COUNTED["gflops"].function()


def test_unknown_metric_is_named_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown metric 'fid'; known: lpips, ms_ssim, psnr, ssim"):
        get_metric("fid")
    with pytest.raises(ValueError, match="unknown table quantity 'flops'"):
        get_quantity("flops")
    assert get_metric("lpips").direction == "lower"


def test_direction_agrees_with_the_function() -> None:
    import torch

    generator = torch.Generator().manual_seed(0)
    target = torch.rand(2, 3, 176, 176, generator=generator)
    noisy = (target + 0.2 * torch.randn(target.shape, generator=generator)).clamp(0, 1)
    for name, record in METRICS.items():
        function = record.function()
        perfect = function(target, target).mean().item()
        worse = function(noisy, target).mean().item()
        assert (perfect > worse) == record.higher_is_better, name


def test_min_size_is_the_limit_of_pytorch_msssim_itself() -> None:
    import pytorch_msssim
    import torch

    from vpbench.evaluation import metrics

    record = METRICS["ms_ssim"]
    side = record.min_size
    assert side == 161
    below = torch.rand(1, 3, side - 1, 2 * side)
    with pytest.raises(AssertionError):  # the library's own check, one pixel below the record's limit
        pytorch_msssim.ms_ssim(below, below, data_range=1.0, win_size=metrics.MS_SSIM_WIN_SIZE)
    at = torch.rand(1, 3, side, side)
    assert metrics.ms_ssim(at, at).item() == pytest.approx(1.0, abs=1e-6)
    message = record.check_size(side - 1, 2 * side)
    assert message and "> 160" in message and record.check_size(side, side) is None
    with pytest.raises(metrics.MetricInputError) as raised:
        metrics.ms_ssim(below, below)
    assert str(raised.value) == message  # the torch check and the torch-free one say the same


def test_ssim_min_size_is_its_window() -> None:
    import torch

    from vpbench.evaluation import metrics

    record = METRICS["ssim"]
    assert record.check_size(record.min_size, 64) is None
    small = torch.rand(1, 3, record.min_size - 1, 64)
    with pytest.raises(metrics.MetricInputError) as raised:
        metrics.ssim(small, small)
    assert str(raised.value) == record.check_size(record.min_size - 1, 64)
    assert METRICS["psnr"].check_size(1, 1) is None and METRICS["lpips"].min_size is None


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def test_the_schemas_read_metric_names_from_the_records() -> None:
    """The schema files hold no metric names; loading them fills in the records' (a new metric is one record)."""
    for name in ("config.schema.json", "tables.schema.json"):
        assert not any(metric in (SCHEMAS / name).read_text() for metric in ('"ms_ssim"', '"lpips"', '"psnr"')), name
    config = load_schema("config.schema.json")
    assert config["properties"]["compare"]["properties"]["metrics"]["items"]["enum"] == list(METRIC_NAMES)
    tables = load_schema("tables.schema.json")
    assert tables["$defs"]["metric"]["enum"] == list(METRIC_NAMES)
    assert list(tables["$defs"]["tolerance"]["properties"]) == [*METRIC_NAMES, *COUNTED]


def test_a_metric_outside_the_records_is_refused_by_the_config_check() -> None:
    config = load_config(["config/smoke.yaml"])
    config["compare"] = {**(config.get("compare") or {}), "metrics": ["ms_ssim", "fid"]}
    with pytest.raises(ConfigError, match=r"compare\.metrics\.1: 'fid' is not one of"):
        validate(config, "config.schema.json", "smoke")


def _kinds(schema: dict, section: str) -> set[str]:
    alternatives = schema["properties"][section]["additionalProperties"]
    consts = {entry["then"]["properties"]["kind"]["const"] for entry in alternatives["allOf"]}
    assert consts == {entry["if"]["properties"]["kind"]["const"] for entry in alternatives["allOf"]}
    assert set(alternatives["properties"]["kind"]["enum"]) == consts
    return consts


def test_schema_kinds_are_the_registered_kinds() -> None:
    """The schema file holds no kind's fields: each kind's module does, and loading the schema composes them."""
    from vpbench.reporting.kinds import FIGURE_KINDS, TABLE_KINDS

    raw = _schema("tables.schema.json")
    assert not any(name.endswith(("_table", "_figure")) for name in raw["$defs"])
    tables = load_schema("tables.schema.json")
    assert _kinds(tables, "tables") == set(TABLE_KINDS.names())
    assert _kinds(tables, "figures") == set(FIGURE_KINDS.names())


def test_table_notes_are_written_from_the_records() -> None:
    from vpbench.reporting.cells import METRICS_UNITS_NOTE, PAIRED_NOTE

    for record in METRICS.values():
        assert record.label in METRICS_UNITS_NOTE and record.label in PAIRED_NOTE
    assert METRICS_UNITS_NOTE.startswith("MS-SSIM, LPIPS and SSIM in x10^-2; PSNR in dB; ")
    assert PAIRED_NOTE.endswith("Directions: higher MS-SSIM/PSNR/SSIM, lower LPIPS.")
