# `snakemake compare --config method=<name | entry point | package.module:factory>`: the method against DMVFN, DVF,
# PredNet and copy-last-frame (config `compare:`), trained with the config's recipe and scored by the same code.
# The baselines' score files are the paper tables' own experiments: nothing that exists is run again.


rule compare:
    input:
        lambda wildcards: PLAN.compare_files(),


rule compare_table:
    input:
        lambda wildcards: PLAN.compare_inputs(),
    output:
        md=report(f"{REPORTS}/compare/{{name}}.md", caption="../report/compare.rst", category="Comparison", labels={"method": "{name}", "format": "Markdown"}),
        csv=f"{REPORTS}/compare/{{name}}.csv",
        tex=f"{REPORTS}/compare/{{name}}.tex",
    log:
        f"{LOGS}/render/compare_{{name}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("compare_table", "cpus"),
        mem_mb=requested("compare_table", "mem_mb"),
        runtime=requested("compare_table", "runtime"),
    params:
        # The resolved rows and columns: another method, option or protocol selection re-renders the table.
        plan=lambda wildcards: PLAN.compare_plan(),
        config=CONFIG_ARGS,
        out_dir=parent_dir,
    shell:
        "vpbench render compare {params.config} --out-dir {params.out_dir} > {log} 2>&1"


rule compare_steps_figure:
    input:
        lambda wildcards: PLAN.compare_inputs(),
    output:
        png=report(f"{REPORTS}/compare/{{name}}-steps-{{protocol}}.png", caption="../report/compare_steps.rst", category="Comparison", labels={"method": "{name}", "protocol": "{protocol}"}),
        pdf=f"{REPORTS}/compare/{{name}}-steps-{{protocol}}.pdf",
    log:
        f"{LOGS}/render/compare_{{name}}_steps_{{protocol}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("compare_steps_figure", "cpus"),
        mem_mb=requested("compare_steps_figure", "mem_mb"),
        runtime=requested("compare_steps_figure", "runtime"),
    params:
        plan=lambda wildcards: PLAN.compare_plan(),
        config=CONFIG_ARGS,
        out_dir=parent_dir,
    shell:
        "vpbench render compare-steps --protocol {wildcards.protocol} {params.config} --out-dir {params.out_dir} > {log} 2>&1"
