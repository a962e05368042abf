"""Published numbers (data/published/*.yaml): loading them as tidy rows and comparing.

They are compared with results, never used as results. The synthetic generator reads
them as calibration targets, which is what "calibrated to the published tables" means.
"""
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

KEYS = ["model", "sample", "equation", "term", "level", "estimand"]


def text_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Tidy rows with `level` as text: '' for a term without levels (a CSV reads it back as missing)."""
    return frame.assign(level=frame["level"].fillna("").astype(str))


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


def estimate_rows(doc: dict) -> pd.DataFrame:
    """A study's `estimates:` list as tidy rows. An odds ratio printed with its 95% CI is
    compared on the log scale: its standard error is recovered from the interval,
    (ln high - ln low) / (2 x 1.96), and it is matched with our coefficient."""
    z = stats.norm.ppf(0.975)
    rows = []
    for e in doc.get("estimates", []):
        row = {k: str(e.get(k, "")) for k in KEYS}
        row.update(published=e["estimate"], published_se=e.get("std_error", np.nan),
                   published_stars=e.get("stars", ""), source=f"{doc['source']['seed']}, \"{e['row']}\"")
        if e["estimand"] == "odds_ratio":
            row.update(published_conf_low=e["conf_low"], published_conf_high=e["conf_high"],
                       published_se=(np.log(e["conf_high"]) - np.log(e["conf_low"])) / (2 * z))
        rows.append(row)
    return pd.DataFrame(rows)


def compare_odds_ratios(estimates: pd.DataFrame, published: pd.DataFrame, within_se: float = 2.0) -> pd.DataFrame:
    """Odds ratios beside ours, judged on the log scale: diff = ln(ours) - ln(published),
    z = diff / our SE of the log odds, agreement within `within_se` published log SEs."""
    ours = text_levels(estimates)
    coef = ours[ours["estimand"] == "coef"][[k for k in KEYS if k != "estimand"] + ["std_error"]]
    odds = ours[ours["estimand"] == "odds_ratio"][KEYS + ["estimate", "conf_low", "conf_high"]]
    merged = (published.merge(odds, on=KEYS, how="left")
              .merge(coef, on=[k for k in KEYS if k != "estimand"], how="left"))
    merged["diff"] = np.log(merged["estimate"]) - np.log(merged["published"])
    merged["z"] = merged["diff"] / merged["std_error"]
    merged["agrees"] = merged["diff"].abs() <= within_se * merged["published_se"]
    merged["scale"] = "log"
    return merged


def compare_listed(estimates: pd.DataFrame, published: pd.DataFrame, within_se: float = 2.0) -> pd.DataFrame:
    """Published numbers printed without a standard error (e.g. concentration indices) beside
    ours: z = diff / our SE, agreement within `within_se` of our standard errors."""
    ours = text_levels(estimates)
    merged = published.drop(columns=["published_se"]).merge(
        ours[KEYS + ["estimate", "std_error", "conf_low", "conf_high"]], on=KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    merged["z"] = merged["diff"] / merged["std_error"]
    merged["agrees"] = merged["z"].abs() <= within_se
    return merged


def matches_printed(printed: float, ours: float, decimals: int = 3, at_most: tuple = ()) -> bool:
    """Equal to the printed number at its decimals; a printed value listed in `at_most` (a paper
    printing p < 0.001 as 0.001) is matched by anything not above it."""
    if printed in at_most:
        return bool(round(ours, decimals) <= printed)
    return bool(round(ours, decimals) == round(printed, decimals))


def compare_crosstabs(doc: dict, ours: pd.DataFrame) -> pd.DataFrame:
    """Every printed count (after the documented corrections) and test of a study's crosstabs
    by its outcome, beside ours (descriptive tidy rows: samples 'False'/'True' and 'test')."""
    at_most = tuple(float(k) for k, v in doc.get("p_reading", {}).items() if v == "at_most")
    ours = text_levels(ours).drop_duplicates(["sample", "term", "level", "estimand"])
    value = ours.set_index(["sample", "term", "level", "estimand"])["estimate"]
    rows = []

    def add(table, term, sample, level, estimand, printed, ours_value, agrees, row, correction=""):
        rows.append({"model": table, "sample": sample, "equation": "", "term": term, "level": level,
                     "estimand": estimand, "published": printed, "estimate": ours_value, "diff": ours_value - printed,
                     "agrees": agrees, "source": f"{doc['source']['seed']}, {table}, row \"{row}\"{correction}"})

    tabs = list(doc.get("crosstabs", []))
    if "age" in doc:
        tabs.append({"table": doc["age"]["test"]["table"], "variable": "age", "row": "Age", "test": doc["age"]["test"],
                     "levels": {}})
    for tab in tabs:
        for level, counts in tab["levels"].items():
            fixed = " (corrected; see data/published)" if str(level) in {str(k) for k in tab.get("printed", {})} else ""
            for sample, printed in zip(("False", "True"), counts):
                got = value.get((sample, tab["variable"], str(level), "count"), float("nan"))
                add(tab["table"], tab["variable"], sample, str(level), "count", printed, got, got == printed,
                    tab["row"], fixed)
        test = tab["test"]
        if "chi2" in test:
            got = value.get(("test", tab["variable"], "", "chi2"), float("nan"))
            add(tab["table"], tab["variable"], "test", "", "chi2", test["chi2"], got,
                matches_printed(test["chi2"], got), tab["row"])
        estimand = {"pearson": "p_value"}.get(test["p_kind"], test["p_kind"])
        got = value.get(("test", tab["variable"], "", estimand), float("nan"))
        add(tab["table"], tab["variable"], "test", "", estimand, test["p"], got,
            matches_printed(test["p"], got, at_most=at_most), tab["row"])
    return pd.DataFrame(rows)


def sample_rows(doc: dict, analytic: pd.DataFrame, count_relative: float = 0.03,
                share_points: float = 3.0) -> pd.DataFrame:
    """Published sample size and shares beside ours (counts within 3%, shares within 3 points)."""
    rows = []
    for q in doc.get("sample", []):
        if q.get("statistic") == "n":
            ours, agrees = len(analytic), abs(len(analytic) - q["value"]) <= count_relative * q["value"]
        elif q.get("statistic") == "percent":
            ours = 100 * float(analytic[q["variable"]].dropna().astype(float).mean())
            agrees = abs(ours - q["value"]) <= share_points
        else:
            continue   # a calibration target of a study not configured here
        rows.append({"model": "sample", "sample": "total", "equation": "", "term": q.get("variable", "n"),
                     "level": "", "estimand": q["statistic"], "published": q["value"], "estimate": ours,
                     "diff": ours - q["value"], "agrees": agrees,
                     "source": f"{doc['source']['seed']}, \"{q['row']}\""})
    return pd.DataFrame(rows)


def compare_effects(estimates: pd.DataFrame, published: pd.DataFrame, within_se: float = 2.0) -> pd.DataFrame:
    """Published effects beside ours: diff, z = diff / our SE, and agreement within
    `within_se` published standard errors (0.0005 for an SE printed as 0.000)."""
    ours = text_levels(estimates)
    merged = published.merge(ours[KEYS + ["estimate", "std_error"]], on=KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    merged["z"] = merged["diff"] / merged["std_error"]
    bound = within_se * merged["published_se"].clip(lower=PRINTED_SE_FLOOR)
    merged["agrees"] = merged["diff"].abs() <= bound
    return merged


def compare_descriptives(ours: pd.DataFrame, published: pd.DataFrame,
                         share_points: float = 3.0, mean_relative: float = 0.10) -> pd.DataFrame:
    """Join on the tidy keys; a percent agrees within `share_points`, a mean within `mean_relative`."""
    ours = text_levels(ours).assign(equation="")
    merged = published.merge(ours[KEYS + ["estimate"]], on=KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    rule = merged["estimand"].map({"percent": "abs", "mean": "rel"})
    merged["agrees"] = pd.NA
    merged.loc[rule == "abs", "agrees"] = merged["diff"].abs() <= share_points
    merged.loc[rule == "rel", "agrees"] = (merged["diff"].abs() / merged["published"].abs()) <= mean_relative
    return merged
