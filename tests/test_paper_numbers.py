"""The paper's reported numbers (config/paper/*.csv): shape as in the paper and values cross-checked by hand.

The expected values below were typed from the paper's text (dmvfn-paper.txt), independently of the CSVs.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vpbench.reporting.cells import read_paper_csv

PAPER_DIR = Path(__file__).resolve().parent.parent / "config" / "paper"

# table -> (number of rows, number of value columns) as printed in the paper
SHAPES = {
    "table1": (11, 14),  # 11 methods; per dataset GFLOPs + MS-SSIM t+1/3/5 + LPIPS t+1/3/5
    "table2": (5, 8),
    "table3": (2, 8),
    "table4": (2, 9),  # scale row + KITTI-A
    "table5": (5, 6),
    "table6": (3, 6),
    "table7": (4, 6),
    "table8": (3, 6),
    "table9": (4, 9),
    "table10": (4, 9),
    "table11": (9, 9),
    "table12": (4, 9),
    "table13": (3, 12),
}

# (table, row, column) -> value typed from the paper
SPOT_CHECKS = [
    ("table1", "DMVFN", "cityscapes/gflops", 12.71),
    ("table1", "DMVFN", "kitti/ms_ssim/t5", 70.52),
    ("table1", "OPT", "cityscapes/gflops", 313482.15),
    ("table1", "PredNet", "kitti/lpips/t3", 58.66),
    ("table1", "DMVFN (w/o r)", "kitti/gflops", 9.96),
    ("table2", "DMVFN", "vimeo/lpips/t1", 3.69),
    ("table2", "DVF", "davis/ms_ssim/t3", 55.47),
    ("table3", "STRPM", "human36m/lpips/t4", 10.44),
    ("table3", "DMVFN", "ucfsports/psnr/t6", 22.67),
    ("table4", "KITTI-A", "block8", 0.49),
    ("table5", "Copy last frame", "kitti/ms_ssim/t1", 58.31),
    ("table6", "[2, 1]", "cityscapes/ms_ssim/t5", 82.02),
    ("table7", "w/o path", "kitti/ms_ssim/t3", 77.53),
    ("table8", "gflops", "kitti/beta=0.3", 2.62),
    ("table9", "single supervision", "davis/ms_ssim/t1", 83.83),
    ("table10", "Random", "vimeo/ms_ssim/t1", 96.88),
    ("table11", "DMVFN [4, 1]", "davis/ms_ssim/t3", 74.35),
    ("table12", "w/o r, w/o path", "vimeo/ms_ssim/t1", 97.05),
    ("table13", "lpips", "vimeo/beta=0.8", 3.40),
    ("table13", "gflops", "cityscapes/beta=0.5", 12.71),
]

# "N/A" in the paper
MISSING = [
    ("table1", "Vid2vid", "kitti/ms_ssim/t1"),
    ("table1", "Seg2vid", "cityscapes/ms_ssim/t3"),
    ("table1", "SADM", "cityscapes/gflops"),
    ("table1", "CorrWise", "kitti/lpips/t3"),
    ("table2", "DYAN", "vimeo/gflops"),
]


@pytest.mark.parametrize("table", sorted(SHAPES))
def test_shape_matches_the_paper(table: str) -> None:
    values = read_paper_csv(PAPER_DIR / f"{table}.csv")
    assert values.shape == SHAPES[table]


@pytest.mark.parametrize(("table", "row", "column", "expected"), SPOT_CHECKS)
def test_values_match_the_paper_text(table: str, row: str, column: str, expected: float) -> None:
    assert read_paper_csv(PAPER_DIR / f"{table}.csv").at[row, column] == pytest.approx(expected)


@pytest.mark.parametrize(("table", "row", "column"), MISSING)
def test_not_available_stays_missing(table: str, row: str, column: str) -> None:
    assert math.isnan(read_paper_csv(PAPER_DIR / f"{table}.csv").at[row, column])


def test_methods_not_rerun_are_kept() -> None:
    rows = set(read_paper_csv(PAPER_DIR / "table1.csv").index) | set(read_paper_csv(PAPER_DIR / "table2.csv").index)
    rows |= set(read_paper_csv(PAPER_DIR / "table3.csv").index)
    for method in ("Vid2vid", "Seg2vid", "FVS", "SADM", "MCNET", "CorrWise", "OPT", "DYAN", "STRPM"):
        assert method in rows


def test_shared_rows_agree_across_tables() -> None:
    """DMVFN and w/o routing are repeated in several ablation tables; the copies must be identical."""
    dmvfn = {t: read_paper_csv(PAPER_DIR / f"{t}.csv") for t in ("table7", "table9", "table12")}
    for table in ("table9", "table12"):
        assert (dmvfn[table].loc["DMVFN"] == read_paper_csv(PAPER_DIR / "table10.csv").loc["STEBS"]).all()
    table1 = read_paper_csv(PAPER_DIR / "table1.csv")
    assert table1.at["DMVFN", "cityscapes/ms_ssim/t3"] == dmvfn["table7"].at["DMVFN", "cityscapes/ms_ssim/t3"]


def test_columns_name_protocol_metric_horizon() -> None:
    for table in SHAPES:
        for column in read_paper_csv(PAPER_DIR / f"{table}.csv").columns:
            parts = column.split("/")
            assert column.startswith("block") or len(parts) in (2, 3), column
