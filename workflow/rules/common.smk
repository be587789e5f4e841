# Wildcard constraints and the input/parameter functions of the rule files (all resolved by vpbench.pipeline).
import json
import os

from vpbench.pipeline.compare_keys import CompareOverride
from vpbench.pipeline.paths import WILDCARD_CONSTRAINTS
from vpbench.pipeline.resources import JobResources

# Every file's pattern: PATHS.score_file("{experiment}", "{protocol}") (vpbench.pipeline.paths, the one home).
PATHS = PLAN.paths
# Passed to the vpbench commands that read the config themselves (spec, render). The keys of `snakemake compare`
# given with --config travel as a JSON override (COMPARE.argument) only to the jobs whose output depends on them: a
# rule's parameters are a rerun trigger, and a comparison run in a finished run re-runs nothing that exists
# (vpbench.pipeline.compare_keys).
CONFIG_ARGS = " ".join(f"--config {path}" for path in CONFIG_FILES)
COMPARE = CompareOverride(PLAN)
EVAL_DEVICE = config["evaluation"].get("device", "cuda")
# GPUs, CPUs, memory and wall time of every job, from the config (vpbench.pipeline.resources; docs/pipeline.md):
# the Snakefile attaches them to every rule once the rules are defined.
JOB_RESOURCES = JobResources(config, PLAN)


def config_args(override=""):
    """CONFIG_ARGS, and the compare keys' --override when a job needs it (its parameter changes only then)."""
    return f"{CONFIG_ARGS} {override}" if override else CONFIG_ARGS


wildcard_constraints:
    **WILDCARD_CONSTRAINTS,


def parent_dir(wildcards, output):
    """The folder of the first output (a command's --out / --out-dir)."""
    return os.path.dirname(output[0])


# -- data ------------------------------------------------------------------------------------------------------
def raw_inputs(wildcards):
    return [PATHS.smoke_stamp] if config["raw_data"] == "smoke" else []


def prepare_args(wildcards):
    dataset = config["datasets"][wildcards.dataset]
    args = []
    if dataset.get("size"):
        args.append(f"--size {dataset['size']}")
    if dataset.get("subset"):
        args.append("--subset")
    if dataset.get("codec"):
        args.append(f"--codec {dataset['codec']}")
    if config["raw_data"] == "smoke":
        args.append("--no-download")
    args += dataset.get("extra_args", [])
    return " ".join(args)


def protocol_dataset(protocol):
    return config["protocols"][protocol]["dataset"]


# -- experiments -----------------------------------------------------------------------------------------------
def experiment(wildcards):
    return PLAN.experiment_set.get(wildcards.experiment)


def train_data(wildcards):
    exp = experiment(wildcards)
    if not exp.trained_here:
        raise ValueError(f"experiment {exp.id!r} is not trained by this workflow (source {exp.source})")
    return PATHS.manifest_file(exp.train_dataset)


def launcher(wildcards):
    """``vpbench train`` on the job's device; with more than one process, under torchrun in the one allocation
    (one process per allocated GPU, or ``resources.cpu_processes`` gloo processes on CPU; the batch is global)."""
    request = JOB_RESOURCES.train(wildcards.experiment)
    device = "cuda" if request.gpus else "cpu"
    if request.processes == 1:
        return f"vpbench train --device {device}"
    # SLURM_GPUS_ON_NODE: the GPUs SLURM granted (the request, unless a profile overrides `gpu`)
    processes = f"${{SLURM_GPUS_ON_NODE:-{request.processes}}}" if request.gpus else str(request.processes)
    return f"torchrun --standalone --nproc_per_node={processes} -m vpbench train --device {device}"


def evaluation_data(wildcards):
    return PATHS.manifest_file(protocol_dataset(wildcards.protocol))


def evaluation_data_root(wildcards):
    return PATHS.prepared_dir(protocol_dataset(wildcards.protocol))


def checkpoint_inputs(wildcards):
    """The evaluated checkpoint (trained here, the base experiment's, or released; none for an untrained method)."""
    evaluated = PLAN.evaluation_checkpoint(wildcards.experiment)
    return [evaluated] if evaluated else []


def checkpoint_arg(wildcards, input):
    return f"--checkpoint {input.checkpoint[0]}" if input.checkpoint else ""


# -- complexity ------------------------------------------------------------------------------------------------
def complexity_scores(wildcards):
    """A routed method's expected GFLOPs weight each block by its usage measured in the score file."""
    exp = experiment(wildcards)
    return [PATHS.score_file(exp.id, wildcards.protocol)] if exp.routed else []


def usage_arg(wildcards, input):
    return f"--usage-from {input.scores[0]}" if input.scores else ""


def method_options_json(wildcards):
    return json.dumps(experiment(wildcards).options, sort_keys=True)


# -- report ----------------------------------------------------------------------------------------------------
def artefact_title(kind, name):
    spec = (PLAN.artefacts.tables if kind == "table" else PLAN.artefacts.figures)[name]
    return PLAN.artefacts.run_title(spec.get("title", name))  # a smoke run's say so


def artefact_caption(kind, name):
    spec = (PLAN.artefacts.tables if kind == "table" else PLAN.artefacts.figures)[name]
    return PLAN.artefacts.run_caption(" ".join(spec.get("caption", "").split()))


# -- official weights ------------------------------------------------------------------------------------------
def missing_official_weights():
    """Released files the plan evaluates that are not on disk yet (None for smoke stand-ins, written here)."""
    if PLAN.experiment_set.official_standin:
        return []
    files = sorted({exp.weights for exp in PLAN.experiment_set.by_id.values() if exp.weights})
    return [path for path in files if not os.path.isfile(path)]


def standin_checkpoint(wildcards):
    return PATHS.checkpoint_file(PLAN.experiment_set.standin_source(PATHS.official_weights_file(wildcards.name)))
