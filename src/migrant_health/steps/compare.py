"""Rule compare: a study's published numbers beside ours (and beside the synthetic truth)."""

import pandas as pd

from .. import published as pub
from ..io.files import read_tidy, write_csv


def compare(published: str, estimates: list, descriptives: list, truth: list, analytic: str, comparison: str) -> None:
    """`estimates`: the study's tidy estimates (models, concentration indices); `truth`: the
    synthetic truth of its dataset, if synthetic. Empty lists for what the study lacks."""
    ours = pub.Ours(
        pd.read_parquet(analytic),
        pd.concat([read_tidy(p) for p in estimates], ignore_index=True) if estimates else None,
        pd.concat([read_tidy(p) for p in descriptives], ignore_index=True) if descriptives else None,
    )
    result = pub.compare(pub.load(published), ours)
    if truth:
        known = read_tidy(truth[0])[pub.KEYS + ["truth"]].drop_duplicates(pub.KEYS)
        result = result.drop(columns="truth").merge(known, on=pub.KEYS, how="left")[pub.COMPARISON_COLUMNS]
    write_csv(result, comparison, float_format="%.6g")
