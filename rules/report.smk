# Published numbers beside ours, then one self-contained page.


rule compare:
    input:
        published="data/published/{study}.yaml",
        estimates=lambda w: estimates_of(w.study) + concentration_of(w.study),
        descriptives=lambda w: descriptives_of(w.study),
        truth=lambda w: truth_of(w.study),
        analytic="data/analytic/{study}.parquet",
        code=code("published.py", "workflow.py"),
    output:
        comparison="results/{study}/comparison.csv",
    log:
        "logs/compare_{study}.log",
    message:
        "Comparing {wildcards.study} with its published numbers"
    run:
        run_step(log[0], "compare", input.published, list(input.estimates),
                 list(input.descriptives), input.truth[0] if input.truth else None, input.analytic,
                 output.comparison)


rule report:
    input:
        study_outputs=study_targets(),
        generator_notes=[f"results/data/{d}_synthetic_notes.txt" for d in sorted({s["dataset"] for s in
                         config["studies"].values()}) if is_synthetic(d)],
        code=code("report/html.py"),
    output:
        report="results/report.html",
    log:
        "logs/report.log",
    message:
        "Writing results/report.html"
    run:
        run_step(log[0], "report", config, output.report)
