"""A kept reply of the method-check child stands in for it only when nothing that decides the reply has changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from vpbench.pipeline import checks
from vpbench.pipeline.config import ConfigError, load_config, read_validated
from vpbench.pipeline.plan import Plan


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict]:
    """An empty reply folder, and a stand-in child (the real one is tests/test_pipeline_torch_free.py's): it replies
    as ``python -m vpbench.pipeline.checks`` would, failing on a ``beta`` option above 1; the requests it got."""
    monkeypatch.setattr(checks, "reply_dir", lambda: tmp_path / "method-checks")
    requests: list[dict] = []

    def child(command, *args, input: str, **kwargs):
        assert command[1:] == ["-m", "vpbench.pipeline.checks"]
        request = json.loads(input)
        requests.append(request)
        beta = (request["config"].get("method_options") or {}).get("beta", 1.0)
        message = "method_options.beta (experiment x): beta must be in (0, 1]" if beta > 1 else None
        reply = {"answers": [], "message": message, "unplanned": None}
        return subprocess.CompletedProcess(command, checks.METHOD_CHECK_FAILED if message else 0, json.dumps(reply), "")

    monkeypatch.setattr(checks.subprocess, "run", child)
    return requests


def test_a_kept_reply_stands_in_for_the_child(children: list[dict]) -> None:
    config = load_config(["config/smoke.yaml"])
    Plan(config, method_checks="child")
    assert len(children) == 1
    (kept,) = checks.reply_dir().iterdir()
    Plan(config, method_checks="child")
    assert len(children) == 1, "the second plan asked the child again"
    kept.write_text("{not json")  # a damaged reply counts as none: the child is asked again, and its reply kept
    assert checks.read_cached_reply(kept.stem) is None
    Plan(config, method_checks="child")
    assert len(children) == 2 and checks.read_cached_reply(kept.stem) is not None


def test_a_kept_failure_is_raised_as_the_child_raised_it(children: list[dict]) -> None:
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
