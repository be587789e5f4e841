# Experiment spec -> trained checkpoint. Training resumes from last.pt when a job is restarted (preemption);
# more than one GPU per job is launched with torchrun (DDP; the spec's batch size is global).


rule spec:
    output:
        f"{RESULTS}/specs/{{experiment}}.json",
    log:
        f"{LOGS}/specs/{{experiment}}.log",
    conda:
        "../envs/vpbench.yaml"
    params:
        # The resolved spec itself is a parameter so that editing an experiment in config/ re-runs what depends on it.
        spec=lambda wildcards: PLAN.experiment_spec(wildcards.experiment),
        config=CONFIG_ARGS,
    shell:
        "vpbench spec {wildcards.experiment} {params.config} --out {output} > {log} 2>&1"


def train_data(wildcards):
    exp = experiment(wildcards)
    if not exp.trained_here:
        raise ValueError(f"experiment {exp.id!r} is not trained by this workflow (source {exp.source})")
    return prepared_manifest(exp.train_dataset)


def launcher(wildcards):
    gpus = PLAN.gpus(wildcards.experiment)
    if gpus > 1:
        return f"torchrun --standalone --nproc_per_node={gpus} -m vpbench"
    return "vpbench"


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
        gpu=lambda wildcards: PLAN.gpus(wildcards.experiment),
        runtime=lambda wildcards: int(config["recipes"][experiment(wildcards).recipe].get("runtime_minutes", 2880)),
    params:
        launcher=launcher,
        out=f"{RESULTS}/checkpoints/{{experiment}}",
    shell:
        "{params.launcher} train --spec {input.spec} --out {params.out} --resume --no-progress > {log} 2>&1"
