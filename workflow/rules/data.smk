# Raw data -> prepared trees. `vpbench prepare` acquires (downloads where the dataset allows it, otherwise checks
# the archives placed under paths.raw and says what to put where) and writes a fresh tree aside, then swaps it in.


if config["raw_data"] == "smoke":

    rule smoke_data:
        output:
            PATHS.smoke_stamp,
        log:
            PATHS.log_file("smoke_data"),
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
        PATHS.manifest_file("{dataset}"),
    log:
        PATHS.log_file("prepare"),
    conda:
        "../envs/vpbench.yaml"
    # one worker process per thread (decode, resize, encode); Snakemake lowers it to --cores on a small machine
    threads: JOB_RESOURCES.prepare().cpus
    params:
        root=lambda wildcards: PATHS.raw_dir(wildcards.dataset),
        out=parent_dir,
        args=prepare_args,
    shell:
        "vpbench prepare {wildcards.dataset} --root {params.root} --out {params.out} --jobs {threads} {params.args}"
        " > {log} 2>&1"


if config.get("official_weights") and PLAN.experiment_set.official_standin:

    # Smoke runs only: no released file offline, so the DMVFN trained here is written in the authors' .pkl layout
    # and evaluated through the official loader, like the released weights (rows tagged "official weights").
    rule official_standin:
        input:
            standin_checkpoint,
        output:
            PATHS.official_weights_file("{name}"),
        log:
            PATHS.log_file("official_standin"),
        conda:
            "../envs/vpbench.yaml"
        shell:
            "vpbench official-standin --checkpoint {input} --out {output} > {log} 2>&1"

elif config.get("official_weights"):

    # Downloads (or verifies a file placed by hand). Offline without the file the job fails with the log's last
    # lines on the console: where to download the file from and where to put it.
    rule official_weights:
        output:
            PATHS.official_weights_file("{name}"),
        log:
            PATHS.log_file("official_weights"),
        conda:
            "../envs/vpbench.yaml"
        params:
            folder=parent_dir,
        shell:
            "vpbench official-weights fetch {wildcards.name}.pkl --dir {params.folder} > {log} 2>&1"
            " || {{ tail -n 4 {log} >&2; exit 1; }}"
