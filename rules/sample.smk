# Canonical data -> a study's analytic sample, with every exclusion counted.


rule analytic_sample:
    input:
        interim=lambda w: [f"data/interim/{d}.parquet" for d in datasets_of(w.study)],
        code=code("analytic_sample"),
    output:
        analytic="data/analytic/{study}.parquet",
        flow="results/{study}/flow.csv",
    params:
        # Only the sample definition: editing a table or a model does not redraw the sample.
        spec=lambda w: {k: STUDIES[w.study].get(k) for k in ("sample", "quantile_groups")},
        datasets=lambda w: datasets_of(w.study),
    log:
        "logs/analytic_sample_{study}.log",
    message:
        "Applying the {wildcards.study} sample filters"
    run:
        run_step(rule, log[0], study=wildcards.study, spec=params.spec, datasets=params.datasets,
                 interim=list(input.interim), analytic=output.analytic, flow=output.flow)
