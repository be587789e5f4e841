"""GFLOPs conventions: the paper's DMVFN (w/o r) figures, the routing head, usage-weighted costs, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import DMVFN
from vpbench.cli import main
from vpbench.evaluation.complexity import analyse
from vpbench.utils import parse_size  # the one size parser; `vpbench complexity --size` reads it

# Paper Tables 1-2, "DMVFN (w/o r)" GFLOPs, and the resolution each was counted at (H, W).
PAPER_WITHOUT_ROUTING = {(512, 1024): 24.51, (256, 832): 9.96, (480, 864): 19.39, (256, 448): 5.36}


@pytest.fixture(scope="module")
def paper_net() -> DMVFN:
    return DMVFN().eval()


@pytest.mark.parametrize("size", list(PAPER_WITHOUT_ROUTING))
def test_paper_convention_matches_the_paper_within_half_a_percent(paper_net: DMVFN, size: tuple[int, int]) -> None:
    report = analyse(paper_net, *size, with_ptflops=False)
    paper = PAPER_WITHOUT_ROUTING[size]
    assert abs(report.gflops["paper_convention"] - paper) / paper < 0.005


def test_full_count_adds_warps_and_the_routing_head(paper_net: DMVFN) -> None:
    report = analyse(paper_net, 256, 448)
    g, fv = report.gflops, report.counters["fvcore"]
    assert fv["warps_gflops"] > 0 and fv["routing_head_gflops"] > 0
    assert g["full"] == pytest.approx(g["paper_convention"] + fv["warps_gflops"] + fv["routing_head_gflops"])
    # the head runs two 3x3 convs at full resolution: (6*32 + 32*32) * 9 MACs per pixel, plus pooling
    assert fv["routing_head_gflops"] == pytest.approx((6 * 32 + 32 * 32) * 9 * 256 * 448 / 1e9, rel=0.01)
    assert sum(report.per_block_gflops) == pytest.approx(g["paper_convention"], rel=1e-9)
    # ptflops also counts bias and activation elements: a little above fvcore, never below
    assert g["paper_convention"] < report.counters["ptflops"]["paper_convention"] < 1.02 * g["paper_convention"]


def test_routed_expected_cost_follows_usage_rates(paper_net: DMVFN) -> None:
    usage = [1, 0, 0, 0, 0, 0, 0, 0, 1]
    report = analyse(paper_net, 256, 448, usage_rates=usage, usage_source="test", with_ptflops=False)
    blocks = report.per_block_gflops
    assert report.gflops["routed_expected_paper_convention"] == pytest.approx(blocks[0] + blocks[8])
    half = analyse(paper_net, 256, 448, with_ptflops=False)  # default: beta = 0.5 per block
    assert half.gflops["routed_expected_paper_convention"] == pytest.approx(half.gflops["paper_convention"] / 2)
    with pytest.raises(ValueError, match="3 usage rates for 9 blocks"):
        analyse(paper_net, 64, 64, usage_rates=[1, 1, 1], with_ptflops=False)


def test_cli_prints_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.json"
    assert main(["complexity", "dmvfn", "--size", "64x128", "--no-ptflops", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3,559,930 parameters (11,305 in the routing head)" in printed
    data = json.loads(out.read_text())
    assert (data["height"], data["width"]) == (64, 128)
    assert set(data["gflops"]) == {"paper_convention", "full", "routed_expected_paper_convention", "routed_expected_full"}


def test_parse_size_rejects_garbage() -> None:
    assert parse_size("512x1024") == (512, 1024)
    with pytest.raises(ValueError, match="HEIGHTxWIDTH"):
        parse_size("512*1024")
