# Score, complexity and prediction files -> the paper's tables and figures (each regenerable on its own).


rule table:
    input:
        lambda wildcards: PLAN.table_inputs(wildcards.table),
    output:
        md=report(f"{REPORTS}/tables/{{table}}.md", caption="../report/table.rst", category="Tables", labels={"table": "{table}", "format": "Markdown"}),
        csv=report(f"{REPORTS}/tables/{{table}}.csv", caption="../report/table.rst", category="Tables", labels={"table": "{table}", "format": "CSV (per-cell provenance)"}),
        tex=f"{REPORTS}/tables/{{table}}.tex",
    log:
        f"{LOGS}/render/{{table}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("table", "cpus"),
        mem_mb=requested("table", "mem_mb"),
        runtime=requested("table", "runtime"),
    params:
        # The resolved table plan: a changed row or tolerance in config/tables.yaml re-renders the table.
        plan=lambda wildcards: PLAN.table_plan(wildcards.table),
        title=lambda wildcards: artefact_title("table", wildcards.table),
        caption=lambda wildcards: artefact_caption("table", wildcards.table),
        config=CONFIG_ARGS,
        out_dir=parent_dir,
    shell:
        "vpbench render {wildcards.table} {params.config} --out-dir {params.out_dir} > {log} 2>&1"


rule figure:
    input:
        lambda wildcards: PLAN.figure_inputs(wildcards.figure),
    output:
        png=report(f"{REPORTS}/figures/{{figure}}.png", caption="../report/figure.rst", category="Figures", labels={"figure": "{figure}"}),
        pdf=f"{REPORTS}/figures/{{figure}}.pdf",
    log:
        f"{LOGS}/render/{{figure}}.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("figure", "cpus"),
        mem_mb=requested("figure", "mem_mb"),
        runtime=requested("figure", "runtime"),
    params:
        plan=lambda wildcards: PLAN.figure_plan(wildcards.figure),
        title=lambda wildcards: artefact_title("figure", wildcards.figure),
        caption=lambda wildcards: artefact_caption("figure", wildcards.figure),
        config=CONFIG_ARGS,
        out_dir=parent_dir,
    shell:
        "vpbench render {wildcards.figure} {params.config} --out-dir {params.out_dir} > {log} 2>&1"


# The results page: every table (paper and reproduced values adjacent, each difference marked in words), every
# figure inline, the comparisons found under <reports>/compare/, and a banner naming the configuration and the data.
# It reads the rendered files only; `make report` re-renders it (--forcerun results_page) to pick up comparisons.
rule results_page:
    input:
        lambda wildcards: PLAN.report_targets(),
    output:
        report(f"{REPORTS}/index.html", caption="../report/page.rst", category="0. Results page (start here)"),
    log:
        f"{LOGS}/render/results_page.log",
    conda:
        "../envs/vpbench.yaml"
    resources:
        cpus_per_task=requested("results_page", "cpus"),
        mem_mb=requested("results_page", "mem_mb"),
        runtime=requested("results_page", "runtime"),
    params:
        config=CONFIG_ARGS,
    shell:
        "vpbench render page {params.config} --out {output} > {log} 2>&1"
