"""The steps the Snakemake rules call, one function per rule. Never imports snakemake."""
from pathlib import Path

import pandas as pd

from . import derive, published, sample
from .io import codebook as cb
from .io import read
from .tables import descriptive, render


def synthesize(dataset: dict, published_dir, out) -> None:
    """Write the synthetic CMDS 2014 release calibrated to data/published/*.yaml."""
    from .synth import cmds2014

    docs = {name: published.load(Path(published_dir) / f"{name}.yaml")
            for name in ("benefit", "medical_return", "inequality")}
    targets = cmds2014.targets_from_published(docs["benefit"], docs["medical_return"], docs["inequality"])
    g = dataset["generator"]
    raw = cmds2014.generate(targets, seed=g["seed"], n_respondents=g["n_respondents"],
                            benefit_scale=g["benefit_scale"])
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    cmds2014.write_sav(raw, out)


def ingest(dataset: dict, raw_path, interim, report) -> None:
    """Raw file + codebook -> canonical respondent-level parquet and the code count report."""
    book = cb.load_codebook(dataset["codebook"])
    raw = read.read_raw(raw_path, book.sources)
    canonical, code_report = cb.apply_codebook(raw, book, dataset["undeclared_codes"])
    frame = derive.derive_all(canonical, book.survey)
    _write_parquet(frame, interim)
    Path(report).parent.mkdir(parents=True, exist_ok=True)
    code_report.to_csv(report, index=False, lineterminator="\n")


def make_sample(study_name: str, study: dict, interim, analytic, flow_csv) -> None:
    """Ordered filters with their flow, then sample-level derivations."""
    df = pd.read_parquet(interim)
    kept, flow = sample.apply_filters(df, study["sample"], f"config.yaml: studies.{study_name}.sample")
    kept = sample.add_sample_derivations(kept, study)
    _write_parquet(kept, analytic)
    Path(flow_csv).parent.mkdir(parents=True, exist_ok=True)
    flow.to_csv(flow_csv, index=False, lineterminator="\n")


def descriptive_table(study_name: str, study: dict, table: str, analytic, tidy_csv, stem,
                      synthetic: bool) -> None:
    """A descriptive table: tidy numbers, then the printed layout in four formats."""
    spec = study["tables"][table]
    df = pd.read_parquet(analytic)
    tidy = descriptive.describe(df, spec, study_name, table)
    Path(tidy_csv).parent.mkdir(parents=True, exist_ok=True)
    tidy.to_csv(tidy_csv, index=False, lineterminator="\n", float_format="%.10g")
    render.write_table(descriptive.display(tidy, spec), stem, spec["title"], spec.get("note", ""), synthetic)


def _write_parquet(df: pd.DataFrame, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.reset_index(drop=True).to_parquet(path, index=False, compression="zstd")
