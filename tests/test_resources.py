"""Cluster requests derived from the configuration (vpbench.pipeline.resources)."""

from __future__ import annotations

import copy

import pytest

from vpbench.pipeline.config import load_config
from vpbench.pipeline.resources import JobResources


@pytest.fixture(scope="module")
def paper_config():
    return load_config(["config/config.yaml"])


def test_paper_training_asks_for_its_recipe_gpus_and_a_wall_time_from_the_estimate(paper_config):
    resources = JobResources(paper_config)
    request = resources.train("dmvfn-vimeo")
    assert request.gpus == request.processes == paper_config["recipes"]["paper"]["gpus"] == 4
    workers = paper_config["recipes"]["paper"]["num_workers"]
    assert request.cpus == 4 * (workers + 1)  # one main process + the recipe's num_workers per GPU
    # 86 reference GPU-h over 4 GPUs with the 1.5 margin
    assert request.runtime == pytest.approx(86 / 4 * 60 * 1.5, abs=1)
    # Cityscapes (140 GPU-h) exceeds the cap: the job is cut and resumes from last.pt when restarted
    assert resources.train("dmvfn-city").runtime == resources.settings["max_runtime"]


def test_gpus_only_where_the_device_is_cuda(paper_config):
    assert JobResources(paper_config).evaluate("dmvfn-city", "cityscapes").gpus == 1
    on_cpu = copy.deepcopy(paper_config)
    on_cpu["evaluation"]["device"] = "cpu"
    on_cpu["recipes"]["paper"]["gpus"] = 0
    resources = JobResources(on_cpu)
    assert resources.evaluate("dmvfn-city", "cityscapes").gpus == 0
    assert resources.train("dmvfn-city").gpus == 0
    assert resources.train("dmvfn-city").processes == 1
    assert all(resources.request(rule).gpus == 0 for rule in ("prepare", "table", "figure", "spec"))


def test_memory_grows_with_the_protocol_resolution(paper_config):
    resources = JobResources(paper_config)
    small = resources.evaluate("dmvfn-ucf101", "vimeo").mem_mb  # 256x448
    large = resources.evaluate("dmvfn-human36m", "human36m").mem_mb  # 1024x1024
    assert large > small


def test_config_section_overrides_defaults_and_smoke_jobs_fit_one_small_slot():
    smoke = JobResources(load_config(["config/smoke.yaml"]))
    assert smoke.request("prepare", {"dataset": "kitti"}).mem_mb == 2000
    assert smoke.request("table", {"table": "table1"}).runtime == 15
    train = smoke.train("dmvfn-city")
    assert (train.gpus, train.processes, train.cpus) == (0, 1, 1)
    two_ranks = JobResources(load_config(["config/smoke.yaml", "tests/cluster/reduced.yaml"])).train("dmvfn-city")
    assert (two_ranks.processes, two_ranks.cpus) == (2, 2)


def test_table_lists_every_rule(paper_config):
    table = JobResources(paper_config).table()
    for rule in ("prepare", "spec", "train", "evaluate", "complexity", "predictions", "table", "figure"):
        assert f"| {rule} |" in table


def test_docs_show_the_table_the_code_produces(paper_config):
    from pathlib import Path

    assert JobResources(paper_config).docs_table() in Path("docs/pipeline.md").read_text(), (
        "docs/pipeline.md: paste the output of `python -m vpbench.pipeline.resources` into 'Job resources'"
    )


def test_prepare_asks_for_one_cpu_per_worker_and_the_memory_they_use(paper_config):
    resources = JobResources(paper_config)
    request = resources.request("prepare", {"dataset": "cityscapes"})
    settings = resources.settings
    assert request.cpus == settings["rules"]["prepare"]["cpus"]
    assert request.mem_mb >= settings["prepare_main_mb"] + request.cpus * settings["prepare_worker_mb"]
    assert request.mem_mb < settings["prepare_main_mb"] + request.cpus * settings["prepare_worker_mb"] + 500
    more = copy.deepcopy(paper_config)
    more["resources"] = {"rules": {"prepare": {"cpus": 16}}}
    assert JobResources(more, resources.plan).request("prepare", {"dataset": "kitti"}).mem_mb > request.mem_mb


def test_the_prepare_rule_runs_one_worker_per_thread():
    from pathlib import Path

    rule = Path("workflow/rules/data.smk").read_text()
    assert "threads: JOB_RESOURCES.prepare().cpus" in rule and "--jobs {threads}" in rule


def test_job_counts_in_the_docs_are_the_graphs():
    """Every job count the README and docs/pipeline.md state is the planner's graph (= Snakemake's DAG:
    tests/test_pipeline_dag.py), so none drifts when a rule or an experiment is added."""
    import re
    from pathlib import Path

    from vpbench.pipeline.jobs import JobGraph
    from vpbench.pipeline.plan import Plan

    smoke = sum(JobGraph(Plan.from_files(["config/smoke.yaml"], method_checks="skip")).counts().values())
    readme = Path("README.md").read_text() + Path("docs/performance.md").read_text()
    stated = {int(n) for n in re.findall(r"make smoke`?[^.\n]*?\((\d+) jobs", readme)}
    assert stated == {smoke}, f"README/docs/performance.md: `make smoke` runs {smoke} jobs, the text says {stated}"
    # the reduced graph of the cluster test (its configs and targets: tests/cluster/slurm_test.sh)
    config = load_config(["config/smoke.yaml", "tests/cluster/reduced.yaml"])
    reports = config["paths"]["reports"]
    reduced = JobGraph(Plan(config, method_checks="skip")).counts([f"{reports}/tables/table9.md", f"{reports}/figures/fig1.png"])
    assert f"reduced smoke graph ({sum(reduced.values())} jobs" in " ".join(readme.split())
    # docs/pipeline.md's example of `snakemake -n <target>` is what it prints
    example = Plan.from_files(["config/config.yaml"], method_checks="skip").estimate_summary(["reports/tables/table5.md"])
    assert example in Path("docs/pipeline.md").read_text()
