"""The dataset registry: one catalog module per dataset, torch-free to read, and checked against the configs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from data_prep import smoke
from data_prep.protocols import PROTOCOLS, get_protocol
from data_prep.registry import (
    Dataset, EvalProtocol, SourceFormat, datasets, protocol_config_errors, protocols, register_dataset,
)
from vpbench.pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "config.yaml": [ROOT / "config/config.yaml"],
    "smoke.yaml": [ROOT / "config/smoke.yaml"],
    "config.yaml + smoke.yaml": [ROOT / "config/config.yaml", ROOT / "config/smoke.yaml"],  # as Snakemake merges them
}


def test_reading_the_registry_imports_no_torch_nor_image_libraries():
    code = (
        "import json, sys\n"
        "from data_prep.registry import protocols, datasets, protocol_config_errors\n"
        "names = sorted(protocols())\n"
        "assert names and sorted(datasets())\n"
        "protocol_config_errors({'protocols': {n: {'dataset': protocols()[n].dataset} for n in names}})\n"
        "print(json.dumps(sorted(m for m in ('torch', 'cv2', 'av', 'numpy') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert json.loads(done.stdout) == []


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
    with pytest.raises(KeyError, match="unknown protocol 'nope'; choose from"):
        get_protocol("nope")
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
    assert protocol_config_errors(config) == []


def test_smoke_config_prepares_at_the_registered_smoke_sizes():
    config = yaml.safe_load((ROOT / "config/smoke.yaml").read_text())
    assert {name: entry["size"] for name, entry in config["datasets"].items()} == {
        name: f"{h}x{w}" for name, (h, w) in smoke.SMOKE_SIZES.items()
    }


def _config(name: str) -> dict:
    return copy.deepcopy(load_config(CONFIGS[name]))


def test_a_changed_dataset_is_named():
    config = _config("config.yaml")
    config["protocols"]["vimeo_fast"]["dataset"] = "vimeo"
    assert protocol_config_errors(config) == [
        "protocols.vimeo_fast.dataset: config 'vimeo', registered protocol 'vimeo_fast' reads 'vimeo_septuplet'"
    ]


def test_a_changed_size_is_named():
    config = _config("config.yaml")
    config["protocols"]["kitti"]["size"] = "256x800"
    assert protocol_config_errors(config) == ["protocols.kitti.size: config 256x800, registered protocol 'kitti' is 256x832"]
    config["protocols"]["kitti"]["size"] = "256"
    (error,) = protocol_config_errors(config)
    assert error.startswith("protocols.kitti.size: config '256'") and "HEIGHTxWIDTH" in error


def test_a_size_other_than_the_prepared_override_is_named():
    config = _config("smoke.yaml")
    config["protocols"]["davis"]["size"] = "480x864"  # the registered resolution, but the smoke data are 176x320
    (error,) = protocol_config_errors(config)
    assert error == ("protocols.davis.size: config 480x864, but datasets.davis.size prepares davis at 176x320 "
                     "(registered protocol 'davis': 480x864 without that override)")


def test_an_unregistered_protocol_is_named():
    config = _config("config.yaml")
    config["protocols"]["kitti_b"] = {"dataset": "kitti", "size": "256x832"}
    (error,) = protocol_config_errors(config)
    assert error.startswith("protocols.kitti_b: config names protocol 'kitti_b', which is not registered; registered: ")

