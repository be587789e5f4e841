# Experiment spec -> trained checkpoint. Training resumes from last.pt when a job is restarted (preemption);
# more than one GPU per job is launched with torchrun (DDP; the spec's batch size is global).


rule spec:
    output:
        f"{RESULTS}/specs/{{experiment}}.json",
    log:
        f"{LOGS}/specs/{{experiment}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("spec", "cpus"),
        mem_mb=requested("spec", "mem_mb"),
        runtime=requested("spec", "runtime"),
    params:
        # The resolved spec itself is a parameter so that editing an experiment in config/ re-runs what depends on it.
        spec=lambda wildcards: PLAN.experiment_spec(wildcards.experiment),
        config=CONFIG_ARGS,
    shell:
        # The main Snakemake process built every method of this plan already: the job stays torch-free.
        "vpbench spec {wildcards.experiment} {params.config} --no-method-checks --out {output} > {log} 2>&1"


rule train:
    input:
        spec=f"{RESULTS}/specs/{{experiment}}.json",
        data=train_data,
    output:
        f"{RESULTS}/checkpoints/{{experiment}}/final.pt",
    log:
        f"{LOGS}/train/{{experiment}}.log",
    conda:
        "../envs/vpbench.yaml"
    threads: 4
    resources:
        gpu=requested("train", "gpus"),
        cpus_per_task=requested("train", "cpus"),
        mem_mb=requested("train", "mem_mb"),
        runtime=requested("train", "runtime"),
    params:
        launcher=launcher,
        out=parent_dir,
    shell:
        "{params.launcher} --spec {input.spec} --out {params.out} --resume --no-progress > {log} 2>&1"
