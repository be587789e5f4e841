# Parameters and GFLOPs of an experiment's method at a protocol's resolution. For routed DMVFN the expected
# GFLOPs weight each block by its usage rate measured in that protocol's score file.
import json


def routed(exp):
    return exp.method == "dmvfn" and exp.options.get("routing", "stebs") != "none"


def complexity_scores(wildcards):
    exp = experiment(wildcards)
    return [PLAN.score_file(exp.id, wildcards.protocol)] if routed(exp) else []


def usage_arg(wildcards, input):
    return f"--usage-from {input.scores[0]}" if input.scores else ""


rule complexity:
    input:
        scores=complexity_scores,
    output:
        f"{RESULTS}/complexity/{{experiment}}/{{protocol}}.json",
    log:
        f"{LOGS}/complexity/{{experiment}}/{{protocol}}.log",
    conda:
        "../envs/vpbench.yaml"
    params:
        method=lambda wildcards: experiment(wildcards).method,
        options=lambda wildcards: json.dumps(experiment(wildcards).options, sort_keys=True),
        size=lambda wildcards: config["protocols"][wildcards.protocol]["size"],
        usage=usage_arg,
    shell:
        "vpbench complexity {params.method} --size {params.size} --options {params.options:q} {params.usage}"
        " --no-ptflops --json {output} > {log} 2>&1"
