# Checkpoint -> raw per-clip, per-step scores of one protocol (nothing aggregated), and prediction strips.


rule evaluate:
    input:
        spec=PATHS.spec_file("{experiment}"),
        data=evaluation_data,
        checkpoint=checkpoint_inputs,
    output:
        PATHS.score_file("{experiment}", "{protocol}"),
    log:
        PATHS.log_file("evaluate"),
    conda:
        "../envs/vpbench.yaml"
    threads: 2
    params:
        checkpoint=checkpoint_arg,
        data_root=evaluation_data_root,
        device=EVAL_DEVICE,
    shell:
        "vpbench evaluate --spec {input.spec} {params.checkpoint} --protocol {wildcards.protocol}"
        " --data-root {params.data_root} --out {output} --device {params.device} --no-progress > {log} 2>&1"


rule predictions:
    input:
        spec=PATHS.spec_file("{experiment}"),
        data=evaluation_data,
        checkpoint=checkpoint_inputs,
    output:
        PATHS.predictions_file("{experiment}", "{protocol}"),
    log:
        PATHS.log_file("predictions"),
    conda:
        "../envs/vpbench.yaml"
    params:
        checkpoint=checkpoint_arg,
        data_root=evaluation_data_root,
        clips=config["evaluation"].get("prediction_clips", 3),
    shell:
        "vpbench render predictions --spec {input.spec} {params.checkpoint} --protocol {wildcards.protocol}"
        " --data-root {params.data_root} --clips {params.clips} --out {output} > {log} 2>&1"
