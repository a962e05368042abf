# Published numbers beside ours, then one self-contained page.


rule compare:
    input:
        published="data/published/{study}.yaml",
        estimates=lambda w: ([f"results/{w.study}/estimates.csv"] if STUDIES[w.study].get("models") else [])
                            + ([f"results/{w.study}/concentration.csv"] if STUDIES[w.study].get("concentration")
                               else []),
        descriptives=lambda w: [f"results/{w.study}/descriptives_{t}.csv" for t in STUDIES[w.study].get("tables", {})],
        # The synthetic truth of a study on one synthetic dataset (a pooled study has none).
        truth=lambda w: ([f"results/data/{datasets_of(w.study)[0]}_synthetic_truth.csv"]
                         if len(datasets_of(w.study)) == 1 and study_synthetic(w.study) else []),
        analytic="data/analytic/{study}.parquet",
        code=code("compare"),
    output:
        comparison=report("results/{study}/comparison.csv", caption="captions/comparison.rst", category="{study}",
                          subcategory="Comparison", labels={"table": "published vs reproduced"}),
    log:
        "logs/compare_{study}.log",
    message:
        "Comparing {wildcards.study} with its published numbers"
    run:
        run_step(rule, log[0], published=input.published, estimates=list(input.estimates),
                 descriptives=list(input.descriptives), truth=list(input.truth), analytic=input.analytic,
                 comparison=output.comparison)


rule report:
    input:
        study_outputs=[f for f in all_targets() if f != "results/report.html"],
        config="config.yaml",
        # Provenance: each dataset's record written by ingestion (its file, sha256 and rows).
        sources=[outputs.source_file(name) for name in USED_DATASETS],
        code=code("report"),
    output:
        report=report("results/report.html", caption="captions/report.rst", category="Report"),
    params:
        studies=STUDIES,
        synthetic={name: DATASETS[name]["synthetic"] for name in USED_DATASETS},
        # A rule parameter: a new commit (or an edit of a tracked file) rewrites the report's provenance.
        code_version=CODE_VERSION,
    log:
        "logs/report.log",
    message:
        "Writing results/report.html"
    run:
        run_step(rule, log[0], studies=params.studies, synthetic=params.synthetic, code_version=params.code_version,
                 config=input.config,
                 sources=dict(zip(USED_DATASETS, input.sources)),
                 report=output.report)
