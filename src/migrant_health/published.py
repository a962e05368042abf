"""Published numbers (data/published/*.yaml) beside ours.

They are compared with results, never used as results (the synthetic generator reads them
as calibration targets, which is what "calibrated to the published tables" means).

Each published file declares in `compare:` how each of its blocks is compared, by a kind
of COMPARATORS; a block that is only a calibration target says `none`. Agreement rules
live in AGREEMENT, and their wording in RULES: the comparator applies them, each compared
row carries its rule's text, and the report prints them, so the three cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError
from .io.files import text_levels
from .io.yamlfile import read_yaml

KEYS = ["model", "sample", "equation", "term", "level", "estimand"]
DESCRIPTIVE_KEYS = ["table", "column", "term", "level", "estimand"]
COMPARISON_COLUMNS = [
    "block",
    "table",
    "column",
    "model",
    "sample",
    "equation",
    "term",
    "level",
    "estimand",
    "published",
    "published_se",
    "published_conf_low",
    "published_conf_high",
    "published_stars",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "diff",
    "scale",
    "z",
    "agrees",
    "rule",
    "truth",
    "source",
]
# Keys of a published file that are not blocks of numbers.
METADATA = ("study", "source", "compare", "p_reading")

# The agreement rules, in one place.
AGREEMENT = {
    "effect_se": 2.0,  # effects: within this many published standard errors
    "printed_se_floor": 0.0005,  # a standard error printed as 0.000 is below half a unit of the last digit
    "listed_se": 2.0,  # numbers printed without an SE: within this many of our standard errors
    "count_relative": 0.03,  # sample sizes: within this share of the published n
    "share_points": 3.0,  # shares and percentages: within this many percentage points
    "mean_relative": 0.10,  # means: within this share of the published mean
}
RULES = {
    "effect": (
        f"|ours - published| <= {AGREEMENT['effect_se']:g} published SEs "
        f"({AGREEMENT['printed_se_floor']:g} for an SE printed as 0.000)"
    ),
    "odds_ratio": (
        f"|ln ours - ln published| <= {AGREEMENT['effect_se']:g} published SEs of the log odds ratio "
        f"(recovered from the printed 95% CI)"
    ),
    "listed": f"|ours - published| <= {AGREEMENT['listed_se']:g} of our SEs (printed without an SE)",
    "n": f"within {100 * AGREEMENT['count_relative']:g}% of the published n",
    "percent": f"within {AGREEMENT['share_points']:g} percentage points",
    "mean": f"within {100 * AGREEMENT['mean_relative']:g}% of the published mean",
    "count": "exactly equal",
    "printed": "equal at the printed decimals (a p printed as 0.001 read as at most 0.001 where the file says so)",
}


@dataclass
class Ours:
    """A study's results the comparators read."""

    analytic: pd.DataFrame
    estimates: pd.DataFrame | None = None  # tidy model estimates and concentration indices
    descriptives: pd.DataFrame | None = None  # tidy descriptive tables (DESCRIPTIVE_KEYS)


def load(path) -> dict:
    """A published file, its `compare:` declarations checked against its blocks."""
    path = Path(path)
    doc = read_yaml(path)
    declared = doc.get("compare") or {}
    blocks = [k for k in doc if k not in METADATA]
    for block in blocks:
        if block not in declared:
            raise InputError(
                f"{path}: block '{block}' does not say how it is compared; add it to `compare:` "
                f"with one of {', '.join(COMPARATORS)}."
            )
    for block, kind in declared.items():
        if block not in doc:
            raise InputError(f"{path}: compare.{block}: there is no block '{block}' in the file.")
        if kind not in COMPARATORS:
            raise InputError(f"{path}: compare.{block}: '{kind}' is not one of {', '.join(COMPARATORS)}.")
    return doc


