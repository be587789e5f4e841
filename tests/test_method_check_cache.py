"""A kept reply of the method-check child stands in for it only when nothing that decides the reply has changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vpbench.pipeline import checks
from vpbench.pipeline.config import ConfigError, load_config, read_validated
from vpbench.pipeline.plan import Plan


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """An empty reply folder, and the command lines of the child processes started."""
    monkeypatch.setattr(checks, "reply_dir", lambda: tmp_path / "method-checks")
    started: list[list[str]] = []
    real_run = subprocess.run

    def run(command, *args, **kwargs):
        started.append(list(command))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(checks.subprocess, "run", run)
    return started


def test_a_kept_reply_stands_in_for_the_child(children: list[list[str]]) -> None:
    config = load_config(["config/smoke.yaml"])
    Plan(config, method_checks="child")
    assert len(children) == 1
    (kept,) = checks.reply_dir().iterdir()
    Plan(config, method_checks="child")
    assert len(children) == 1, "the second plan asked the child again"
    kept.write_text("{not json")  # a damaged reply is asked again, then kept whole
    Plan(config, method_checks="child")
    assert len(children) == 2
    assert checks.read_cached_reply(kept.stem) is not None


def test_a_kept_failure_is_raised_as_the_child_raised_it(children: list[list[str]]) -> None:
    config = load_config(["config/smoke.yaml"])
    config["method"], config["method_name"], config["method_options"] = "dmvfn", "dmvfn_wide", {"beta": 2.0}
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"method_options\.beta .*beta must be in \(0, 1\]"):
            Plan(config, method_checks="child")
    assert len(children) == 1


def test_the_key_follows_the_checks_and_the_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = load_config(["config/smoke.yaml"])
    variants = read_validated(config["experiments_file"], "experiments.schema.json")["variants"]  # what Plan passes
    key = checks.reply_cache_key(config, variants)
    assert key and key == checks.reply_cache_key(config, variants)
    edited = {**variants, "dmvfn": {**variants["dmvfn"], "options": {**variants["dmvfn"].get("options", {}), "beta": 0.5}}}
    assert checks.reply_cache_key(config, edited) != key  # another option: another check
    assert checks.reply_cache_key({**config, "method": "vpbench_example_method:build"}, variants) is None
    plugin = {**variants, "mine": {"method": "my_module:build"}}
    assert checks.reply_cache_key(config, plugin) is None  # a method that is not built in: always the child
    # a checked source's bytes are part of the key
    (tmp_path / "models").mkdir()
    source = tmp_path / "models" / "dmvfn.py"
    source.write_text("A = 1\n")
    monkeypatch.setattr(checks, "_REPO", tmp_path)
    monkeypatch.setattr(checks, "CHECKED_SOURCES", ("models",))
    before = checks.reply_cache_key(config, variants)
    source.write_text("A = 2\n")
    assert checks.reply_cache_key(config, variants) != before
