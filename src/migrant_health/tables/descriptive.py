"""Descriptive tables (n (%), mean (±SD)) as tidy rows, then as a display frame."""
import numpy as np
import pandas as pd

from ..sample import evaluate

TIDY_COLUMNS = ["study", "model", "sample", "equation", "term", "level", "reference", "estimand",
                "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high", "n_obs", "converged"]


def _row(study, table, column, term, level, estimand, estimate, n_obs) -> dict:
    return {"study": study, "model": table, "sample": column, "equation": "", "term": term,
            "level": level, "reference": "", "estimand": estimand, "estimate": estimate, "n_obs": n_obs}


def describe(df: pd.DataFrame, spec: dict, study: str, table: str) -> pd.DataFrame:
    """One tidy row per printed number: count and percent, or mean and sd.

    Percentages and means are over the rows where the variable is observed (n_obs),
    as SPSS and Stata tabulate by default.
    """
    rows = []
    for column in spec["columns"]:
        sub = df
        if column.get("keep"):
            sub = df[evaluate(df, column["keep"], f"tables.{table}.columns '{column['name']}'")[0]]
        for r in spec["rows"]:
            if r["term"] not in sub.columns:
                raise KeyError(f"tables.{table}.rows: unknown variable '{r['term']}'")
            x = sub[r["term"]].dropna()
            if r["stat"] == "mean":
                rows.append(_row(study, table, column["name"], r["term"], "", "mean", float(x.mean()), len(x)))
                rows.append(_row(study, table, column["name"], r["term"], "", "sd", float(x.std(ddof=1)), len(x)))
                continue
            levels = {"True": True} if r["stat"] == "share" else r["levels"]
            for level, value in levels.items():
                key = True if r["stat"] == "share" else level
                count = int((x.astype(object) == key).sum())
                pct = 100 * count / len(x) if len(x) else np.nan
                rows.append(_row(study, table, column["name"], r["term"], level, "count", count, len(x)))
                rows.append(_row(study, table, column["name"], r["term"], level, "percent", pct, len(x)))
    return pd.DataFrame(rows).reindex(columns=TIDY_COLUMNS)


def display(tidy: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The table as printed: a label column, then 'n (%)' or 'mean (±SD)' per column."""
    value = tidy.set_index(["sample", "term", "level", "estimand"])["estimate"]
    headers = {c["name"]: f"{c['label']} (N={_column_n(tidy, c['name'])})" for c in spec["columns"]}
    lines = []

    def cells(term, level, stat):
        out = {}
        for c in spec["columns"]:
            name = c["name"]
            if stat == "mean":
                out[headers[name]] = f"{value[(name, term, '', 'mean')]:.2f} (±{value[(name, term, '', 'sd')]:.2f})"
            else:
                out[headers[name]] = (f"{int(value[(name, term, level, 'count')])} "
                                      f"({value[(name, term, level, 'percent')]:.2f})")
        return out

    for r in spec["rows"]:
        if r["stat"] == "levels":
            lines.append({"Variables": r["label"], **{h: "" for h in headers.values()}})
            for level, label in r["levels"].items():
                lines.append({"Variables": f"  {label}", **cells(r["term"], level, "levels")})
        else:
            lines.append({"Variables": r["label"], **cells(r["term"], "True" if r["stat"] == "share" else "",
                                                           r["stat"])})
    return pd.DataFrame(lines)


def _column_n(tidy: pd.DataFrame, column: str) -> int:
    """Rows in a column: the largest n behind its counts (a variable observed for all)."""
    shares = tidy[(tidy["sample"] == column) & (tidy["estimand"] == "count")]
    return int(shares["n_obs"].max())
