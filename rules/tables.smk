# Analytic sample -> descriptive tables (tidy numbers and the printed layout).


rule descriptive_table:
    wildcard_constraints:
        table="|".join(table_names("tables")),
    input:
        analytic="data/analytic/{study}.parquet",
        code=code("tables/descriptive.py", "tables/render.py", "expressions.py"),
    output:
        tidy="results/{study}/descriptives_{table}.csv",
        tables=multiext("results/{study}/tables/{table}", ".csv", ".md", ".tex", ".docx"),
    params:
        study=lambda w: {"tables": {w.table: config["studies"][w.study]["tables"][w.table]}},
        synthetic=lambda w: is_synthetic(dataset_of(w.study)),
    log:
        "logs/table_{study}_{table}.log",
    message:
        "Writing {wildcards.study} {wildcards.table}"
    run:
        run_step(log[0], "descriptive_table", wildcards.study, params.study, wildcards.table,
                 input.analytic, output.tidy, f"results/{wildcards.study}/tables/{wildcards.table}",
                 params.synthetic)


rule effect_table:
    input:
        estimates="results/{study}/estimates.csv",
        code=code("tables/effects.py", "tables/render.py"),
    output:
        tables=multiext("results/{study}/tables/{table}", ".csv", ".md", ".tex", ".docx"),
    wildcard_constraints:
        table="|".join(table_names("effect_tables")) or "no_effect_tables",
    params:
        study=lambda w: {k: config["studies"][w.study].get(k, {}) for k in ("effect_tables", "labels")},
        synthetic=lambda w: is_synthetic(dataset_of(w.study)),
    log:
        "logs/effect_table_{study}_{table}.log",
    message:
        "Writing {wildcards.study} {wildcards.table}"
    run:
        run_step(log[0], "effect_table", params.study, wildcards.table, input.estimates,
                 f"results/{wildcards.study}/tables/{wildcards.table}", params.synthetic)
