# Paths, wildcard constraints and the input/parameter functions of the rule files (all resolved by vpbench.pipeline).
import json
import os
import shlex

from vpbench.pipeline.resources import JobResources

RAW = config["paths"]["raw"]
PREPARED = config["paths"]["prepared"]
RESULTS = config["paths"]["results"]
REPORTS = config["paths"]["reports"]
LOGS = f"{RESULTS}/logs"
OFFICIAL_DIR = (config.get("official_weights") or {}).get("dir", "resources/weights")
# Passed to the vpbench commands that read the config themselves (spec, render); the keys of `snakemake compare`
# given with --config travel with them as a JSON override.
CONFIG_ARGS = " ".join(f"--config {path}" for path in CONFIG_FILES)
COMPARE_OVERRIDES = {key: config[key] for key in COMPARE_KEYS if config.get(key) is not None}
if COMPARE_OVERRIDES:
    CONFIG_ARGS = f"{CONFIG_ARGS} --override {shlex.quote(json.dumps(COMPARE_OVERRIDES, sort_keys=True))}"
EVAL_DEVICE = config["evaluation"].get("device", "cuda")
# GPUs, CPUs, memory and wall time of every job, from the config (vpbench.pipeline.resources; docs/pipeline.md).
JOB_RESOURCES = JobResources(config, PLAN)


def requested(rule, field):
    """A resource callable: ``field`` (gpus, cpus, mem_mb, runtime) of the rule's request for the job."""

    def request(wildcards):
        return getattr(JOB_RESOURCES.request(rule, dict(wildcards.items())), field)

    return request


wildcard_constraints:
    dataset="[a-z0-9_]+",
    protocol="[a-z0-9_]+",
    experiment="[a-z0-9_.]+(-[a-z0-9_.]+)*",
    table="table[0-9]+",
    figure="fig[0-9]+",
    name="[a-z0-9][a-z0-9_.]*",


def parent_dir(wildcards, output):
    """The folder of the first output (a command's --out / --out-dir)."""
    return os.path.dirname(output[0])


# -- data ------------------------------------------------------------------------------------------------------
def raw_inputs(wildcards):
    return [f"{RAW}/.smoke-stamp.json"] if config["raw_data"] == "smoke" else []


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


def prepared_manifest(dataset):
    return f"{PREPARED}/{dataset}/manifest.json"


def protocol_dataset(protocol):
    return config["protocols"][protocol]["dataset"]


# -- experiments -----------------------------------------------------------------------------------------------
def experiment(wildcards):
    return PLAN.get(wildcards.experiment)


def train_data(wildcards):
    exp = experiment(wildcards)
    if not exp.trained_here:
        raise ValueError(f"experiment {exp.id!r} is not trained by this workflow (source {exp.source})")
    return prepared_manifest(exp.train_dataset)


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
    return prepared_manifest(protocol_dataset(wildcards.protocol))


def evaluation_data_root(wildcards):
    return PLAN.prepared_dir(protocol_dataset(wildcards.protocol))


def checkpoint_inputs(wildcards):
    """The evaluated checkpoint: trained here, the base experiment's (inference-time variants), or released."""
    exp = experiment(wildcards)
    if exp.trained_here:
        return [PLAN.checkpoint_file(exp.id)]
    if exp.checkpoint_of:
        return [PLAN.checkpoint_file(exp.checkpoint_of)]
    if exp.weights:
        return [exp.weights]
    return []


def checkpoint_arg(wildcards, input):
    return f"--checkpoint {input.checkpoint[0]}" if input.checkpoint else ""


# -- complexity ------------------------------------------------------------------------------------------------
def complexity_scores(wildcards):
    """A routed method's expected GFLOPs weight each block by its usage measured in the score file."""
    exp = experiment(wildcards)
    return [PLAN.score_file(exp.id, wildcards.protocol)] if PLAN.is_routed(exp.id) else []


def usage_arg(wildcards, input):
    return f"--usage-from {input.scores[0]}" if input.scores else ""


def method_options_json(wildcards):
    return json.dumps(experiment(wildcards).options, sort_keys=True)


# -- report ----------------------------------------------------------------------------------------------------
def artefact_title(kind, name):
    spec = (PLAN.tables if kind == "table" else PLAN.figures)[name]
    return PLAN.artefacts.run_title(spec.get("title", name))  # a smoke run's say so


def artefact_caption(kind, name):
    spec = (PLAN.tables if kind == "table" else PLAN.figures)[name]
    return PLAN.artefacts.run_caption(" ".join(spec.get("caption", "").split()))


# -- official weights ------------------------------------------------------------------------------------------
def missing_official_weights():
    """Released files the plan evaluates that are not on disk yet (None for smoke stand-ins, written here)."""
    if PLAN.official_standin:
        return []
    files = sorted({exp.weights for exp in PLAN.experiments.values() if exp.weights})
    return [path for path in files if not os.path.isfile(path)]


def standin_checkpoint(wildcards):
    return PLAN.checkpoint_file(PLAN.standin_source(f"{OFFICIAL_DIR}/{wildcards.name}.pkl"))
