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
            out=parent_dir,
        shell:
            "vpbench smoke-data --out {params.out} > {log} 2>&1"


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
        out=parent_dir,
        args=prepare_args,
    shell:
        "vpbench prepare {wildcards.dataset} --root {params.root} --out {params.out} {params.args} > {log} 2>&1"


if config.get("official_weights"):

    rule official_weights:
        output:
            f"{OFFICIAL_DIR}/{{name}}.pkl",
        log:
            f"{LOGS}/data/official_weights_{{name}}.log",
        conda:
            "../envs/vpbench.yaml"
        params:
            folder=parent_dir,
        shell:
            "vpbench official-weights fetch {wildcards.name}.pkl --dir {params.folder} > {log} 2>&1"
