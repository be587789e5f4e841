"""Which jobs of `snakemake compare` get the compare keys (vpbench.pipeline.compare_keys): only those whose output
depends on them, so that a comparison in a finished run re-runs nothing that exists (the dry run after a smoke run:
tests/test_compare_e2e.py)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, SMOKE_CONFIG
from vpbench.pipeline.compare_keys import CompareOverride
from vpbench.pipeline.config import load_config
from vpbench.pipeline.plan import Plan

#: a built-in method under a new name, with options: its experiments exist only with the compare keys
COMPARE_KEYS = {"method": "dmvfn", "method_name": "mine", "method_label": "Mine", "method_options": {"beta": 0.5},
                "method_trained": True, "compare_protocols": ["kitti"]}


def plans(**select) -> tuple[Plan, Plan]:
    config = load_config([SMOKE_CONFIG])
    if select:
        config["select"] = select
    return Plan(config, root=ROOT, method_checks="skip"), Plan({**config, **COMPARE_KEYS}, root=ROOT, method_checks="skip")


def spec_json(plan: Plan, experiment: str) -> str:
    return json.dumps(plan.experiment_spec(experiment), sort_keys=True)


@pytest.mark.parametrize("select", [{}, {"variants": ["copy_last"], "configurations": ["kitti"]}], ids=["smoke", "subset"])
def test_only_the_compared_methods_specs_get_the_override(select) -> None:
    base, compared = plans(**select)
    override = CompareOverride(compared)
    assert override.argument.startswith("--override ") and '"method": "dmvfn"' in override.argument
    # every experiment of the run without the keys: the same resolved spec with them, so no override
    for experiment in base.experiment_set.by_id:
        assert spec_json(base, experiment) == spec_json(compared, experiment), experiment
        assert override.spec(experiment) == "", experiment
    added = set(compared.experiment_set.by_id) - set(base.experiment_set.by_id)
    assert {"mine-kitti"} <= added
    # the compared method's experiments (and baselines planned only for the comparison) cannot be resolved without
    for experiment in added:
        assert override.spec(experiment) == override.argument, experiment
    assert '"beta": 0.5' in spec_json(compared, "mine-kitti")


def test_tables_and_figures_get_the_override_only_when_their_plan_changes() -> None:
    base, compared = plans()
    override = CompareOverride(compared)
    for name in base.artefacts.tables:
        same = base.artefacts.table_plan(name) == compared.artefacts.table_plan(name)
        assert override.table(name) == ("" if same else override.argument), name
    for name in base.artefacts.figures:
        same = base.artefacts.figure_plan(name) == compared.artefacts.figure_plan(name)
        assert override.figure(name) == ("" if same else override.argument), name
    # the smoke run plans every compared baseline already: no table or figure changes with the keys
    assert not any(override.table(name) for name in base.artefacts.tables)
    assert not any(override.figure(name) for name in base.artefacts.figures)


def test_without_compare_keys_no_job_gets_an_override() -> None:
    base, _ = plans()
    override = CompareOverride(base)
    assert override.argument == "" and override.values == {}
    assert all(override.spec(e) == "" for e in base.experiment_set.by_id)
    assert not any(override.table(name) for name in base.artefacts.tables)
    assert "base" not in vars(override)  # no second plan is built without the keys
