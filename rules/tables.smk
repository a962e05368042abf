# Analytic sample -> descriptive tables (tidy numbers and the printed layout).


rule descriptive_table:
    input:
        analytic="data/analytic/{study}.parquet",
        code=code("tables/descriptive.py", "tables/render.py"),
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
        run_step(log[0], steps.descriptive_table, wildcards.study, params.study, wildcards.table,
                 input.analytic, output.tidy, f"results/{wildcards.study}/tables/{wildcards.table}",
                 params.synthetic)
