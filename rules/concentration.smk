# Analytic sample + model estimates -> concentration indices, decomposition, their tables and figures.


rule concentration:
    input:
        analytic="data/analytic/{study}.parquet",
        estimates="results/{study}/estimates.csv",
        code=code("inequality.py", "workflow.py", "stats/concentration.py", "stats/design.py", "figures/plots.py",
                  "tables/render.py"),
    output:
        [f"results/{{study}}/{name}" for name in CONCENTRATION_OUTPUTS],
    params:
        study=lambda w: {k: config["studies"][w.study].get(k, {}) for k in ("concentration", "models", "labels")},
        synthetic=lambda w: is_synthetic(dataset_of(w.study)),
    log:
        "logs/concentration_{study}.log",
    message:
        "Concentration indices and their decomposition for {wildcards.study}"
    run:
        run_step(log[0], "concentration", wildcards.study, params.study, input.analytic, input.estimates,
                 f"results/{wildcards.study}", params.synthetic)
