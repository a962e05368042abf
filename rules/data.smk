# Raw release (synthetic when configured) -> canonical respondent-level data.
from migrant_health.synth import GENERATORS


def generator_of(dataset):
    return GENERATORS[DATASETS[dataset]["generator"]["survey"]]


def generator_codebook(dataset):
    """The codebook the generator solves with: the dataset's, or its own layout's when it writes another."""
    settings = DATASETS[dataset]["generator"]
    return generator_of(dataset).codebook(settings["layout"], DATASETS[dataset]["codebook"])


def generator_published(dataset):
    return [published_file(name) for name in generator_of(dataset).published]


def generator_studies(dataset):
    """The equations the generator solves its truth for (with their study's shared model keys),
    and nothing else: editing a table, a filter or another equation does not regenerate the
    survey; editing such an equation does."""
    out = {}
    for name, equations in generator_of(dataset).models.items():
        models = STUDIES.get(name, {}).get("models")
        if models:
            kept = {e: spec for e, spec in models["equations"].items() if equations is None or e in equations}
            shared = {k: models[k] for k in ("covariates", "vce", "cluster", "weights") if k in models}
            out[name] = {"models": {**shared, "equations": kept}}
    return out


# Only a dataset declared synthetic is ever generated: a real dataset whose file is missing
# stops the run instead of being replaced by synthetic data.
wildcard_constraints:
    synthetic_dataset="|".join(name for name, d in DATASETS.items() if d["synthetic"]) or "no_synthetic_datasets",


rule synthesize:
    input:
        published=lambda w: generator_published(w.synthetic_dataset),
        codebook=lambda w: generator_codebook(w.synthetic_dataset),
        code=code("synthesize"),
    output:
        raw="data/raw/{synthetic_dataset}_synthetic.sav",
        truth="results/data/{synthetic_dataset}_synthetic_truth.csv",
        notes="results/data/{synthetic_dataset}_synthetic_notes.txt",
    params:
        dataset=lambda w: DATASETS[w.synthetic_dataset],
        studies=lambda w: generator_studies(w.synthetic_dataset),
    log:
        "logs/synthesize_{synthetic_dataset}.log",
    message:
        "Generating the synthetic {wildcards.synthetic_dataset} release (calibrated to data/published)"
    run:
        run_step(rule, log[0], dataset=params.dataset, studies=params.studies, published=list(input.published),
                 codebook=input.codebook, raw=output.raw, truth=output.truth, notes=output.notes)


rule document_synthetic:
    input:
        truth="results/data/{synthetic_dataset}_synthetic_truth.csv",
        notes="results/data/{synthetic_dataset}_synthetic_notes.txt",
        published=lambda w: generator_published(w.synthetic_dataset),
        code=code("document_synthetic"),
    output:
        page="results/data/{synthetic_dataset}_synthetic_page.md",
    params:
        survey=lambda w: DATASETS[w.synthetic_dataset]["generator"]["survey"],
    log:
        "logs/document_synthetic_{synthetic_dataset}.log",
    message:
        "Setting the synthetic {wildcards.synthetic_dataset} truth beside the published numbers"
    run:
        run_step(rule, log[0], survey=params.survey, published=list(input.published), truth=input.truth,
                 notes=input.notes, page=output.page)


rule ingest:
    input:
        raw=lambda w: DATASETS[w.dataset]["path"],
        codebook=lambda w: DATASETS[w.dataset]["codebook"],
        code=code("ingest"),
    output:
        interim="data/interim/{dataset}.parquet",
        report="results/data/{dataset}_codebook.csv",
        source="data/interim/{dataset}.source.json",
    params:
        dataset=lambda w: DATASETS[w.dataset],
        # A real dataset's ingestion removes the synthetic truth and notes of datasets not synthetic now
        # (a synthetic dataset's ingestion removes nothing, and does not rerun when another one changes).
        synthetic_datasets=lambda w: ([] if DATASETS[w.dataset]["synthetic"]
                                      else sorted(name for name, d in DATASETS.items() if d["synthetic"])),
    log:
        "logs/ingest_{dataset}.log",
    message:
        "Reading {input.raw} through {input.codebook}"
    run:
        run_step(rule, log[0], dataset=params.dataset, name=wildcards.dataset,
                 synthetic_datasets=params.synthetic_datasets, raw=input.raw, interim=output.interim,
                 report=output.report, source=output.source)
