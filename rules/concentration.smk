# Analytic sample + model estimates -> concentration indices, decomposition, their tables and figures.


rule concentration:
    wildcard_constraints:
        # not results/<study>/bootstrap/concentration.csv (bootstrap_gather's)
        study="|".join(STUDIES),
    input:
        analytic="data/analytic/{study}.parquet",
        estimates="results/{study}/estimates.csv",
        sources=lambda w: sources_of(w.study),
        interim=lambda w: design_file(w.study, STUDIES[w.study]["concentration"]["vce"] == "survey"),
        # With concentration.bootstrap, its gathered intervals (rules/models.smk: bootstrap_gather).
        bootstrap=lambda w: ([f"results/{w.study}/bootstrap/{CONCENTRATION_UNIT}.csv"]
                             if STUDIES[w.study]["concentration"].get("bootstrap") else []),
        code=code("concentration"),
    output:
        concentration="results/{study}/concentration.csv",
        decomposition="results/{study}/decomposition.csv",
        tables=[report(f"results/{{study}}/tables/{t}.csv", caption=f"captions/concentration_table_{t}.rst",
                       category="{study}", subcategory="Tables", labels={"table": t})
                for t in outputs.CONCENTRATION_TABLES],
        table_formats=[f"results/{{study}}/tables/{t}.{ext}" for t in outputs.CONCENTRATION_TABLES
                       for ext in outputs.TABLE_FORMATS if ext != "csv"],
        figures=[report(f"results/{{study}}/figures/{f}.png", caption=f"captions/concentration_figure_{f}.rst",
                        category="{study}", subcategory="Figures", labels={"figure": f})
                 for f in outputs.CONCENTRATION_FIGURES],
        figure_formats=[f"results/{{study}}/figures/{f}.{ext}" for f in outputs.CONCENTRATION_FIGURES
                        for ext in outputs.FIGURE_FORMATS if ext != "png"],
    params:
        spec=lambda w: STUDIES[w.study]["concentration"],
        models=lambda w: STUDIES[w.study]["models"],
        labels=lambda w: STUDIES[w.study].get("labels", {}),
        synthetic=lambda w: study_synthetic(w.study),
        survey=lambda w: survey_of(w.study) if STUDIES[w.study]["concentration"]["vce"] == "survey" else None,
    log:
        "logs/concentration_{study}.log",
    message:
        "Concentration indices and their decomposition for {wildcards.study}"
    run:
        run_step(rule, log[0], study=wildcards.study, spec=params.spec, models=params.models, labels=params.labels,
                 analytic=input.analytic, estimates=input.estimates, out_dir=f"results/{wildcards.study}",
                 synthetic=params.synthetic, sources=list(input.sources), survey=params.survey,
                 interim=list(input.interim), bootstrap=list(input.bootstrap))
