# Analytic sample -> descriptive tables; estimates -> effect tables (tidy numbers and four formats).


rule descriptive_table:
    wildcard_constraints:
        table=names_of("tables"),
    input:
        analytic="data/analytic/{study}.parquet",
        sources=lambda w: sources_of(w.study),
        code=code("descriptive_table"),
    output:
        tidy="results/{study}/descriptives_{table}.csv",
        tables=multiext("results/{study}/tables/{table}", ".csv", ".md", ".tex", ".docx"),
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
        tables=multiext("results/{study}/tables/{table}", ".csv", ".md", ".tex", ".docx"),
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
