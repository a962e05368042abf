# Analytic sample (or flow) -> figures as PNG and PDF.


rule figure:
    input:
        analytic="data/analytic/{study}.parquet",
        flow="results/{study}/flow.csv",
        code=code("figures/plots.py"),
    output:
        figures=multiext("results/{study}/figures/{figure}", ".png", ".pdf"),
    params:
        study=lambda w: {"figures": config["studies"][w.study]["figures"]},
        synthetic=lambda w: is_synthetic(dataset_of(w.study)),
    log:
        "logs/figure_{study}_{figure}.log",
    message:
        "Drawing {wildcards.study} {wildcards.figure}"
    run:
        run_step(log[0], steps.figure, params.study, wildcards.figure, input.analytic, input.flow,
                 f"results/{wildcards.study}/figures/{wildcards.figure}", params.synthetic)
