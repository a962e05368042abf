# Analytic sample (or flow, or estimates) -> figures as PNG and PDF, with their captions (JSON).
# Each PNG is marked for Snakemake's own report, by study.


rule figure:
    wildcard_constraints:
        figure=names_of("figures"),
    input:
        analytic="data/analytic/{study}.parquet",
        flow="results/{study}/flow.csv",
        # Only a forest plot reads the estimates: refitting a model redraws nothing else.
        estimates=lambda w: ([f"results/{w.study}/estimates.csv"]
                             if STUDIES[w.study]["figures"][w.figure]["kind"] == "forest" else []),
        sources=lambda w: sources_of(w.study),
        code=code("figure"),
    output:
        image=report("results/{study}/figures/{figure}.png", caption="captions/figure.rst", category="{study}",
                     subcategory="Figures", labels={"figure": "{figure}"}),
        formats=[f"results/{{study}}/figures/{{figure}}.{ext}" for ext in outputs.FIGURE_FORMATS if ext != "png"],
    params:
        spec=lambda w: STUDIES[w.study]["figures"][w.figure],
        labels=lambda w: STUDIES[w.study].get("labels", {}),
        synthetic=lambda w: study_synthetic(w.study),
    log:
        "logs/figure_{study}_{figure}.log",
    message:
        "Drawing {wildcards.study} {wildcards.figure}"
    run:
        run_step(rule, log[0], study=wildcards.study, name=wildcards.figure, spec=params.spec, labels=params.labels, analytic=input.analytic, flow=input.flow,
                 estimates=list(input.estimates), stem=f"results/{wildcards.study}/figures/{wildcards.figure}",
                 synthetic=params.synthetic, sources=list(input.sources))
