# Checkpoint -> raw per-clip, per-step scores of one protocol (nothing aggregated), and prediction strips.


rule evaluate:
    input:
        spec=f"{RESULTS}/specs/{{experiment}}.json",
        data=evaluation_data,
        checkpoint=checkpoint_inputs,
    output:
        f"{RESULTS}/scores/{{experiment}}/{{protocol}}.parquet",
    log:
        f"{LOGS}/evaluate/{{experiment}}/{{protocol}}.log",
    conda:
        "../envs/vpbench.yaml"
    threads: 2
    resources:
        gpu=requested("evaluate", "gpus"),
        cpus_per_task=requested("evaluate", "cpus"),
        mem_mb=requested("evaluate", "mem_mb"),
        runtime=requested("evaluate", "runtime"),
    params:
        checkpoint=checkpoint_arg,
        data_root=evaluation_data_root,
        device=EVAL_DEVICE,
    shell:
        "vpbench evaluate --spec {input.spec} {params.checkpoint} --protocol {wildcards.protocol}"
        " --data-root {params.data_root} --out {output} --device {params.device} --no-progress > {log} 2>&1"


rule predictions:
    input:
        spec=f"{RESULTS}/specs/{{experiment}}.json",
        data=evaluation_data,
        checkpoint=checkpoint_inputs,
    output:
        f"{RESULTS}/predictions/{{experiment}}/{{protocol}}.npz",
    log:
        f"{LOGS}/predictions/{{experiment}}/{{protocol}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("predictions", "cpus"),
        mem_mb=requested("predictions", "mem_mb"),
        runtime=requested("predictions", "runtime"),
    params:
        checkpoint=checkpoint_arg,
        data_root=evaluation_data_root,
        clips=config["evaluation"].get("prediction_clips", 3),
    shell:
        "vpbench render predictions --spec {input.spec} {params.checkpoint} --protocol {wildcards.protocol}"
        " --data-root {params.data_root} --clips {params.clips} --out {output} > {log} 2>&1"