def compare(doc: dict, ours: Ours, blocks=None) -> pd.DataFrame:
    """Every compared block (or those in `blocks`), in the file's `compare:` order, in COMPARISON_COLUMNS."""
    frames = [
        COMPARATORS[kind](doc, block, ours).assign(block=block)
        for block, kind in doc["compare"].items()
        if kind != "none" and (blocks is None or block in blocks)
    ]
    frames = [f for f in frames if not f.empty]
    return (
        pd.concat(frames, ignore_index=True).reindex(columns=COMPARISON_COLUMNS)
        if frames
        else pd.DataFrame(columns=COMPARISON_COLUMNS)
    )


def _source(doc: dict, table: str, row: str) -> str:
    return f'{doc["source"]["seed"]}, {table}, row "{row}"'


# -- sample sizes and shares -------------------------------------------------------------


def sample_rows(doc: dict, block: str, ours: Ours) -> pd.DataFrame:
    """Published sample size and shares beside ours. Entries without a `statistic` are
    calibration targets of the generator only."""
    rows = []
    for q in doc[block]:
        if q.get("statistic") == "n":
            estimate = len(ours.analytic)
            agrees = abs(estimate - q["value"]) <= AGREEMENT["count_relative"] * q["value"]
        elif q.get("statistic") == "percent":
            estimate = 100 * float(ours.analytic[q["variable"]].dropna().astype(float).mean())
            agrees = abs(estimate - q["value"]) <= AGREEMENT["share_points"]
        else:
            continue
        rows.append(
            {
                "model": "sample",
                "sample": "total",
                "equation": "",
                "term": q.get("variable", "n"),
                "level": "",
                "estimand": q["statistic"],
                "published": q["value"],
                "estimate": estimate,
                "diff": estimate - q["value"],
                "agrees": agrees,
                "rule": RULES[q["statistic"]],
                "source": f'{doc["source"]["seed"]}, "{q["row"]}"',
            }
        )
    return pd.DataFrame(rows)


# -- effects printed with their standard errors (a table of models x terms) ----------------


def effect_rows(doc: dict, block: str) -> pd.DataFrame:
    """Published effects as tidy rows: one per table row and model column. Each cell is
    [estimate, standard error, stars as printed]."""
    t = doc[block]
    rows = []
    for r in t["rows"]:
        for model, meta in t["columns"].items():
            estimate, se, marks = r[model]
            rows.append(
                {
                    "model": model,
                    "sample": r.get("sample", "total"),
                    "equation": meta["equation"],
                    "term": r["term"],
                    "level": str(r.get("level", "")),
                    "estimand": meta["estimand"],
                    "published": estimate,
                    "published_se": se,
                    "published_stars": marks,
                    "source": _source(doc, t["table"], r["row"]),
                }
            )
    return pd.DataFrame(rows)


