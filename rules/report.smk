# Published numbers beside ours, then one self-contained page.


rule compare:
    input:
        published="data/published/{study}.yaml",
        estimates=lambda w: ([f"results/{w.study}/estimates.csv"] if STUDIES[w.study].get("models") else [])
                            + ([f"results/{w.study}/concentration.csv"] if STUDIES[w.study].get("concentration")
                               else []),
        descriptives=lambda w: [f"results/{w.study}/descriptives_{t}.csv" for t in STUDIES[w.study].get("tables", {})],
        truth=lambda w: ([f"results/data/{dataset_of(w.study)}_synthetic_truth.csv"]
                         if is_synthetic(dataset_of(w.study)) else []),
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


def used_datasets():
    return sorted({s["dataset"] for s in STUDIES.values()})


rule report:
    input:
        study_outputs=[f for f in all_targets() if f != "results/report.html"],
        config="config.yaml",
        # Provenance: each dataset's file (its sha256) and canonical data (its rows).
        data=[path for name in used_datasets() for path in (DATASETS[name]["path"], f"data/interim/{name}.parquet")],
        code=code("report"),
    output:
        report=report("results/report.html", caption="captions/report.rst", category="Report"),
    params:
        studies=STUDIES,
        datasets=DATASETS,
        # A rule parameter: a new commit (or an edit of a tracked file) rewrites the report's provenance.
        code_version=CODE_VERSION,
    log:
        "logs/report.log",
    message:
        "Writing results/report.html"
    run:
        run_step(rule, log[0], studies=params.studies, datasets=params.datasets, code_version=params.code_version,
                 config=input.config,
                 data={name: [DATASETS[name]["path"], f"data/interim/{name}.parquet"] for name in used_datasets()},
                 report=output.report)
