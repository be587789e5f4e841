"""vpbench.benchmarks.latency at a tiny size: the JSON it writes, its ratios, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from vpbench.benchmarks import latency as bench_latency


def test_tiny_run_writes_consistent_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench" / "latency.json"
    argv = ["--size", "32x48", "--repeats", "2", "--warmup", "1", "--frames", "noise", "--no-progress"]
    argv += ["--out", str(out)]
    assert bench_latency.main(argv) == 0
    result = json.loads(out.read_text())
    assert (result["height"], result["width"], result["batch"], result["repeats"]) == (32, 48, 1, 2)
    assert result["torch_version"] == torch.__version__ and result["device_type"] == "cpu"
    assert set(result["methods"]) == set(bench_latency.ALL_CASES)
    for summary in result["methods"].values():
        times = summary["times_s"]
        assert len(times) == 2 and all(t > 0 for t in times)
        assert summary["min_s"] == min(times) and summary["min_s"] <= summary["median_s"]
    routed = result["methods"]["dmvfn_routed"]
    assert 0 <= routed["mean_active_blocks"] <= 9 and len(routed["active_blocks_per_run"]) == 2
    dvf = result["methods"]["dvf"]["median_s"]
    assert result["ratios"]["dvf_over_dmvfn_routed"] == pytest.approx(dvf / routed["median_s"])
    assert result["ratios"]["dvf_over_dmvfn_all_blocks"] == pytest.approx(
        dvf / result["methods"]["dmvfn_all_blocks"]["median_s"]
    )
    assert "dvf_over_dmvfn_routed" in capsys.readouterr().out
    assert [p.name for p in out.parent.iterdir()] == ["latency.json"]  # no temporary file left behind


def test_subset_of_cases_has_no_ratio_without_dvf(tmp_path: Path) -> None:
    out = tmp_path / "latency.json"
    argv = ["--size", "16x16", "--repeats", "1", "--warmup", "0", "--frames", "noise", "--cases", "dmvfn_routed",
            "--no-progress", "--out", str(out)]
    bench_latency.main(argv)
    result = json.loads(out.read_text())
    assert list(result["methods"]) == ["dmvfn_routed"] and result["ratios"] == {}


def test_real_frames_are_two_video_frames_at_the_requested_size() -> None:
    context = bench_latency.real_context(36, 64)
    assert context.shape == (1, 2, 3, 36, 64)
    assert 0.0 <= float(context.min()) and float(context.max()) <= 1.0
    assert not torch.equal(context[:, 0], context[:, 1])


def test_bad_arguments_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench_latency.main(["--size", "720p"])
    assert exit_info.value.code == 2 and "HEIGHTxWIDTH" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown case 'pwc'"):
        bench_latency.build_cases(["pwc"], torch.device("cpu"), None)
