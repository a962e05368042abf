"""Published numbers (data/published/*.yaml): loading them as tidy rows and comparing.

They are compared with results, never used as results. The synthetic generator reads
them as calibration targets, which is what "calibrated to the published tables" means.
"""
from pathlib import Path

import pandas as pd
import yaml

KEYS = ["model", "sample", "equation", "term", "level", "estimand"]


def load(path) -> dict:
    return yaml.safe_load(Path(path).read_text())


def descriptive_rows(doc: dict, table: str = "table1") -> pd.DataFrame:
    """A printed descriptive table as tidy rows (count/percent or mean/sd per column)."""
    t = doc[table]
    rows = []
    for r in t["rows"]:
        for column in t["columns"]:
            if column not in r:
                continue
            first, second = r[column]
            names = ("mean", "sd") if r["stat"] == "mean" else ("count", "percent")
            for estimand, value in zip(names, (first, second)):
                rows.append({"model": table, "sample": column, "equation": "", "term": r["term"],
                             "level": str(r.get("level", "")), "estimand": estimand, "published": value,
                             "source": f"{doc['source']['seed']}, {t['table']}, row \"{r['row']}\""})
    return pd.DataFrame(rows)


def compare_descriptives(ours: pd.DataFrame, published: pd.DataFrame,
                         share_points: float = 3.0, mean_relative: float = 0.10) -> pd.DataFrame:
    """Join on the tidy keys; a percent agrees within `share_points`, a mean within `mean_relative`."""
    ours = ours.assign(level=ours["level"].fillna("").astype(str), equation="")
    merged = published.merge(ours[KEYS + ["estimate"]], on=KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    rule = merged["estimand"].map({"percent": "abs", "mean": "rel"})
    merged["agrees"] = pd.NA
    merged.loc[rule == "abs", "agrees"] = merged["diff"].abs() <= share_points
    merged.loc[rule == "rel", "agrees"] = (merged["diff"].abs() / merged["published"].abs()) <= mean_relative
    return merged
