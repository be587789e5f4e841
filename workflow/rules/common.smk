# Paths, wildcard constraints and per-experiment parameters shared by the rule files (all from vpbench.plan).
RAW = config["paths"]["raw"]
PREPARED = config["paths"]["prepared"]
RESULTS = config["paths"]["results"]
REPORTS = config["paths"]["reports"]
LOGS = f"{RESULTS}/logs"
# Passed to the vpbench commands that read the config themselves (spec, render).
CONFIG_ARGS = " ".join(f"--config {path}" for path in CONFIG_FILES)
EVAL_DEVICE = config["evaluation"].get("device", "cuda")


wildcard_constraints:
    dataset="[a-z0-9_]+",
    protocol="[a-z0-9_]+",
    experiment="[a-z0-9_.]+(-[a-z0-9_.]+)*",
    table="table[0-9]+",
    figure="fig[0-9]+",


def experiment(wildcards):
    return PLAN.get(wildcards.experiment)


def prepared_manifest(dataset):
    return f"{PREPARED}/{dataset}/manifest.json"


def protocol_dataset(protocol):
    return config["protocols"][protocol]["dataset"]


def checkpoint_inputs(wildcards):
    """The evaluated checkpoint when a job of this workflow makes it (official weights are placed by hand)."""
    exp = experiment(wildcards)
    if exp.trained_here:
        return [PLAN.checkpoint_file(exp.id)]
    if exp.checkpoint_of:
        return [PLAN.checkpoint_file(exp.checkpoint_of)]
    if exp.weights:
        return [exp.weights]
    return []


def checkpoint_arg(wildcards):
    path = PLAN.evaluation_checkpoint(wildcards.experiment)
    return f"--checkpoint {path}" if path else ""
