"""The dataset registry: one catalog module per dataset, torch-free to read, and checked against the configs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from data_prep import smoke
from data_prep.protocols import PROTOCOLS, get_protocol
from data_prep.registry import DATASETS, PROTOCOLS as PROTOCOL_REGISTRY
from data_prep.registry import Dataset, EvalProtocol, SourceFormat, datasets, protocols, register_dataset
from vpbench.pipeline.config import ConfigError, load_config, read_yaml, resolve_protocols

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "config.yaml": [ROOT / "config/config.yaml"],
    "smoke.yaml": [ROOT / "config/smoke.yaml"],
    "config.yaml + smoke.yaml": [ROOT / "config/config.yaml", ROOT / "config/smoke.yaml"],  # as Snakemake merges them
}


def test_every_dataset_is_one_catalog_module():
    for name, spec in datasets().items():
        module = f"data_prep.catalog.{name}"
        assert spec.acquire is not None and spec.acquire.__module__ == module, name
        assert spec.smoke is not None, name
        if spec.smoke.build is not None:
            assert spec.smoke.build.__module__ == module, name
        assert all(p.dataset == name for p in spec.protocols), name
    assert set(smoke.SMOKE_SIZES) == set(datasets())
    assert smoke.SMOKE_ROOTS["kitti_a"] == "kitti" and "kitti_a" not in smoke.BUILDERS  # KITTI-A lives in KITTI's tree


def test_protocols_view_is_the_registry():
    assert dict(PROTOCOLS) == {p.name: p for spec in datasets().values() for p in spec.protocols}
    assert dict(PROTOCOLS) == dict(protocols())
    assert get_protocol("kitti").horizon == 5 and get_protocol("vimeo_slow_int5").routing_only
    with pytest.raises(KeyError, match="unknown protocol 'nope'; known: cityscapes, davis, "):
        get_protocol("nope")
    assert PROTOCOL_REGISTRY.get("kitti") is get_protocol("kitti")
    assert list(DATASETS) == list(datasets()) and "kitti" in DATASETS
    with pytest.raises(TypeError):
        PROTOCOLS["toy"] = get_protocol("kitti")  # type: ignore[index]  # a read-only view


def test_registration_refuses_duplicates_and_foreign_protocols():
    fmt = SourceFormat("toy", "toy", lambda root, split, subset: None, lambda root: True)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="'kitti' is registered twice"):
        register_dataset(Dataset("kitti", ("test",), None, "raw", (fmt,)))
    foreign = EvalProtocol("toy", "kitti", 16, 16, (0, 1), (2,))
    with pytest.raises(ValueError, match="reads dataset 'kitti', registered with 'toy'"):
        register_dataset(Dataset("toy", ("test",), None, "raw", (fmt,), protocols=(foreign,)))
    assert "toy" not in datasets() and "toy" not in protocols()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_shipped_configs_agree_with_the_registered_protocols(name):
    config = load_config(CONFIGS[name])
    assert set(config["protocols"]) == set(protocols())
    assert resolve_protocols(config) == config["protocols"]  # a loaded config resolves to itself
    for protocol_name, entry in config["protocols"].items():
        protocol = get_protocol(protocol_name)
        prepared = config["datasets"][protocol.dataset].get("size")
        assert entry["dataset"] == protocol.dataset
        assert entry["size"] == (prepared or f"{protocol.height}x{protocol.width}")
        override = read_yaml(CONFIGS[name][-1])["protocols"].get(protocol_name) or {}
        assert entry["label"] == override.get("label", protocol.label)


@pytest.mark.parametrize("path", ["config/config.yaml", "config/smoke.yaml"])
def test_shipped_configs_state_no_protocol_fact(path):
    """A protocol's dataset and size are declared once, in its catalog module; the config holds overrides."""
    entries = read_yaml(ROOT / path)["protocols"]
    assert entries and all(set(entry) <= {"label", "eval_gpu_hours"} for entry in entries.values())


def test_overrides_merge_over_the_registered_protocol():
    config = _config("config.yaml")
    assert config["protocols"]["kitti"] == {"dataset": "kitti", "size": "256x832", "label": "KITTI-Test", "eval_gpu_hours": 0.2}
    raw = {"datasets": {"kitti": {"size": "176x560"}}, "protocols": {"kitti": {"label": "K"}}}
    assert resolve_protocols(raw) == {"kitti": {"dataset": "kitti", "size": "176x560", "label": "K"}}
    # a protocol is there because its dataset is declared; the config's entries keep their order
    assert list(resolve_protocols({"datasets": {"vimeo_septuplet": {}}, "protocols": {"vimeo_slow": {}}})) == [
        "vimeo_slow", "vimeo_fast", "vimeo_medium", "vimeo_slow_int1", "vimeo_slow_int3", "vimeo_slow_int5"]


def test_smoke_config_prepares_at_the_registered_smoke_sizes():
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    assert {name: entry["size"] for name, entry in config["datasets"].items()} == {
        name: f"{h}x{w}" for name, (h, w) in smoke.SMOKE_SIZES.items()
    }


def _config(name: str) -> dict:
    return copy.deepcopy(load_config(CONFIGS[name]))


def _error(config: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        resolve_protocols(config)
    return str(raised.value)


def test_a_changed_dataset_is_named():
    config = _config("config.yaml")
    config["protocols"]["vimeo_fast"]["dataset"] = "vimeo"
    assert _error(config) == (
        "protocols.vimeo_fast.dataset: config 'vimeo', registered protocol 'vimeo_fast' reads 'vimeo_septuplet'"
    )


def test_a_changed_size_is_named():
    config = _config("config.yaml")
    config["protocols"]["kitti"]["size"] = "256x800"
    assert _error(config) == "protocols.kitti.size: config 256x800, registered protocol 'kitti' is 256x832"
    config["protocols"]["kitti"]["size"] = "256"
    error = _error(config)
    assert error.startswith("protocols.kitti.size: config '256'") and "HEIGHTxWIDTH" in error
    config["protocols"]["kitti"].pop("size")
    config["datasets"]["kitti"]["size"] = "256"
    assert _error(config).startswith("datasets.kitti.size: ") and "HEIGHTxWIDTH" in _error(config)


def test_a_size_other_than_the_prepared_override_is_named():
    config = _config("smoke.yaml")
    config["protocols"]["davis"]["size"] = "480x864"  # the registered resolution, but the smoke data are 176x320
    assert _error(config) == ("protocols.davis.size: config 480x864, but datasets.davis.size prepares davis at 176x320 "
                              "(registered protocol 'davis': 480x864 without that override)")


def test_an_unregistered_protocol_is_named():
    config = _config("config.yaml")
    config["protocols"]["kitti_b"] = {"dataset": "kitti", "size": "256x832"}
    assert _error(config).startswith(
        "protocols.kitti_b: config names protocol 'kitti_b', which is not registered; registered: ")

