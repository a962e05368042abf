"""The steps the Snakemake rules call, one function per rule. Never imports snakemake."""
from pathlib import Path

import pandas as pd

from . import derive, published, sample
from .config import CONCENTRATION_FIGURES, CONCENTRATION_TABLES
from .io import codebook as cb
from .io import read
from .synth import GENERATORS, pages
from .tables import descriptive, render


def synthesize(dataset: dict, studies: dict, published_dir, out, truth_csv, notes_txt) -> None:
    """Write a synthetic survey calibrated to data/published/*.yaml and to the studies' models
    (`studies`: study name -> config entry), and the true effects of its outcome equations
    (aggregates, for the comparison and the report) with the generator's notes."""
    settings = dataset["generator"]
    generator = GENERATORS[settings["survey"]]
    release = generator.generate(settings, _published_docs(generator, published_dir), studies,
                                 cb.load_codebook(dataset["codebook"]))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    release.write_sav(out)
    Path(truth_csv).parent.mkdir(parents=True, exist_ok=True)
    release.truth.to_csv(truth_csv, index=False, lineterminator="\n", float_format="%.10g")
    Path(notes_txt).write_text("".join(f"{note}\n" for note in release.notes))


def document_synthetic(survey: str, published_dir, truth_csv, notes_txt, out) -> None:
    """results/data/<dataset>_synthetic.md: what the generator produced against the published numbers."""
    docs = _published_docs(GENERATORS[survey], published_dir)
    notes = Path(notes_txt).read_text().splitlines()
    Path(out).write_text(pages.page(survey, _read_tidy(truth_csv), notes, docs))


def _published_docs(generator, published_dir) -> dict:
    return {name: published.load(Path(published_dir) / f"{name}.yaml") for name in generator.published}


def ingest(dataset: dict, raw_path, interim, report) -> None:
    """Raw file + codebook -> canonical respondent-level parquet and the code count report."""
    book = cb.load_codebook(dataset["codebook"])
    raw = read.read_raw(raw_path, book.sources)
    canonical, code_report = cb.apply_codebook(raw, book, dataset["undeclared_codes"])
    frame = derive.derive_all(canonical, book.survey, book.dataset)
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


def _read_tidy(path) -> pd.DataFrame:
    """Tidy numbers (estimates, descriptives, truth) as written, levels as text."""
    return published.text_levels(pd.read_csv(path, keep_default_na=False, na_values=[""]))


