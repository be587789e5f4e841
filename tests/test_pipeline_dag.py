"""The Snakemake graph: lint-clean, the full reproduction lists every experiment, one artefact pulls only its inputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SMOKE_CONFIG, Workflow, job_counts, offline_env, requires_snakemake
from vpbench.pipeline.jobs import JobGraph
from vpbench.pipeline.paths import LOG_PATTERNS, WILDCARD_CONSTRAINTS
from vpbench.pipeline.plan import Plan
from vpbench.pipeline.resources import GPU_RULES, TARGET_RULES, JobResources

pytestmark = requires_snakemake


def test_dry_run_lists_the_full_reproduction(workflow: Workflow) -> None:
    plan = Plan.from_files([ROOT / "config/config.yaml"], root=ROOT)
    result = workflow.snakemake("-n", "--directory", str(workflow.root), "--rerun-triggers", "mtime", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    # the planner's job graph (the estimate, docs/pipeline.md's counts) is Snakemake's DAG, rule by rule
    assert counts == JobGraph(plan).counts()
    trained = {e.id for e in plan.experiment_set.by_id.values() if e.trained_here}
    assert counts["train"] == len(trained)
    assert counts["table"] == len(plan.artefacts.tables) == 13
    assert counts["figure"] == len(plan.artefacts.figures) == 7
    for experiment in ("dmvfn-city", "dmvfn-routing_none-kitti", "dvf-ucf101", "prednet-kitti", "dmvfn-scales_1_2_4-ucf101", "dmvfn-ucfsports"):
        assert f"results/checkpoints/{experiment}/final.pt" in result.stdout
    assert "results/scores/dmvfn-official-city/cityscapes.parquet" in result.stdout
    assert "GPU-hours estimate of the full run" in result.stderr


def dry_run_jobs(stdout: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(rule, wildcards, resources) of every job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", stdout)[1:]:
        fields = dict(re.findall(r"^    (\w+): (.*)$", block, flags=re.M))
        wildcards = dict(item.split("=", 1) for item in fields["wildcards"].split(", ")) if "wildcards" in fields else {}
        resources = dict(item.split("=", 1) for item in fields.get("resources", "").split(", ") if item)
        jobs.append((re.match(r"(?:local)?rule (\w+):", block)[1], wildcards, resources))
    return jobs


def test_one_table_pulls_only_its_experiments(workflow: Workflow) -> None:
    # a profile's set-resources wins over the requests the Snakefile attaches, as over a rule's own resources
    result = workflow.snakemake("-n", "reports/tables/table6.md", "--set-resources", "table:runtime=77", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    counts = job_counts(result.stdout)
    plan = Plan.from_files([ROOT / "config/config.yaml"], root=ROOT, method_checks="skip")
    assert counts == JobGraph(plan).counts(["reports/tables/table6.md"])
    # the estimate printed is that of the table's jobs, with the full run's beside it
    estimate = plan.estimate_targets(["reports/tables/table6.md"])
    assert f"GPU-hours estimate of reports/tables/table6.md" in result.stderr and estimate.headline() in result.stderr
    assert "Full run: " + plan.estimate_targets([]).headline() in result.stderr
    assert estimate.train_jobs == counts["train"] and estimate.eval_jobs == counts["evaluate"]
    # Table 6: [1], [2, 1] and [4, 2, 1] (= dmvfn) on Cityscapes and KITTI.
    assert counts["train"] == 6 and counts["table"] == 1
    assert "figure" not in counts and "predictions" not in counts
    assert "dvf-" not in result.stdout
    # every job asks the scheduler for what vpbench.pipeline.resources derives (GPUs only on the GPU rules)
    requests = JobResources(plan.config, plan)
    jobs = dry_run_jobs(result.stdout)
    assert len(jobs) == sum(counts.values())
    for rule, wildcards, resources in jobs:
        if rule in TARGET_RULES:
            continue
        request = requests.request(rule, wildcards)
        runtime = 77 if rule == "table" else request.runtime
        asked = {"cpus_per_task": str(request.cpus), "mem_mb": str(request.mem_mb), "runtime": str(runtime)}
        if rule in GPU_RULES:
            asked["gpu"] = str(request.gpus)
        assert {key: resources.get(key) for key in ("cpus_per_task", "mem_mb", "runtime", "gpu")} == {
            "gpu": None, **asked}, (rule, wildcards)
    assert {rule for rule, _, resources in jobs if resources.get("gpu") not in (None, "0")} == {"train", "evaluate"}


#: ``snakemake --lint`` of the workflow in this folder, then what its rules declare, from Snakemake's own rules
LINT_AND_RULES_SCRIPT = """
import json, sys
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

with SnakemakeApi(OutputSettings()) as api:
    workflow_api = api.workflow(resource_settings=ResourceSettings(cores=1), snakefile=Path("Snakefile"),
                                workdir=Path("."), config_settings=ConfigSettings(configfiles=[Path(sys.argv[1])]))
    lints = workflow_api.lint()
    rules = {rule.name: {"output": [str(f) for f in rule.output], "log": [str(f) for f in rule.log]}
             for rule in workflow_api._workflow.rules}  # the workflow the lint read
    print(json.dumps({"lints": lints, "rules": rules}))
"""


def test_lint_is_clean_and_the_rules_write_the_layout_of_paths(workflow: Workflow) -> None:
    """The rule files declare their outputs and logs with vpbench.pipeline.paths, and the job graph matches files
    with Paths.rule_outputs: the two are the same table (one parse of the paper's workflow for both checks)."""
    config = ROOT / "config/config.yaml"
    result = subprocess.run([sys.executable, "-c", LINT_AND_RULES_SCRIPT, str(config)], cwd=workflow.root,
                            env=offline_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["lints"] is False, result.stdout + result.stderr
    rules = found["rules"]
    paths = Plan.from_files([config], root=ROOT, method_checks="skip").paths
    constrained = re.compile(r"\{(\w+),([^{}]*)\}")  # Snakemake writes the global constraints into each pattern
    outputs = [f for rule in rules.values() for f in rule["output"]]
    assert {(m[1], m[2]) for f in outputs for m in constrained.finditer(f)} <= set(WILDCARD_CONSTRAINTS.items())
    declared = {name: [constrained.sub(r"{\1}", f) for f in rule["output"]] for name, rule in rules.items()
                if name not in TARGET_RULES}
    assert declared == paths.rule_outputs()
    assert {name: [constrained.sub(r"{\1}", f) for f in rule["log"]] for name, rule in rules.items()
            if name not in TARGET_RULES} == {name: [paths.log_file(name)] for name in declared}
    # the smoke config's rules instead of official_weights (their patterns: the same Paths methods)
    assert set(LOG_PATTERNS) == set(declared) | {"smoke_data", "official_standin"}


def test_bad_config_stops_the_workflow_with_the_key(tmp_path: Path, workflow: Workflow) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMOKE_CONFIG.read_text() + "\nlearning_rate: 0.1\n")
    result = workflow.snakemake("-n", "--configfile", str(bad), timeout=300)
    assert result.returncode != 0
    assert "learning_rate" in result.stdout + result.stderr
