# Canonical data -> a study's analytic sample, with every exclusion counted.


rule sample:
    input:
        interim=lambda w: f"data/interim/{dataset_of(w.study)}.parquet",
        code=code("sample.py", "expressions.py"),
    output:
        analytic="data/analytic/{study}.parquet",
        flow="results/{study}/flow.csv",
    params:
        # Only the sample definition: editing a table or a model does not redraw the sample.
        spec=lambda w: {k: config["studies"][w.study].get(k) for k in ("sample", "quantile_groups")},
    log:
        "logs/sample_{study}.log",
    message:
        "Applying the {wildcards.study} sample filters"
    run:
        run_step(log[0], "make_sample", wildcards.study, params.spec, input.interim,
                 output.analytic, output.flow)
