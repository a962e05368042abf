# Analytic sample (or flow) -> figures as PNG and PDF.


rule figure:
    wildcard_constraints:
        figure="|".join(sorted({f for s in config["studies"].values() for f in s.get("figures", {})})) or "no_figures",
    input:
        analytic="data/analytic/{study}.parquet",
        flow="results/{study}/flow.csv",
        # Only a forest plot reads the estimates: refitting a model redraws nothing else.
        estimates=lambda w: (estimates_of(w.study)
                             if config["studies"][w.study]["figures"][w.figure]["kind"] == "forest" else []),
        code=code("figures/plots.py", "expressions.py"),
    output:
        figures=multiext("results/{study}/figures/{figure}", ".png", ".pdf"),
    params:
        study=lambda w: {"figures": {w.figure: config["studies"][w.study]["figures"][w.figure]},
                         "labels": config["studies"][w.study].get("labels", {})},
        synthetic=lambda w: is_synthetic(dataset_of(w.study)),
    log:
        "logs/figure_{study}_{figure}.log",
    message:
        "Drawing {wildcards.study} {wildcards.figure}"
    run:
        run_step(log[0], "figure", params.study, wildcards.figure, input.analytic, input.flow,
                 f"results/{wildcards.study}/figures/{wildcards.figure}", params.synthetic,
                 input.estimates[0] if input.estimates else None)
