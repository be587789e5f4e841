# `snakemake compare --config method=<name | entry point | package.module:factory>`: the method against DMVFN, DVF,
# PredNet and copy-last-frame (config `compare:`), trained with the config's recipe and scored by the same code.
# The baselines' score files are the paper tables' own experiments: nothing that exists is run again.


rule compare:
    input:
        lambda wildcards: PLAN.artefacts.compare_files(),


rule compare_table:
    input:
        lambda wildcards: PLAN.artefacts.compare_inputs(),
    output:
        md=report(PATHS.compare_table_file("{name}", "md"), caption="../report/compare.rst", category="Comparison", labels={"method": "{name}", "format": "Markdown"}),
        csv=PATHS.compare_table_file("{name}", "csv"),
        tex=PATHS.compare_table_file("{name}", "tex"),
    log:
        PATHS.log_file("compare_table"),
    conda:
        "../envs/vpbench.yaml"
    params:
        # The resolved rows and columns: another method, option or protocol selection re-renders the table.
        plan=lambda wildcards: PLAN.artefacts.compare_plan(),
        config=config_args(COMPARE.argument),
        out_dir=parent_dir,
    shell:
        "vpbench render compare {params.config} --out-dir {params.out_dir} > {log} 2>&1"


rule compare_steps_figure:
    input:
        lambda wildcards: PLAN.artefacts.compare_inputs(),
    output:
        png=report(PATHS.compare_steps_file("{name}", "{protocol}", "png"), caption="../report/compare_steps.rst", category="Comparison", labels={"method": "{name}", "protocol": "{protocol}"}),
        pdf=PATHS.compare_steps_file("{name}", "{protocol}", "pdf"),
    log:
        PATHS.log_file("compare_steps_figure"),
    conda:
        "../envs/vpbench.yaml"
    params:
        plan=lambda wildcards: PLAN.artefacts.compare_plan(),
        config=config_args(COMPARE.argument),
        out_dir=parent_dir,
    shell:
        "vpbench render compare-steps --protocol {wildcards.protocol} {params.config} --out-dir {params.out_dir} > {log} 2>&1"
