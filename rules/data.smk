# Raw release (synthetic when configured) -> canonical respondent-level data.


if any(d["synthetic"] for d in config["datasets"].values()):

    rule synthesize:
        input:
            published=lambda w: [f"data/published/{name}.yaml" for name in
                                 GENERATOR_TARGETS[config["datasets"][w.dataset]["generator"]["survey"]]],
            codebook=lambda w: config["datasets"][w.dataset]["codebook"],
            code=code("synth/cmds2014.py", "synth/jinan_mefc.py", "synth/quota.py", "synth/release.py",
                      "synth/benefit_truth.py", "synth/medical_return_truth.py", "synth/inequality_truth.py",
                      "synth/calibrate.py", "stats/margins.py", "stats/design.py", "stats/concentration.py"),
        output:
            raw="data/raw/{dataset}_synthetic.sav",
            truth="results/data/{dataset}_synthetic_truth.csv",
            notes="results/data/{dataset}_synthetic_notes.txt",
        params:
            dataset=lambda w: config["datasets"][w.dataset],
        log:
            "logs/synthesize_{dataset}.log",
        message:
            "Generating the synthetic {wildcards.dataset} release (calibrated to data/published)"
        run:
            run_step(log[0], "synthesize", params.dataset, "data/published", output.raw, output.truth,
                     output.notes)


rule ingest:
    input:
        raw=lambda w: raw_path(w.dataset),
        codebook=lambda w: config["datasets"][w.dataset]["codebook"],
        code=code("io/read.py", "io/codebook.py", "derive.py"),
    output:
        interim="data/interim/{dataset}.parquet",
        report="results/data/{dataset}_codebook.csv",
    params:
        dataset=lambda w: config["datasets"][w.dataset],
    log:
        "logs/ingest_{dataset}.log",
    message:
        "Reading {input.raw} through {input.codebook}"
    run:
        run_step(log[0], "ingest", params.dataset, input.raw, output.interim, output.report)
