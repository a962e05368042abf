# Analytic sample -> descriptive tables; estimates -> effect tables (tidy numbers and five formats);
# a study's tables and figures -> its documents (tables.docx, tables.tex, figures.docx).
# Each table's CSV (and each study document) is marked for Snakemake's own report, by study.


rule descriptive_table:
    wildcard_constraints:
        table=names_of("tables"),
    input:
        analytic="data/analytic/{study}.parquet",
        sources=lambda w: sources_of(w.study),
        code=code("descriptive_table"),
    output:
        tidy="results/{study}/descriptives_{table}.csv",
        table=report("results/{study}/tables/{table}.csv", caption="captions/table.rst", category="{study}",
                     subcategory="Tables", labels={"table": "{table}"}),
        formats=[f"results/{{study}}/tables/{{table}}.{ext}" for ext in outputs.TABLE_FORMATS if ext != "csv"],
    params:
        spec=lambda w: STUDIES[w.study]["tables"][w.table],
        synthetic=lambda w: study_synthetic(w.study),
    log:
        "logs/descriptive_table_{study}_{table}.log",
    message:
        "Writing {wildcards.study} {wildcards.table}"
    run:
        run_step(rule, log[0], study=wildcards.study, table=wildcards.table, spec=params.spec,
                 analytic=input.analytic, tidy=output.tidy, stem=f"results/{wildcards.study}/tables/{wildcards.table}",
                 synthetic=params.synthetic, sources=list(input.sources))


rule effect_table:
    wildcard_constraints:
        table=names_of("effect_tables"),
    input:
        estimates="results/{study}/estimates.csv",
        sources=lambda w: sources_of(w.study),
        code=code("effect_table"),
    output:
        table=report("results/{study}/tables/{table}.csv", caption="captions/table.rst", category="{study}",
                     subcategory="Tables", labels={"table": "{table}"}),
        formats=[f"results/{{study}}/tables/{{table}}.{ext}" for ext in outputs.TABLE_FORMATS if ext != "csv"],
    params:
        spec=lambda w: STUDIES[w.study]["effect_tables"][w.table],
        labels=lambda w: STUDIES[w.study].get("labels", {}),
        synthetic=lambda w: study_synthetic(w.study),
    log:
        "logs/effect_table_{study}_{table}.log",
    message:
        "Writing {wildcards.study} {wildcards.table}"
    run:
        run_step(rule, log[0], spec=params.spec, labels=params.labels, estimates=input.estimates,
                 stem=f"results/{wildcards.study}/tables/{wildcards.table}", synthetic=params.synthetic, sources=list(input.sources))


rule study_documents:
    wildcard_constraints:
        study="|".join(STUDIES),
    input:
        tables=lambda w: [f"results/{w.study}/tables/{t}.{ext}" for t in outputs.table_names(STUDIES[w.study])
                          for ext in ("json", "tex")],
        figures=lambda w: [f"results/{w.study}/figures/{f}.{ext}" for f in outputs.figure_names(STUDIES[w.study])
                           for ext in ("json", "png")],
        code=code("study_documents"),
    output:
        tables_docx=report("results/{study}/tables.docx", caption="captions/documents.rst", category="{study}",
                           subcategory="Documents", labels={"document": "tables (Word)"}),
        tables_tex="results/{study}/tables.tex",
        figures_docx=report("results/{study}/figures.docx", caption="captions/documents.rst", category="{study}",
                            subcategory="Documents", labels={"document": "figures (Word)"}),
    params:
        title=lambda w: STUDIES[w.study].get("title", w.study),
    log:
        "logs/study_documents_{study}.log",
    message:
        "Writing the {wildcards.study} documents (tables.docx, tables.tex, figures.docx)"
    run:
        run_step(rule, log[0], title=params.title, tables=[t for t in input.tables if t.endswith(".json")],
                 figures=[f for f in input.figures if f.endswith(".json")], tables_docx=output.tables_docx,
                 tables_tex=output.tables_tex, figures_docx=output.figures_docx)
