"""Released DMVFN weights: verification, trust-on-first-use hashes, clear messages when absent or wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from models import DMVFN, save_official_format
from vpbench.cli import main
from vpbench.evaluation.official import LOCK_NAME, OfficialWeightsError, verify


def test_a_file_in_the_official_format_verifies_and_its_hash_is_recorded(tmp_path: Path) -> None:
    torch.manual_seed(0)
    save_official_format(DMVFN(), tmp_path / "dmvfn_kitti.pkl")
    assert verify("dmvfn_kitti.pkl", tmp_path) == tmp_path / "dmvfn_kitti.pkl"
    lock = json.loads((tmp_path / LOCK_NAME).read_text())
    assert set(lock) == {"dmvfn_kitti.pkl"} and len(lock["dmvfn_kitti.pkl"]) == 64
    # a different file under the same name is refused afterwards
    torch.manual_seed(1)
    save_official_format(DMVFN(), tmp_path / "dmvfn_kitti.pkl")
    with pytest.raises(OfficialWeightsError, match="does not match the recorded"):
        verify("dmvfn_kitti.pkl", tmp_path)


def test_missing_weights_say_where_to_place_them(tmp_path: Path) -> None:
    with pytest.raises(OfficialWeightsError) as err:
        verify("dmvfn_city.pkl", tmp_path)
    assert str(tmp_path / "dmvfn_city.pkl") in str(err.value)
    assert "1jILbS8Gm4E5Xx4tDCPZh_7rId0eo8r9W" in str(err.value)


def test_a_wrong_file_is_refused_and_not_recorded(tmp_path: Path) -> None:
    save_official_format(DMVFN(scales=[4, 2, 1]), tmp_path / "dmvfn_vimeo.pkl")
    with pytest.raises(OfficialWeightsError, match="missing keys"):
        verify("dmvfn_vimeo.pkl", tmp_path)
    assert not (tmp_path / LOCK_NAME).exists()


def test_cli_verify_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_official_format(DMVFN(), tmp_path / "dmvfn_city.pkl")
    assert main(["official-weights", "verify", "dmvfn_city.pkl", "--dir", str(tmp_path)]) == 0
    assert main(["official-weights", "verify", "--dir", str(tmp_path)]) == 1  # the other two are missing
    out = capsys.readouterr().out
    assert "ok  " in out and "dmvfn_kitti.pkl is missing" in out
