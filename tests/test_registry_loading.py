"""The one registry shape (``vpbench.registry.Registry``): records added by name, loaded on demand, read-only views,
and the registries built on it (methods, datasets and protocols, metrics) answering without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vpbench.registry import Registry

ROOT = Path(__file__).resolve().parents[1]


def test_entries_keep_their_registration_order_and_errors_name_the_known_ones_sorted():
    colours: Registry[int] = Registry("colour", ValueError)
    colours.add("red", 1)
    colours.register("blue")(2)
    assert list(colours) == ["red", "blue"] and dict(colours) == {"red": 1, "blue": 2}
    assert colours.names() == ("blue", "red") and len(colours) == 2 and colours["blue"] == 2
    assert list(colours.values()) == [1, 2] and list(colours.items()) == [("red", 1), ("blue", 2)]
    for entry in (1, 3):  # the same entry again is refused too: two modules claim the name
        with pytest.raises(ValueError, match="colour 'red' is registered twice"):
            colours.add("red", entry)
    with pytest.raises(ValueError, match="unknown colour 'green'; known: blue, red"):
        colours.get("green")
    with pytest.raises(TypeError):
        colours.view()["green"] = 3  # type: ignore[index]


def test_the_load_hook_runs_on_a_miss_once_and_not_from_inside_itself():
    calls: list[str | None] = []

    def load(name: str | None) -> None:
        calls.append(name)
        if "late" not in shapes:  # a lookup while loading does not load again (else: endless recursion)
            shapes.add("late", 3)

    shapes: Registry[int] = Registry("shape", KeyError, load=load)
    shapes.add("early", 1)
    assert shapes.get("early") == 1 and calls == []  # a registered name needs no loading
    assert shapes.get("late") == 3 and calls == ["late"]
    assert "late" in shapes and calls == ["late"]
    with pytest.raises(KeyError, match="unknown shape 'none'; known: early, late"):
        shapes.get("none")
    assert calls == ["late", "none", None]  # the miss, then names() for the message loads everything


def test_registries_answer_without_torch_nor_image_libraries():
    """Every registry the planner reads (methods, datasets and protocols, metrics), and the protocols resolved from
    them, answer in a process that imports neither torch nor the image libraries (the Snakefile's process)."""
    code = (
        "import json, sys\n"
        "from models.registry import METHODS, BUILTIN_METHODS\n"
        "from data_prep.registry import DATASETS, PROTOCOLS, protocols, datasets\n"
        "from vpbench.evaluation.metric_records import METRICS, COUNTED\n"
        "from vpbench.pipeline.config import resolve_protocols\n"
        "assert 'kitti' in PROTOCOLS and DATASETS.get('kitti').name == 'kitti' and list(METRICS)[0] == 'ms_ssim'\n"
        "assert set(BUILTIN_METHODS) <= {'dmvfn', 'dvf', 'prednet', 'copy_last'} and 'gflops' in COUNTED\n"
        "names = sorted(protocols())\n"
        "assert names and sorted(datasets())\n"
        "resolve_protocols({'datasets': {d: {} for d in datasets()}, 'protocols': {n: {'dataset': protocols()[n].dataset} for n in names}})\n"
        "print(json.dumps(sorted(m for m in ('torch', 'cv2', 'av', 'numpy') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert json.loads(done.stdout) == []
