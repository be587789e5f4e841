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
        resources:
            cpus_per_task=requested("smoke_data", "cpus"),
            mem_mb=requested("smoke_data", "mem_mb"),
            runtime=requested("smoke_data", "runtime"),
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
    # one worker process per thread (decode, resize, encode); Snakemake lowers it to --cores on a small machine
    threads: JOB_RESOURCES.prepare().cpus
    resources:
        cpus_per_task=requested("prepare", "cpus"),
        mem_mb=requested("prepare", "mem_mb"),
        runtime=requested("prepare", "runtime"),
    params:
        root=lambda wildcards: PLAN.raw_dir(wildcards.dataset),
        out=parent_dir,
        args=prepare_args,
    shell:
        "vpbench prepare {wildcards.dataset} --root {params.root} --out {params.out} --jobs {threads} {params.args}"
        " > {log} 2>&1"


if config.get("official_weights") and PLAN.official_standin:

    # Smoke runs only: no released file offline, so the DMVFN trained here is written in the authors' .pkl layout
    # and evaluated through the official loader, like the released weights (rows tagged "official weights").
    rule official_standin:
        input:
            standin_checkpoint,
        output:
            f"{OFFICIAL_DIR}/{{name}}.pkl",
        log:
            f"{LOGS}/data/official_standin_{{name}}.log",
        conda:
            "../envs/vpbench.yaml"
        resources:
            cpus_per_task=requested("official_standin", "cpus"),
            mem_mb=requested("official_standin", "mem_mb"),
            runtime=requested("official_standin", "runtime"),
        shell:
            "vpbench official-standin --checkpoint {input} --out {output} > {log} 2>&1"

elif config.get("official_weights"):

    # Downloads (or verifies a file placed by hand). Offline without the file the job fails with the log's last
    # lines on the console: where to download the file from and where to put it.
    rule official_weights:
        output:
            f"{OFFICIAL_DIR}/{{name}}.pkl",
        log:
            f"{LOGS}/data/official_weights_{{name}}.log",
        conda:
            "../envs/vpbench.yaml"
        resources:
            cpus_per_task=requested("official_weights", "cpus"),
            mem_mb=requested("official_weights", "mem_mb"),
            runtime=requested("official_weights", "runtime"),
        params:
            folder=parent_dir,
        shell:
            "vpbench official-weights fetch {wildcards.name}.pkl --dir {params.folder} > {log} 2>&1"
            " || {{ tail -n 4 {log} >&2; exit 1; }}"
