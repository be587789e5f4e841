# Reproduction of "A Dynamic Multi-Scale Voxel Flow Network for Video Prediction" (DMVFN, CVPR 2023).
# A thin graph of files over the `vpbench` CLI; what runs is declared in config/ (see docs/pipeline.md):
#   snakemake -n                                         full reproduction: every job + GPU-hours estimate
#   snakemake --profile workflow/profiles/local --resources gpu=4
#   snakemake --profile workflow/profiles/smoke --configfile config/smoke.yaml --cores 2   (= make smoke)
#   snakemake reports/tables/table1.md                   one artefact and only what it needs
#   snakemake --report report.html                       every table and figure with captions
#   snakemake compare --config method=<name>             a new method against DMVFN, DVF, PredNet, copy-last
#                                                        (docs/adding-a-method.md)
import sys

from snakemake.resources import Resources
from snakemake.utils import min_version, validate

# Torch-free (a test says so): every Snakemake process imports this, SLURM jobs included.
from vpbench.pipeline.checks import resolve_method_trained
from vpbench.pipeline.config import DEFAULT_CONFIG, deep_merge, load_config, resolve_protocols, yaml_typed
from vpbench.pipeline.jobs import command_line_targets
from vpbench.pipeline.plan import Plan
from vpbench.pipeline.resources import TARGET_RULES

min_version("8.0")

# No `configfile:` directive: it would merge config/config.yaml under --configfile config/smoke.yaml, and the
# smoke run must not inherit the full reproduction's experiments.
CONFIG_FILES = [str(path) for path in workflow.overwrite_configfiles] or [DEFAULT_CONFIG]
if not workflow.overwrite_configfiles:
    # `--config key=value` overrides still apply, on top of the default file; the vpbench commands below read
    # the config files themselves, so put lasting changes in a file passed with --configfile.
    config.update(deep_merge(load_config(CONFIG_FILES), config))
# `--config key=value` values typed as YAML types them (Snakemake leaves `false`, `null` and nested numbers as strings).
config.update(deep_merge(config, yaml_typed(workflow.config_settings.overwrite_config)))
# Each protocol's dataset and size from its catalog module (data_prep/catalog/), the config's overrides on top.
config["protocols"] = resolve_protocols(config)
validate(config, "config/schema/config.schema.json")
# The main process builds every planned method once, in a child process (torch stays out of Snakemake's), which also
# answers whether a method that is not built in trains and routes; the jobs take its answers from the environment.
PLAN = Plan(config, method_checks="child" if workflow.is_main_process else "skip")
# A compared method with nothing to train gets no training job unless the command line says otherwise (the plan's
# answer, for the jobs' commands).
resolve_method_trained(config)

if workflow.is_main_process:
    # The estimate of the jobs the command line's targets need, beside the full run's (vpbench.pipeline.jobs).
    print(PLAN.estimate_summary(command_line_targets(workflow, sys.argv[1:])), file=sys.stderr)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/complexity.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/compare.smk"


# Every rule that runs a command asks the scheduler for its job's GPUs, CPUs, memory and wall time, all derived from
# the config (JOB_RESOURCES, vpbench.pipeline.resources.JobResources.snakemake_resources: the same three resources
# for every rule, `gpu` too for train and evaluate). Attached here, after the rules, as a rule's own `resources:`
# would be: over --default-resources, under a profile's set-resources.
for _rule in workflow.rules:
    if _rule.name not in TARGET_RULES:
        _rule.resources.update(Resources.from_mapping(JOB_RESOURCES.snakemake_resources(_rule.name)))
        _rule.resources.update(Resources.from_mapping(workflow.resource_settings.overwrite_resources.get(_rule.name, {})))


if workflow.is_main_process and missing_official_weights():
    print(
        "Official DMVFN weights not on disk (rows 'official weights' of Tables 1-2): "
        + ", ".join(missing_official_weights())
        + ". Their jobs download them (`vpbench official-weights fetch`); offline, download them from the official"
        " README's links and place them there (`vpbench official-weights where` lists the links), or drop"
        " `official_weights:` from the config.",
        file=sys.stderr,
    )


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        PLAN.artefacts.report_targets(),
        # The raw files behind them too, so that a removed score file is rebuilt (and what reads it re-rendered).
        PLAN.artefacts.artefact_inputs(),
        # The results page of every table and figure (vpbench.reporting.page).
        PATHS.results_page,
