"""Pipeline configuration: schemas reject unknown keys and bad values by name; experiments resolve to stable ids."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from vpbench.pipeline.config import ConfigError, load_config, read_yaml
from vpbench.pipeline.plan import Plan
from vpbench.pipeline.spec import ExperimentSpec, TrainSpec

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ["config/config.yaml", "config/smoke.yaml"]


@pytest.fixture(scope="module")
def full() -> Plan:
    return Plan.from_files(["config/config.yaml"], root=ROOT)


def _plan(config: dict, tmp_path: Path, experiments: dict | None = None, tables: dict | None = None) -> Plan:
    config = copy.deepcopy(config)
    if experiments is not None:
        path = tmp_path / "experiments.yaml"
        path.write_text(yaml.safe_dump(experiments))
        config["experiments_file"] = str(path)
    if tables is not None:
        path = tmp_path / "tables.yaml"
        path.write_text(yaml.safe_dump(tables))
        config["tables_file"] = str(path)
    return Plan(config, root=ROOT)


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_configs_validate(name: str) -> None:
    plan = Plan.from_files([name], root=ROOT)
    assert plan.experiment_set.by_id
    for experiment in plan.experiment_set.by_id:
        ExperimentSpec.from_dict(plan.experiment_spec(experiment))


@pytest.mark.parametrize(
    ("path", "value", "culprit"),
    [
        (("colour",), "red", "colour"),  # unknown top-level key
        (("paths", "scratch"), "x", "scratch"),
        (("datasets", "kitti", "resolution"), "1x1", "resolution"),
        (("recipes", "paper", "learning_rate"), 1e-4, "learning_rate"),
        (("evaluation", "seeds"), [0], "seeds"),
        (("protocols", "kitti", "size"), "256 by 832", "protocols.kitti.size"),
        (("raw_data",), "download", "raw_data"),
        (("evaluation", "routing_seeds"), [], "evaluation.routing_seeds"),
    ],
)
def test_unknown_keys_and_bad_values_are_named(path: tuple[str, ...], value: object, culprit: str) -> None:
    config = load_config([ROOT / "config/config.yaml"])
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=culprit):
        Plan(config, root=ROOT)


def test_cross_references_are_checked(tmp_path: Path) -> None:
    config = load_config([ROOT / "config/config.yaml"])
    bad = copy.deepcopy(config)
    bad["configurations"]["city"]["protocols"] = ["cityscape"]
    with pytest.raises(ConfigError, match="cityscape"):
        Plan(bad, root=ROOT)
    bad = copy.deepcopy(config)
    bad["default_recipe"] = "fast"
    with pytest.raises(ConfigError, match="default_recipe"):
        Plan(bad, root=ROOT)


def test_experiments_file_rejects_unknown_keys(tmp_path: Path) -> None:
    config = load_config([ROOT / "config/config.yaml"])
    experiments = read_yaml(ROOT / "config/experiments.yaml")
    experiments["variants"]["dmvfn"]["optoins"] = {}
    with pytest.raises(ConfigError, match="optoins"):
        _plan(config, tmp_path, experiments=experiments)


def test_tables_must_name_known_variants(tmp_path: Path) -> None:
    config = load_config([ROOT / "config/config.yaml"])
    tables = read_yaml(ROOT / "config/tables.yaml")
    tables["tables"]["table5"]["rows"].append({"paper": "STEBS", "variant": "dmvfn-routing_magic"})
    with pytest.raises(ConfigError, match="dmvfn-routing_magic"):
        _plan(config, tmp_path, tables=tables)


def test_recipe_schema_covers_train_spec() -> None:
    """Every TrainSpec field (but dataset/data_root) can be set in a recipe, and nothing else but launch keys."""
    schema = json.loads((ROOT / "config/schema/config.schema.json").read_text())
    recipe_keys = set(schema["$defs"]["recipe"]["properties"])
    spec_keys = {f.name for f in dataclasses.fields(TrainSpec)} - {"dataset", "data_root"}
    assert spec_keys <= recipe_keys
    assert recipe_keys - spec_keys == {"gpus", "cost_factor", "runtime_minutes"}


def test_ids_are_readable_and_stable(full: Plan) -> None:
    assert "dmvfn-routing_none-city" in full.experiment_set.by_id
    assert "dmvfn-scales_4_2_1-city" not in full.experiment_set.by_id  # the paper's default is just "dmvfn"
    exp = full.experiment_set.by_id["dmvfn-routing_none-kitti"]
    assert (exp.method, exp.options, exp.train_dataset, exp.recipe) == ("dmvfn", {"routing": "none"}, "kitti", "paper")
    assert full.experiment_set.experiment_id("dmvfn", "city", recipe="official", seed=7) == "dmvfn-city-official-seed7"
    # Every output path derives from the id.
    assert full.paths.score_file("dvf-kitti", "kitti") == "results/scores/dvf-kitti/kitti.parquet"


def test_sources_and_checkpoints(full: Plan) -> None:
    assert full.experiment_set.by_id["copy_last-city"].source == "untrained"
    assert full.evaluation_checkpoint("copy_last-city") is None
    beta = full.experiment_set.by_id["dmvfn-beta_0.3-kitti"]
    assert not beta.trained_here and beta.checkpoint_of == "dmvfn-kitti"
    assert full.evaluation_checkpoint(beta.id) == "results/checkpoints/dmvfn-kitti/final.pt"
    official = full.experiment_set.by_id["dmvfn-official-city"]
    assert official.source == "official-weights" and official.weights.endswith("dmvfn_city.pkl")
    spec = full.experiment_spec(official.id)
    assert spec["train"] is None and spec["weights"] == official.weights


def test_an_experiment_takes_its_weights_from_one_place(full: Plan) -> None:
    """Own training, checkpoint_of and released weights exclude each other, so the one decision of the evaluated
    checkpoint (Plan.evaluation_checkpoint) is what the spec, the evaluate rule and the job graph all read."""
    from vpbench.pipeline.jobs import Job, JobGraph

    experiments = full.experiment_set.by_id
    with pytest.raises(ValueError, match="one place, not from its own training and released weights"):
        dataclasses.replace(experiments["dmvfn-city"], weights="resources/weights/dmvfn_city.pkl")
    with pytest.raises(ValueError, match="one place, not from checkpoint_of and released weights"):
        dataclasses.replace(experiments["dmvfn-beta_0.3-kitti"], weights="resources/weights/dmvfn_kitti.pkl")
    graph = JobGraph(full)
    origins = set()
    for exp in experiments.values():
        checkpoint = full.evaluation_checkpoint(exp.id)
        origins.add("trained" if exp.trained_here else "checkpoint_of" if exp.checkpoint_of else
                    "weights" if exp.weights else "untrained")
        expected = [checkpoint] if checkpoint else []
        assert graph.inputs(Job("evaluate", (exp.id, exp.protocols[0])))[2:] == expected, exp.id
        assert (full.experiment_spec(exp.id)["weights"] or None) == (None if exp.trained_here else checkpoint), exp.id
    assert origins == {"trained", "checkpoint_of", "weights", "untrained"}


def test_every_output_maps_to_the_rule_that_writes_it(full: Plan) -> None:
    """The job graph matches files with the patterns the rule files declare and Snakemake's wildcard constraints."""
    from vpbench.pipeline.jobs import Job, JobGraph

    graph, paths = JobGraph(full), full.paths
    assert graph.job_of(paths.score_file("dmvfn-beta_0.3-kitti", "kitti")) == Job("evaluate", ("dmvfn-beta_0.3-kitti", "kitti"))
    assert graph.job_of(paths.compare_steps_file("mine", "kitti", "pdf")) == Job("compare_steps_figure", ("mine", "kitti"))
    assert graph.job_of(paths.table_file("table5", "tex")) == Job("table", ("table5",))
    assert graph.job_of(paths.official_weights_file("dmvfn_city")) == Job("official_weights", ("dmvfn_city",))
    assert graph.job_of(paths.manifest_file("kitti")) == Job("prepare", ("kitti",))
    # outside the constraints (an upper-case id, a table not named table<N>), no rule writes it, as for Snakemake
    assert graph.job_of(paths.score_file("DMVFN-city", "kitti")) is None
    assert graph.job_of(paths.table_file("summary", "md")) is None
    assert graph.job_of("config/paper/table1.csv") is None
    assert set(paths.rule_outputs()) == {"prepare", "spec", "train", "official_weights", "evaluate", "complexity",
                                         "predictions", "table", "figure", "compare_table", "compare_steps_figure",
                                         "results_page"}


