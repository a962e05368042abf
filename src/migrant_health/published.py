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
            names = {"mean": ("mean", "sd"), "percent": ("percent", "sd"), "share": ("count", "percent")}[r["stat"]]
            level = str(r.get("level", "True" if r["stat"] == "percent" else ""))
            for estimand, value in zip(names, (first, second)):
                rows.append({"model": table, "sample": column, "equation": "", "term": r["term"],
                             "level": level, "estimand": estimand, "published": value,
                             "source": _source(doc, t, r)})
    return pd.DataFrame(rows)


def _source(doc: dict, table: dict, row: dict) -> str:
    return f"{doc['source']['seed']}, {table['table']}, row \"{row['row']}\""


# A standard error printed as 0.000 is below half a unit of the last digit.
PRINTED_SE_FLOOR = 0.0005


def effect_rows(doc: dict, tables=("table3", "table4")) -> pd.DataFrame:
    """Published marginal effects as tidy rows: one per table row and model column."""
    rows = []
    columns = doc["table3"]["columns"]
    for name in tables:
        t = doc[name]
        for r in t["rows"]:
            for model, meta in columns.items():
                estimate, se, marks = r[model]
                rows.append({"model": model, "sample": r.get("sample", "total"), "equation": meta["equation"],
                             "term": r["term"], "level": str(r.get("level", "")), "estimand": meta["estimand"],
                             "published": estimate, "published_se": se, "published_stars": marks,
                             "source": _source(doc, t, r)})
    return pd.DataFrame(rows)


def compare_effects(estimates: pd.DataFrame, published: pd.DataFrame, within_se: float = 2.0) -> pd.DataFrame:
    """Published effects beside ours: diff, z = diff / our SE, and agreement within
    `within_se` published standard errors (0.0005 for an SE printed as 0.000)."""
    ours = estimates.assign(level=estimates["level"].fillna("").astype(str))
    merged = published.merge(ours[KEYS + ["estimate", "std_error"]], on=KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    merged["z"] = merged["diff"] / merged["std_error"]
    bound = within_se * merged["published_se"].clip(lower=PRINTED_SE_FLOOR)
    merged["agrees"] = merged["diff"].abs() <= bound
    return merged


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
