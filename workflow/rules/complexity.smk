# Parameters and GFLOPs of an experiment's method at a protocol's resolution. For routed DMVFN the expected
# GFLOPs weight each block by its usage rate measured in that protocol's score file.


rule complexity:
    input:
        scores=complexity_scores,
    output:
        PATHS.complexity_file("{experiment}", "{protocol}"),
    log:
        PATHS.log_file("complexity"),
    conda:
        "../envs/vpbench.yaml"
    params:
        method=lambda wildcards: experiment(wildcards).method,
        options=method_options_json,
        size=lambda wildcards: config["protocols"][wildcards.protocol]["size"],
        usage=usage_arg,
    shell:
        "vpbench complexity {params.method} --size {params.size} --options {params.options:q} {params.usage}"
        " --no-ptflops --json {output} > {log} 2>&1"
