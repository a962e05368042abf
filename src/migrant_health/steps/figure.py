"""Rule figure: one of a study's figures (PNG and PDF) and the numbers it draws (CSV)."""

from pathlib import Path

import pandas as pd

from ..figures import plots
from ..io.files import read_tidy, write_csv


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
) -> None:
    """`estimates`: the study's estimates.csv for a forest plot, else empty."""
    where = f"config.yaml: studies.{study}.figures.{name}"
    if spec["kind"] == "flowchart":
        plots.flowchart(pd.read_csv(flow), spec["title"], stem, synthetic)
        return
    if spec["kind"] == "forest":
        data = plots.odds_ratio_rows(read_tidy(estimates[0]), spec, labels, where)
        plots.forest(data, spec["title"], stem, synthetic)
    else:
        df = pd.read_parquet(analytic)
        data = plots.shares(df, spec, where) if spec["kind"] == "shares" else plots.share_by_group(df, spec, where)
        plots.bar_chart(data, spec["title"], stem, synthetic, with_ci=spec["kind"] == "share_by_group")
    write_csv(data, Path(stem).with_suffix(".csv"), float_format="%.6g")
