# Score, complexity and prediction files -> the paper's tables and figures (each regenerable on its own).


rule table:
    input:
        lambda wildcards: PLAN.artefacts.table_inputs(wildcards.table),
    output:
        md=report(PATHS.table_file("{table}", "md"), caption="../report/table.rst", category="Tables", labels={"table": "{table}", "format": "Markdown"}),
        csv=report(PATHS.table_file("{table}", "csv"), caption="../report/table.rst", category="Tables", labels={"table": "{table}", "format": "CSV (per-cell provenance)"}),
        tex=PATHS.table_file("{table}", "tex"),
    log:
        PATHS.log_file("table"),
    conda:
        "../envs/vpbench.yaml"
    params:
        # The resolved table plan: a changed row or tolerance in config/tables.yaml re-renders the table.
        plan=lambda wildcards: PLAN.artefacts.table_plan(wildcards.table),
        title=lambda wildcards: artefact_title("table", wildcards.table),
        caption=lambda wildcards: artefact_caption("table", wildcards.table),
        config=lambda wildcards: config_args(COMPARE.table(wildcards.table)),
        out_dir=parent_dir,
    shell:
        "vpbench render {wildcards.table} {params.config} --out-dir {params.out_dir} > {log} 2>&1"


rule figure:
    input:
        lambda wildcards: PLAN.artefacts.figure_inputs(wildcards.figure),
    output:
        png=report(PATHS.figure_file("{figure}", "png"), caption="../report/figure.rst", category="Figures", labels={"figure": "{figure}"}),
        pdf=PATHS.figure_file("{figure}", "pdf"),
    log:
        PATHS.log_file("figure"),
    conda:
        "../envs/vpbench.yaml"
    params:
        plan=lambda wildcards: PLAN.artefacts.figure_plan(wildcards.figure),
        title=lambda wildcards: artefact_title("figure", wildcards.figure),
        caption=lambda wildcards: artefact_caption("figure", wildcards.figure),
        config=lambda wildcards: config_args(COMPARE.figure(wildcards.figure)),
        out_dir=parent_dir,
    shell:
        "vpbench render {wildcards.figure} {params.config} --out-dir {params.out_dir} > {log} 2>&1"


# The results page: every table (paper and reproduced values adjacent, each difference marked in words), every
# figure inline, the comparisons found under <reports>/compare/, and a banner naming the configuration and the data.
# It reads the rendered files only; `make report` re-renders it (--forcerun results_page) to pick up comparisons.
rule results_page:
    input:
        lambda wildcards: PLAN.artefacts.report_targets(),
    output:
        report(PATHS.results_page, caption="../report/page.rst", category="0. Results page (start here)"),
    log:
        PATHS.log_file("results_page"),
    conda:
        "../envs/vpbench.yaml"
    params:
        # Never the compare keys: the page finds the comparisons on disk, and names only the tables and figures.
        config=CONFIG_ARGS,
    shell:
        "vpbench render page {params.config} --out {output} > {log} 2>&1"
