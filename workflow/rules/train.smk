# Experiment spec -> trained checkpoint. Training resumes from last.pt when a job is restarted (preemption);
# more than one GPU per job is launched with torchrun (DDP; the spec's batch size is global).


rule spec:
    output:
        PATHS.spec_file("{experiment}"),
    log:
        PATHS.log_file("spec"),
    conda:
        "../envs/vpbench.yaml"
    params:
        # The resolved spec itself is a parameter so that editing an experiment in config/ re-runs what depends on it.
        spec=lambda wildcards: PLAN.experiment_spec(wildcards.experiment),
        # The compare keys only for an experiment that needs them (the compared method's): the others' spec jobs
        # keep their parameters, so a comparison in a finished run retrains nothing.
        config=lambda wildcards: config_args(COMPARE.spec(wildcards.experiment)),
    shell:
        # The main Snakemake process built every method of this plan already: the job stays torch-free.
        "vpbench spec {wildcards.experiment} {params.config} --no-method-checks --out {output} > {log} 2>&1"


rule train:
    input:
        spec=PATHS.spec_file("{experiment}"),
        data=train_data,
    output:
        PATHS.checkpoint_file("{experiment}"),
    log:
        PATHS.log_file("train"),
    conda:
        "../envs/vpbench.yaml"
    threads: 4
    params:
        launcher=launcher,
        out=parent_dir,
    shell:
        "{params.launcher} --spec {input.spec} --out {params.out} --resume --no-progress > {log} 2>&1"
