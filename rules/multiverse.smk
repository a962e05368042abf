# A study's multiverse (multiverse.py): its variants fitted in chunks (each job reads the canonical
# data once and fits its variants in turn), gathered in order into multiverse.csv with the
# specification curve.
from migrant_health import multiverse as _multiverse


def multiverse_spec(study, with_captions=False):
    """What the variants are made of: the sample, its derivations, the models without their bootstrap
    settings, and the multiverse without its captions and conclusions (editing those refits nothing)."""
    spec = {k: STUDIES[study].get(k) for k in ("sample", "quantile_groups")}
    spec["models"] = outputs.without_bootstrap(STUDIES[study]["models"])
    shown = ("title", "note", "conclusions")
    spec["multiverse"] = {k: v for k, v in STUDIES[study]["multiverse"].items() if with_captions or k not in shown}
    return spec


def multiverse_survey(study):
    spec = STUDIES[study]
    return survey_of(study) if _multiverse.uses_survey(spec["multiverse"], spec["models"]) else None


def multiverse_chunks(study):
    return [f for f in outputs.multiverse_files(study, STUDIES[study]) if "/multiverse/chunk" in f]


rule multiverse_chunk:
    wildcard_constraints:
        chunk=r"[1-9][0-9]*",
    input:
        interim=lambda w: [f"data/interim/{d}.parquet" for d in datasets_of(w.study)],
        code=code("multiverse_chunk"),
    output:
        rows="results/{study}/multiverse/chunk{chunk}.csv",
    params:
        spec=lambda w: multiverse_spec(w.study),
        datasets=lambda w: datasets_of(w.study),
        survey=lambda w: multiverse_survey(w.study),
    log:
        "logs/multiverse_chunk_{study}_{chunk}.log",
    message:
        "Fitting the {wildcards.study} multiverse, chunk {wildcards.chunk}"
    run:
        run_step(rule, log[0], study=wildcards.study, spec=params.spec, datasets=params.datasets,
                 interim=list(input.interim), chunk=int(wildcards.chunk), rows=output.rows, survey=params.survey)


rule multiverse_gather:
    input:
        chunks=lambda w: multiverse_chunks(w.study),
        sources=lambda w: sources_of(w.study),
        code=code("multiverse_gather"),
    output:
        multiverse="results/{study}/multiverse.csv",
        image=report("results/{study}/figures/specification_curve.png", caption="captions/specification_curve.rst",
                     category="{study}", subcategory="Figures", labels={"figure": "specification_curve"}),
        formats=[f"results/{{study}}/figures/specification_curve.{ext}" for ext in outputs.FIGURE_FORMATS
                 if ext != "png"],
    params:
        spec=lambda w: multiverse_spec(w.study, with_captions=True),
        labels=lambda w: STUDIES[w.study].get("labels", {}),
        synthetic=lambda w: study_synthetic(w.study),
    log:
        "logs/multiverse_gather_{study}.log",
    message:
        "Gathering the {wildcards.study} multiverse and drawing its specification curve"
    run:
        run_step(rule, log[0], study=wildcards.study, spec=params.spec, labels=params.labels,
                 chunks=list(input.chunks), multiverse=output.multiverse,
                 stem=f"results/{wildcards.study}/figures/specification_curve", synthetic=params.synthetic,
                 sources=list(input.sources))
