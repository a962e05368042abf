# Raw release (synthetic when configured) -> canonical respondent-level data.
from migrant_health.synth import GENERATORS


def generator_of(dataset):
    return GENERATORS[config["datasets"][dataset]["generator"]["survey"]]


def generator_published(dataset):
    return [f"data/published/{name}.yaml" for name in generator_of(dataset).published]


def generator_studies(dataset):
    """The models of the studies the generator solves its truth for, and nothing else of them:
    editing a table or a filter does not regenerate the survey, editing such a model does."""
    studies = config["studies"]
    return {name: {"models": studies[name]["models"]} for name in generator_of(dataset).models
            if studies.get(name, {}).get("models")}


if any(d["synthetic"] for d in config["datasets"].values()):

    rule synthesize:
        input:
            published=lambda w: generator_published(w.dataset),
            codebook=lambda w: config["datasets"][w.dataset]["codebook"],
            code=code(*(f"synth/{p.name}" for p in sorted((PKG / "synth").glob("*.py"))),
                      "stats/margins.py", "stats/design.py", "stats/concentration.py"),
        output:
            raw="data/raw/{dataset}_synthetic.sav",
            truth="results/data/{dataset}_synthetic_truth.csv",
            notes="results/data/{dataset}_synthetic_notes.txt",
        params:
            dataset=lambda w: config["datasets"][w.dataset],
            studies=lambda w: generator_studies(w.dataset),
        log:
            "logs/synthesize_{dataset}.log",
        message:
            "Generating the synthetic {wildcards.dataset} release (calibrated to data/published)"
        run:
            run_step(log[0], "synthesize", params.dataset, params.studies, "data/published", output.raw,
                     output.truth, output.notes)

    rule document_synthetic:
        input:
            truth="results/data/{dataset}_synthetic_truth.csv",
            notes="results/data/{dataset}_synthetic_notes.txt",
            published=lambda w: generator_published(w.dataset),
            code=code("synth/pages.py"),
        output:
            page="results/data/{dataset}_synthetic.md",
        params:
            survey=lambda w: config["datasets"][w.dataset]["generator"]["survey"],
        log:
            "logs/document_synthetic_{dataset}.log",
        message:
            "Setting the synthetic {wildcards.dataset} truth beside the published numbers"
        run:
            run_step(log[0], "document_synthetic", params.survey, "data/published", input.truth, input.notes,
                     output.page)


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
