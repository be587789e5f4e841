# Raw data -> prepared trees. `vpbench prepare` acquires (downloads where the dataset allows it, otherwise checks
# the archives placed under paths.raw and says what to put where) and writes a fresh tree aside, then swaps it in.


if config["raw_data"] == "smoke":

    rule smoke_data:
        output:
            f"{RAW}/.smoke-stamp.json",
        log:
            f"{LOGS}/data/smoke_data.log",
        conda:
            "../envs/vpbench.yaml"
        params:
            out=RAW,
        shell:
            "vpbench smoke-data --out {params.out} > {log} 2>&1"


def raw_inputs(wildcards):
    return [f"{RAW}/.smoke-stamp.json"] if config["raw_data"] == "smoke" else []


def prepare_args(wildcards):
    dataset = config["datasets"][wildcards.dataset]
    args = []
    if dataset.get("size"):
        args.append(f"--size {dataset['size']}")
    if dataset.get("subset"):
        args.append("--subset")
    if config["raw_data"] == "smoke":
        args.append("--no-download")
    args += dataset.get("extra_args", [])
    return " ".join(args)


rule prepare:
    input:
        raw_inputs,
    output:
        f"{PREPARED}/{{dataset}}/manifest.json",
    log:
        f"{LOGS}/data/prepare_{{dataset}}.log",
    conda:
        "../envs/vpbench.yaml"
    params:
        root=lambda wildcards: PLAN.raw_dir(wildcards.dataset),
        out=lambda wildcards: PLAN.prepared_dir(wildcards.dataset),
        args=prepare_args,
    shell:
        "vpbench prepare {wildcards.dataset} --root {params.root} --out {params.out} {params.args} > {log} 2>&1"


if config.get("official_weights"):

    rule official_weights:
        output:
            f"{config['official_weights'].get('dir', 'resources/weights')}/{{name}}.pkl",
        log:
            f"{LOGS}/data/official_weights_{{name}}.log",
        conda:
            "../envs/vpbench.yaml"
        params:
            folder=config["official_weights"].get("dir", "resources/weights"),
        shell:
            "vpbench official-weights fetch {wildcards.name}.pkl --dir {params.folder} > {log} 2>&1"