def compare_effects(estimates: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """diff, z = diff / our SE, and agreement within AGREEMENT['effect_se'] published SEs."""
    ours = text_levels(estimates)
    merged = published.merge(ours[KEYS + ["estimate", "std_error"]], on=KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    merged["z"] = merged["diff"] / merged["std_error"]
    bound = AGREEMENT["effect_se"] * merged["published_se"].clip(lower=AGREEMENT["printed_se_floor"])
    return merged.assign(agrees=merged["diff"].abs() <= bound, rule=RULES["effect"])


def _effects(doc: dict, block: str, ours: Ours) -> pd.DataFrame:
    return compare_effects(_required(ours.estimates, block), effect_rows(doc, block))


# -- estimates listed one by one (odds ratios with CIs, indices without SEs) ----------------


def estimate_rows(doc: dict, block: str = "estimates") -> pd.DataFrame:
    """A study's listed estimates as tidy rows. An odds ratio printed with its 95% CI is
    compared on the log scale: its standard error is recovered from the interval,
    (ln high - ln low) / (2 x 1.96), and it is matched with our coefficient."""
    z = stats.norm.ppf(0.975)
    rows = []
    for e in doc.get(block, []):
        row = {k: str(e.get(k, "")) for k in KEYS}
        row.update(
            published=e["estimate"],
            published_se=e.get("std_error", np.nan),
            published_stars=e.get("stars", ""),
            source=f'{doc["source"]["seed"]}, "{e["row"]}"',
        )
        if e["estimand"] == "odds_ratio":
            row.update(
                published_conf_low=e["conf_low"],
                published_conf_high=e["conf_high"],
                published_se=(np.log(e["conf_high"]) - np.log(e["conf_low"])) / (2 * z),
            )
        rows.append(row)
    return pd.DataFrame(rows)


def compare_odds_ratios(estimates: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Judged on the log scale: diff = ln(ours) - ln(published), z = diff / our SE of the log
    odds, agreement within AGREEMENT['effect_se'] published log SEs."""
    ours = text_levels(estimates)
    coef = ours[ours["estimand"] == "coef"][[k for k in KEYS if k != "estimand"] + ["std_error"]]
    odds = ours[ours["estimand"] == "odds_ratio"][KEYS + ["estimate", "conf_low", "conf_high"]]
    merged = published.merge(odds, on=KEYS, how="left").merge(coef, on=[k for k in KEYS if k != "estimand"], how="left")
    merged["diff"] = np.log(merged["estimate"]) - np.log(merged["published"])
    merged["z"] = merged["diff"] / merged["std_error"]
    return merged.assign(
        agrees=merged["diff"].abs() <= AGREEMENT["effect_se"] * merged["published_se"],
        scale="log",
        rule=RULES["odds_ratio"],
    )


def compare_listed(estimates: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Numbers printed without a standard error (e.g. concentration indices) beside ours:
    z = diff / our SE, agreement within AGREEMENT['listed_se'] of our standard errors."""
    ours = text_levels(estimates)
    merged = published.drop(columns=["published_se"]).merge(
        ours[KEYS + ["estimate", "std_error", "conf_low", "conf_high"]], on=KEYS, how="left"
    )
    merged["diff"] = merged["estimate"] - merged["published"]
    merged["z"] = merged["diff"] / merged["std_error"]
    return merged.assign(agrees=merged["z"].abs() <= AGREEMENT["listed_se"], rule=RULES["listed"])


def _estimates(doc: dict, block: str, ours: Ours) -> pd.DataFrame:
    listed = estimate_rows(doc, block)
    estimates = _required(ours.estimates, block)
    odds = listed["estimand"] == "odds_ratio"
    return pd.concat(
        [compare_odds_ratios(estimates, listed[odds]), compare_listed(estimates, listed[~odds])], ignore_index=True
    )


# -- descriptive tables ----------------------------------------------------------------------


def descriptive_rows(doc: dict, block: str) -> pd.DataFrame:
    """A printed descriptive table (the study's table of the same name) as tidy rows:
    count and percent, or mean and sd, per column."""
    t = doc[block]
    names = {"mean": ("mean", "sd"), "percent": ("percent", "sd"), "share": ("count", "percent")}
    rows = []
    for r in t["rows"]:
        level = str(r.get("level", "True" if r["stat"] == "percent" else ""))
        for column in t["columns"]:
            if column not in r:
                continue
            for estimand, value in zip(names[r["stat"]], r[column]):
                rows.append(
                    {
                        "table": block,
                        "column": column,
                        "term": r["term"],
                        "level": level,
                        "estimand": estimand,
                        "published": value,
                        "source": _source(doc, t["table"], r["row"]),
                    }
                )
    return pd.DataFrame(rows)


def compare_descriptives(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """A percent agrees within AGREEMENT['share_points'], a mean within AGREEMENT['mean_relative'];
    counts and SDs are shown, not judged."""
    merged = published.merge(text_levels(ours)[DESCRIPTIVE_KEYS + ["estimate"]], on=DESCRIPTIVE_KEYS, how="left")
    merged["diff"] = merged["estimate"] - merged["published"]
    percent, mean = merged["estimand"] == "percent", merged["estimand"] == "mean"
    merged["agrees"] = pd.NA
    merged.loc[percent, "agrees"] = merged["diff"].abs() <= AGREEMENT["share_points"]
    merged.loc[mean, "agrees"] = (merged["diff"].abs() / merged["published"].abs()) <= AGREEMENT["mean_relative"]
    merged["rule"] = np.select([percent, mean], [RULES["percent"], RULES["mean"]], "")
    return merged


def _descriptive(doc: dict, block: str, ours: Ours) -> pd.DataFrame:
    descriptives = _required(ours.descriptives, block)
    return compare_descriptives(descriptives[descriptives["table"] == block], descriptive_rows(doc, block))


# -- crosstabs by the outcome (counts exact, tests at the printed decimals) ------------------


def matches_printed(printed: float, ours: float, decimals: int = 3, at_most: tuple = ()) -> bool:
    """Equal to the printed number at its decimals; a printed value listed in `at_most` (a paper
    printing p < 0.001 as 0.001) is matched by anything not above it."""
    if printed in at_most:
        return bool(round(ours, decimals) <= printed)
    return bool(round(ours, decimals) == round(printed, decimals))


def _crosstab_rows(doc: dict, tabs: list, ours: pd.DataFrame) -> pd.DataFrame:
    """Every printed count (after the documented corrections) and test of `tabs`, beside ours
    (descriptive tidy rows: columns 'False'/'True' and 'test')."""
    at_most = tuple(float(k) for k, v in doc.get("p_reading", {}).items() if v == "at_most")
    ours = text_levels(ours).drop_duplicates(["column", "term", "level", "estimand"])
    value = ours.set_index(["column", "term", "level", "estimand"])["estimate"]
    rows = []

    def add(tab, column, level, estimand, printed, estimate, agrees, rule, correction=""):
        rows.append(
            {
                "table": tab["table"],
                "column": column,
                "term": tab["variable"],
                "level": level,
                "estimand": estimand,
                "published": printed,
                "estimate": estimate,
                "diff": estimate - printed,
                "agrees": agrees,
                "rule": RULES[rule],
                "source": f'{doc["source"]["seed"]}, {tab["table"]}, row "{tab["row"]}"{correction}',
            }
        )

    for tab in tabs:
        corrected = {str(k) for k in tab.get("printed", {})}
        for level, counts in tab.get("levels", {}).items():
            fixed = " (corrected; see data/published)" if str(level) in corrected else ""
            for column, printed in zip(("False", "True"), counts):
                got = value.get((column, tab["variable"], str(level), "count"), float("nan"))
                add(tab, column, str(level), "count", printed, got, got == printed, "count", fixed)
        test = tab["test"]
        if "chi2" in test:
            got = value.get(("test", tab["variable"], "", "chi2"), float("nan"))
            add(tab, "test", "", "chi2", test["chi2"], got, matches_printed(test["chi2"], got), "printed")
        estimand = {"pearson": "p_value"}.get(test["p_kind"], test["p_kind"])
        got = value.get(("test", tab["variable"], "", estimand), float("nan"))
        add(tab, "test", "", estimand, test["p"], got, matches_printed(test["p"], got, at_most=at_most), "printed")
    return pd.DataFrame(rows)


def compare_crosstabs(doc: dict, block: str, descriptives: pd.DataFrame) -> pd.DataFrame:
    return _crosstab_rows(doc, doc[block], descriptives)


def _crosstabs(doc: dict, block: str, ours: Ours) -> pd.DataFrame:
    return compare_crosstabs(doc, block, _required(ours.descriptives, block))


def _crosstab_test(doc: dict, block: str, ours: Ours) -> pd.DataFrame:
    """A variable printed with its test only (e.g. age: mean and chi-square of single years)."""
    test = doc[block]["test"]
    tab = {"table": test["table"], "variable": block, "row": test["row"], "test": test}
    return _crosstab_rows(doc, [tab], _required(ours.descriptives, block))


def _required(frame: pd.DataFrame | None, block: str) -> pd.DataFrame:
    if frame is None:
        raise InputError(
            f"published block '{block}' needs results the study does not produce "
            f"(models or tables); remove the block from `compare:` or configure them."
        )
    return frame


COMPARATORS = {
    "sample": sample_rows,
    "effects": _effects,
    "estimates": _estimates,
    "descriptive": _descriptive,
    "crosstabs": _crosstabs,
    "crosstab_test": _crosstab_test,
    "none": None,  # a calibration target of the synthetic generator, not a printed result
}