def _write_parquet(df: pd.DataFrame, path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    df.reset_index(drop=True).to_parquet(path, index=False, compression="zstd")


def fit_study(study_name: str, study: dict, analytic, estimates_csv, model_flow_csv, messages_txt) -> None:
    """Every equation in every subsample -> tidy estimates, the model flow, and the fit notes."""
    from .estimation import fit_models

    df = pd.read_parquet(analytic)
    estimates, flow, messages = fit_models(df, study["models"], study_name)
    for path in (estimates_csv, model_flow_csv, messages_txt):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    estimates.to_csv(estimates_csv, index=False, lineterminator="\n", float_format="%.10g")
    flow.to_csv(model_flow_csv, index=False, lineterminator="\n")
    Path(messages_txt).write_text("".join(f"{m}\n" for m in messages))


def effect_table(study: dict, table: str, estimates_csv, stem, synthetic: bool) -> None:
    from .tables.effects import effect_table as build

    spec = study["effect_tables"][table]
    estimates = _read_tidy(estimates_csv)
    shown = build(estimates, spec, study.get("labels", {}))
    render.write_table(shown, stem, spec["title"], spec.get("note", ""), synthetic)


def figure(study: dict, name: str, analytic, flow_csv, stem, synthetic: bool, estimates_csv=None) -> None:
    from .figures import plots

    spec = study["figures"][name]
    if spec["kind"] == "flowchart":
        plots.flowchart(pd.read_csv(flow_csv), spec["title"], stem, synthetic)
        return
    if spec["kind"] == "forest":
        estimates = _read_tidy(estimates_csv)
        data = plots.odds_ratio_rows(estimates, spec, study.get("labels", {}))
        plots.forest(data, spec["title"], stem, synthetic)
        data.to_csv(Path(stem).with_suffix(".csv"), index=False, lineterminator="\n", float_format="%.6g")
        return
    df = pd.read_parquet(analytic)
    data = plots.shares(df, spec) if spec["kind"] == "shares" else plots.share_by_group(df, spec)
    plots.bar_chart(data, spec["title"], stem, synthetic, with_ci=spec["kind"] == "share_by_group")
    data.to_csv(Path(stem).with_suffix(".csv"), index=False, lineterminator="\n", float_format="%.6g")


def concentration(study_name: str, study: dict, analytic, estimates_csv, out_dir, synthetic: bool) -> None:
    """Concentration indices, their decomposition, tables and figures (studies.<s>.concentration)."""
    from . import inequality
    from .figures import plots

    spec, labels = study["concentration"], study.get("labels", {})
    df = pd.read_parquet(analytic)
    estimates = _read_tidy(estimates_csv)
    out = Path(out_dir)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    index_stem, decomposition_stem = (out / "tables" / name for name in CONCENTRATION_TABLES)
    curves_stem, chart_stem = (out / "figures" / name for name in CONCENTRATION_FIGURES)
    tidy = inequality.indices(df, spec, study_name)
    tidy.to_csv(out / "concentration.csv", index=False, lineterminator="\n", float_format="%.10g")
    dec = inequality.decompositions(df, spec, study["models"], estimates)
    dec.to_csv(out / "decomposition.csv", index=False, lineterminator="\n", float_format="%.10g")
    note = (f"Ranked by {spec['rank']}; standard errors from the convenient regression ({spec['vce']}"
            f"{' by ' + spec['cluster'] if spec['vce'] == 'cluster' else ''}), as Stata's conindex. "
            f"Wagstaff and Erreygers indices for outcomes bounded in {spec['bounds']}.")
    render.write_table(inequality.index_table(tidy, spec), index_stem,
                       "Concentration indices of health service use by income", note, synthetic)
    render.write_table(inequality.decomposition_table(dec, spec, labels), decomposition_stem,
                       "Decomposition of the concentration indices (Wagstaff, van Doorslaer and Watanabe 2003)",
                       "Contribution of a determinant = marginal effect x 2 cov(determinant, income rank) / mean use; "
                       "marginal effects from the study's logit models.", synthetic)
    outcome_labels = {o: info["label"] for o, info in spec["outcomes"].items()}
    plots.concentration_curves(inequality.curves(df, spec), outcome_labels, "Concentration curves of health "
                               "service use by income", curves_stem, synthetic)
    plots.decomposition_chart(dec, labels, outcome_labels, "Contributions to the concentration indices",
                              chart_stem, synthetic)


def compare(published_yaml, estimate_csvs: list, descriptive_csvs: list, truth_csv, analytic, out) -> None:
    """comparison.csv: published numbers beside ours (and beside the synthetic truth, if any).
    `estimate_csvs`: tidy estimates (models, concentration indices) of the study."""
    doc = published.load(published_yaml)
    frames = [published.sample_rows(doc, pd.read_parquet(analytic))]
    if estimate_csvs:
        estimates = pd.concat([_read_tidy(path) for path in estimate_csvs], ignore_index=True)
        if "table3" in doc:
            frames.append(published.compare_effects(estimates, published.effect_rows(doc)))
        listed = published.estimate_rows(doc)
        if not listed.empty:
            odds = listed["estimand"] == "odds_ratio"
            frames.append(published.compare_odds_ratios(estimates, listed[odds]))
            frames.append(published.compare_listed(estimates, listed[~odds]))
        if truth_csv:
            truth = _read_tidy(truth_csv)
            effects = pd.concat(frames[1:], ignore_index=True)
            frames[1:] = [effects.merge(truth[published.KEYS + ["truth"]], on=published.KEYS, how="left")]
    descriptives = [_read_tidy(path) for path in descriptive_csvs]
    for ours in descriptives:
        table = ours["model"].iloc[0]
        if table in doc:
            frames.append(published.compare_descriptives(ours, published.descriptive_rows(doc, table)))
    if "crosstabs" in doc:
        frames.append(published.compare_crosstabs(doc, pd.concat(descriptives, ignore_index=True)))
    columns = published.KEYS + ["published", "published_se", "published_conf_low", "published_conf_high",
                                "published_stars", "estimate", "std_error", "conf_low", "conf_high", "diff",
                                "scale", "z", "agrees", "truth", "source"]
    result = pd.concat([f for f in frames if not f.empty], ignore_index=True).reindex(columns=columns)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(out, index=False, lineterminator="\n", float_format="%.6g")


def report(config: dict, out) -> None:
    """results/report.html from the study outputs already written."""
    from .report import html

    sections = []
    for name, study in config["studies"].items():
        base = Path("results") / name
        synthetic = config["datasets"][study["dataset"]]["synthetic"]
        table_names = list(study.get("tables", {})) + list(study.get("effect_tables", {}))
        figure_names = list(study.get("figures", {}))
        if study.get("concentration"):
            table_names += list(CONCENTRATION_TABLES)
            figure_names += list(CONCENTRATION_FIGURES)
        tables = [base / "tables" / f"{t}.csv" for t in table_names]
        figures = [base / "figures" / f"{f}.png" for f in figure_names]
        comparison = base / "comparison.csv"
        notes_files = [base / "model_messages.txt"]
        if synthetic:   # what the generator could not reach, beside the study it concerns
            notes_files.append(Path("results") / "data" / f"{study['dataset']}_synthetic_notes.txt")
        notes = [line for f in notes_files if f.exists() for line in f.read_text().splitlines()]
        sections.append(html.study_section(name, study.get("title", name), synthetic, base / "flow.csv", tables,
                                           figures, comparison if comparison.exists() else None, notes))
    html.write_report(sections, out)
