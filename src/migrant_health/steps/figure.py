"""Rule figure: one of a study's figures (PNG and PDF), its caption (JSON) and the numbers it
draws (CSV)."""

from pathlib import Path

import pandas as pd

from ..figures import plots
from ..io.files import read_provenance, read_tidy, write_csv


def figure(
    study: str,
    name: str,
    spec: dict,
    labels: dict,
    analytic: str,
    flow: str,
    estimates: list,
    stem: str,
    synthetic: bool,
    sources: list,
) -> None:
    """`estimates`: the study's estimates.csv for a forest plot, else empty; `sources`: the
    provenance records of the study's real datasets (none when synthetic)."""
    where = f"config.yaml: studies.{study}.figures.{name}"
    provenance = read_provenance(sources)
    if spec["kind"] == "flowchart":
        steps = pd.read_csv(flow)
        plots.flowchart(steps, stem, synthetic)
        note = plots.flowchart_note(steps)
        plots.write_caption(stem, spec["title"], [n for n in (spec.get("note", ""), note) if n], synthetic, provenance)
        return
    if spec["kind"] == "forest":
        data = plots.odds_ratio_rows(read_tidy(estimates[0]), spec, labels, where)
        plots.forest(data, stem, synthetic)
    else:
        df = pd.read_parquet(analytic)
        data = plots.shares(df, spec, where) if spec["kind"] == "shares" else plots.share_by_group(df, spec, where)
        plots.bar_chart(data, stem, synthetic, with_ci=spec["kind"] == "share_by_group")
    plots.write_caption(stem, spec["title"], spec.get("note", ""), synthetic, provenance)
    write_csv(data, Path(stem).with_suffix(".csv"), float_format="%.6g")
