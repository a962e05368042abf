"""Rule concentration: a study's concentration indices, their decomposition, tables and figures."""

from pathlib import Path

import pandas as pd

from .. import concentration as stage
from ..estimation import whole_file_design
from ..figures import plots
from ..io.files import read_provenance, read_tidy, write_csv
from ..outputs import CONCENTRATION_FIGURES, CONCENTRATION_TABLES
from ..tables import concentration as tables
from ..tables import render


def concentration(
    study: str,
    spec: dict,
    models: dict,
    labels: dict,
    analytic: str,
    estimates: str,
    out_dir: str,
    synthetic: bool,
    sources: list,
    survey: dict | None = None,
    interim: list | None = None,
    bootstrap: list | None = None,
) -> None:
    """`spec`: studies.<study>.concentration; `models`: the study's models (for the decomposition);
    `sources`: the provenance records of the study's real datasets (none when synthetic); with vce
    survey, `survey` the design and `interim` the whole files (every wave) it is read from; with
    `concentration.bootstrap`, `bootstrap` the gathered intervals (rows of estimand
    `<index> bootstrap percentile|bca` after the analytic ones in concentration.csv)."""
    provenance = read_provenance(sources)
    df = pd.read_parquet(analytic)
    design = whole_file_design(survey, interim, f"config.yaml: studies.{study}.survey")
    out = Path(out_dir)
    index_stem, decomposition_stem = (out / "tables" / name for name in CONCENTRATION_TABLES)
    curves_stem, chart_stem = (out / "figures" / name for name in CONCENTRATION_FIGURES)
    tidy = stage.indices(df, spec, study, design)
    if bootstrap:
        tidy = pd.concat([tidy, read_tidy(bootstrap[0])], ignore_index=True)
    write_csv(tidy, out / "concentration.csv")
    dec = stage.decompositions(df, spec, models, read_tidy(estimates))
    write_csv(dec, out / "decomposition.csv")
    index_spec, decomposition_spec = (spec["tables"][name] for name in CONCENTRATION_TABLES)
    render.write_table(
        tables.index_table(tidy, spec),
        index_stem,
        index_spec["title"],
        [tables.variance_sentence(spec), index_spec.get("note", "")] + tables.bootstrap_sentences(tidy, spec),
        synthetic,
        provenance,
    )
    render.write_table(
        tables.decomposition_table(dec, spec, labels),
        decomposition_stem,
        decomposition_spec["title"],
        decomposition_spec.get("note", ""),
        synthetic,
        provenance,
    )
    outcome_labels = {o: info["label"] for o, info in spec["outcomes"].items()}
    curves_spec, chart_spec = (spec["figures"][name] for name in CONCENTRATION_FIGURES)
    plots.concentration_curves(stage.curves(df, spec), outcome_labels, curves_spec, curves_stem, synthetic)
    plots.decomposition_chart(dec, labels, outcome_labels, chart_spec, chart_stem, synthetic)
    for figure_spec, stem in ((curves_spec, curves_stem), (chart_spec, chart_stem)):
        plots.write_caption(stem, figure_spec["title"], figure_spec.get("note", ""), synthetic, provenance)
