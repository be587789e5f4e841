# Parameters and GFLOPs of an experiment's method at a protocol's resolution. For routed DMVFN the expected
# GFLOPs weight each block by its usage rate measured in that protocol's score file.


rule complexity:
    input:
        scores=complexity_scores,
    output:
        f"{RESULTS}/complexity/{{experiment}}/{{protocol}}.json",
    log:
        f"{LOGS}/complexity/{{experiment}}/{{protocol}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("complexity", "cpus"),
        mem_mb=requested("complexity", "mem_mb"),
        runtime=requested("complexity", "runtime"),
    params:
        method=lambda wildcards: experiment(wildcards).method,
        options=method_options_json,
        size=lambda wildcards: config["protocols"][wildcards.protocol]["size"],
        usage=usage_arg,
    shell:
        "vpbench complexity {params.method} --size {params.size} --options {params.options:q} {params.usage}"
        " --no-ptflops --json {output} > {log} 2>&1"
