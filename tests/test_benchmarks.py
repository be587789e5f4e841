"""Speed benchmarks in smoke mode (structure and the outputs-agree checks; no timing thresholds), and the
re-statement of the authors' forward pass they compare against."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from models import DMVFN
from vpbench.benchmarks import inference as bench_inference, train as bench_train
from vpbench.benchmarks.reference import ReferenceDMVFN


def test_inference_benchmark_quick_writes_ratios_and_passes_the_agreement_check(tmp_path: Path) -> None:
    out = tmp_path / "inference.json"
    assert bench_inference.main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["agreement_passed"] is True
    assert report["settings"]["quick"] is True
    (entry,) = report["results"]
    assert entry["device"] == "cpu" and entry["size"] == "64x96"
    agreement = entry["agreement"]
    assert len(agreement["max_abs_diff_per_block"]) == 9
    assert max(agreement["max_abs_diff_per_block"]) <= agreement["tolerance"] == 1e-4
    pairs = {(row["variant"], row["against"]) for row in entry["comparisons"]}
    assert {("ours", "reference"), ("ours", "reference_channels_last"), ("ours_default_layout", "reference"),
            ("ours_no_grad", "reference")} <= pairs
    for row in entry["comparisons"]:
        assert row["ours_median_s"] > 0 and row["reference_median_s"] > 0
        assert row["ratio_wall_median"] > 0 and row["ratio_cpu_median"] >= 0
    assert len(entry["times"]["ours"]["wall"]) == report["settings"]["repeats"] == 2
    assert entry["routed"]["blocks_run"]


def test_train_benchmark_quick_reports_every_method(tmp_path: Path) -> None:
    out = tmp_path / "train.json"
    assert bench_train.main(["--quick", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["agreement_passed"] is True
    (result,) = report["results"]
    assert result["loss_agreement"]["relative_diff"] <= 1e-4
    assert set(result["methods"]) == {"dmvfn", "reference", "reference_vgg", "dmvfn_default_layout", "reference_channels_last", "dvf", "prednet"}
    for row in result["methods"].values():
        assert row["steps_per_s"] > 0
        assert abs(row["clips_per_s"] - report["settings"]["batch"] * row["steps_per_s"]) < 1e-9
    assert set(result["ratio_to_reference_wall_median"]) == {"dmvfn", "dmvfn_default_layout", "reference_channels_last", "reference_vgg"}


def _pair(batch: int = 1, height: int = 48, width: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    base = torch.rand(batch, 3, height, width + 3, generator=gen)
    return base[..., :width].contiguous(), base[..., 3:].contiguous()


def test_reference_takes_our_weights_and_the_agreement_check_can_fail() -> None:
    torch.manual_seed(0)
    ours = DMVFN().eval()
    ref = ReferenceDMVFN().eval()
    ref.load_state_dict(ours.state_dict())  # strict: the same names and shapes
    prev, cur = _pair()
    models = bench_inference.Models(ours, ours, ref, ref)
    assert bench_inference.agreement(models, prev, cur)["passed"]
    with torch.no_grad():
        ours.block4.conv_sq[0].bias.add_(0.05)
    broken = bench_inference.agreement(models, prev, cur)
    assert not broken["passed"]
    assert max(broken["max_abs_diff_per_block"][:4]) <= 1e-4 < max(broken["max_abs_diff_per_block"][4:])


def test_channels_last_inference_matches_the_default_layout_with_per_sample_routing() -> None:
    torch.manual_seed(0)
    plain = DMVFN().eval()
    fast = DMVFN().eval()
    fast.load_state_dict(plain.state_dict())
    fast.optimize_for_inference(torch.device("cpu"))
    assert fast.memory_format == torch.channels_last and plain.memory_format == torch.contiguous_format
    prev, cur = _pair(batch=3, height=40, width=56)  # padded to 48x64 inside
    active = torch.tensor([[1, 0, 1, 1, 0, 1, 1, 1, 0], [1] * 9, [0, 1, 1, 0, 1, 0, 0, 1, 1]], dtype=torch.bool)
    with torch.inference_mode():
        a = plain(prev, cur, active=active, return_intermediate=True)
        b = fast(prev, cur, active=active, return_intermediate=True)
        single = fast(prev[1:2], cur[1:2], active=active[1:2])
    assert a.executed == b.executed == list(range(9))
    assert torch.allclose(a.frame, b.frame, atol=1e-4)
    assert all(torch.allclose(x, y, atol=1e-4) for x, y in zip(a.intermediate, b.intermediate))
    assert torch.allclose(single, b.frame[1:2], atol=1e-5)
    assert b.frame.shape == (3, 3, 40, 56)


def test_run_benchmarks_read_what_ran_from_the_output(tmp_path, monkeypatch):
    """The smoke and test-suite timings record what ran (parsed from the run's whole output: `make test`'s two
    pytest processes are summed), and a failure fails."""
    from vpbench.benchmarks import runs

    commands: list[str] = []

    def fake(output: str, code: int = 0):
        def timed(command, cwd):
            commands.append(" ".join(command))
            return {"command": " ".join(command), "returncode": code, "wall_s": 1.0, "child_cpu_s": 2.0,
                    "load_average_before": [1.0, 1.0, 1.0], "load_average_after": [1.0, 1.0, 1.0],
                    "output": output, "output_tail": output[-30:]}
        return timed

    monkeypatch.setattr(runs, "timed", fake("....\n3 failed, 466 passed, 19 deselected in 89.29s (0:01:29)\n", 1))
    assert runs.main(["tests", "--fast", "--out", str(tmp_path / "t.json")]) == 1
    report = json.loads((tmp_path / "t.json").read_text())
    assert (report["passed"], report["failed"], report["deselected"], report["pytest_s"]) == (466, 3, 19, [89.29])
    assert report["selection"] == runs.FAST_MARKERS and commands[-1].endswith("make --no-print-directory test-fast")
    assert "output" not in report  # the whole output is parsed, only its tail recorded
    two = ("555 passed, 9 skipped, 19 deselected in 203.76s (0:03:23)\n" + "x" * 5000 +
           "\n.....\n19 passed, 564 deselected in 244.40s (0:04:04)\nmake test: unit tests passed\n")
    monkeypatch.setattr(runs, "timed", fake(two))
    assert runs.main(["tests", "--out", str(tmp_path / "m.json")]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert (report["passed"], report["skipped"], report["deselected"]) == (574, 9, 583)
    assert report["pytest_s"] == [203.76, 244.40] and report["selection"] == "all"
    assert runs.main(["tests", "--one-process", "--out", str(tmp_path / "o.json")]) == 0
    assert commands[-1].endswith("-m pytest -q -p no:cacheprovider")  # the whole suite, no marker expression
    monkeypatch.setattr(runs, "timed", fake("112 of 112 steps (100%) done"))
    assert runs.main(["smoke", "--out", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["jobs"] == 112


def test_startup_benchmark_records_the_median_of_each_dry_run(tmp_path, monkeypatch):
    """Snakemake's start-up: each dry run's median, the example plugin on the path, and a failed run fails."""
    from vpbench.benchmarks import runs

    walls = iter([3.0, 9.0, 1.0, 7.0, 2.0, 8.0])
    seen = []

    def fake(command, cwd, env):
        seen.append((command[1:], env["PYTHONPATH"]))
        return {"command": " ".join(command), "returncode": 0, "wall_s": next(walls), "child_cpu_s": 1.5,
                "load_average_before": [1.0, 1.0, 1.0], "load_average_after": [2.0, 2.0, 2.0], "output_tail": "done"}

    monkeypatch.setattr(runs, "timed", fake)
    assert runs.main(["startup", "--repeats", "3", "--out", str(tmp_path / "s.json")]) == 0
    report = json.loads((tmp_path / "s.json").read_text())
    assert (report["builtin_all"]["wall_s"], report["plugin_compare"]["wall_s"]) == (2.0, 8.0)
    assert [arguments for arguments, _ in seen[:2]] == list(runs.STARTUP_RUNS.values())
    assert all("example-method" in path for _, path in seen)
    monkeypatch.setattr(runs, "timed", lambda command, cwd, env: {**fake(command, cwd, env), "returncode": 1})
    walls = iter([1.0] * 6)
    assert runs.main(["startup", "--repeats", "3", "--out", str(tmp_path / "f.json")]) == 1