def test_full_config_covers_every_table_row(full: Plan) -> None:
    """Every variant a table or figure names is trained/evaluated on that table's configuration."""
    for name in full.artefacts.tables:
        plan = full.artefacts.table_plan(name)
        for row in plan.get("rows", []):
            if "variant" in row:
                assert row["status"] == "run", (name, row)
        for panel in plan.get("panels", []):
            assert all(panel["cells"].values()), (name, panel)
    for name in full.artefacts.figures:
        assert full.artefacts.figure_inputs(name), name


def test_smoke_config_is_a_reduction_of_the_full_one() -> None:
    smoke = Plan.from_files(["config/smoke.yaml"], root=ROOT)
    full = Plan.from_files(["config/config.yaml"], root=ROOT)
    assert set(smoke.artefacts.tables) == set(full.artefacts.tables) and set(smoke.artefacts.figures) == set(full.artefacts.figures)
    # ... apart from the extra training seeds the smoke run exercises (config/smoke.yaml: training_seeds)
    extra_seeds = {e.id for e in smoke.experiment_set.by_id.values() if e.seed != smoke.config["seed"]}
    assert extra_seeds and all(smoke.experiment_set.get(e).variant in smoke.config["training_seeds"] for e in extra_seeds)
    assert set(smoke.experiment_set.by_id) - extra_seeds < set(full.experiment_set.by_id)
    assert all(e.recipe in (None, "smoke") for e in smoke.experiment_set.by_id.values())


def test_training_seeds_name_known_variants(tmp_path: Path) -> None:
    config = load_config([ROOT / "config/smoke.yaml"])
    config["training_seeds"] = {"dmvfn-routing_nope": [1, 2]}
    with pytest.raises(ConfigError, match="training_seeds: unknown variant 'dmvfn-routing_nope'"):
        Plan(config, root=ROOT)


def test_gpu_hours_follow_the_written_assumptions(full: Plan) -> None:
    estimate = full.estimate(["dmvfn-city"])
    conf, proto = full.config["configurations"]["city"], full.config["protocols"]["cityscapes"]
    seeds = len(full.config["evaluation"]["routing_seeds"])
    assert estimate.train_hours == pytest.approx(conf["train_gpu_hours"])
    assert estimate.eval_hours == pytest.approx(proto["eval_gpu_hours"] * seeds)
    total = full.estimate()
    assert total.train_jobs == sum(e.trained_here for e in full.experiment_set.by_id.values())
    assert "GPU-hours" in total.summary()
