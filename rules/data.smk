# Raw release (synthetic when configured) -> canonical respondent-level data.


rule synthesize:
    # Only a dataset declared synthetic is ever generated: a real dataset whose file is missing
    # stops the run instead of being replaced by synthetic data.
    wildcard_constraints:
        dataset="|".join(name for name, d in DATASETS.items() if d["synthetic"]) or "no_synthetic_datasets",
    input:
        published=lambda w: [published_file(name) for name in
                             GENERATOR_TARGETS[DATASETS[w.dataset]["generator"]["survey"]]],
        codebook=lambda w: DATASETS[w.dataset]["codebook"],
        code=code("synthesize"),
    output:
        raw="data/raw/{dataset}_synthetic.sav",
        truth="results/data/{dataset}_synthetic_truth.csv",
        notes="results/data/{dataset}_synthetic_notes.txt",
    params:
        dataset=lambda w: DATASETS[w.dataset],
    log:
        "logs/synthesize_{dataset}.log",
    message:
        "Generating the synthetic {wildcards.dataset} release (calibrated to data/published)"
    run:
        run_step(rule, log[0], dataset=params.dataset, published=list(input.published), raw=output.raw,
                 truth=output.truth, notes=output.notes)


rule ingest:
    input:
        raw=lambda w: DATASETS[w.dataset]["path"],
        codebook=lambda w: DATASETS[w.dataset]["codebook"],
        code=code("ingest"),
    output:
        interim="data/interim/{dataset}.parquet",
        report="results/data/{dataset}_codebook.csv",
    params:
        dataset=lambda w: DATASETS[w.dataset],
    log:
        "logs/ingest_{dataset}.log",
    message:
        "Reading {input.raw} through {input.codebook}"
    run:
        run_step(rule, log[0], dataset=params.dataset, name=wildcards.dataset, raw=input.raw, interim=output.interim,
                 report=output.report)
