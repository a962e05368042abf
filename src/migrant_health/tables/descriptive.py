"""Descriptive tables (n (%), mean (±SD)) as tidy rows, then as a display frame."""

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError, closest
from ..sample import evaluate

# One row per printed number: the table, its column ('test' for a row's test), the variable
# and level, what the number is (count, percent, mean, sd, chi2, df, p_value, ...).
DESCRIPTIVE_COLUMNS = ["study", "table", "column", "term", "level", "estimand", "estimate", "n_obs"]


def _row(study, table, column, term, level, estimand, estimate, n_obs) -> dict:
    return {
        "study": study,
        "table": table,
        "column": column,
        "term": term,
        "level": level,
        "estimand": estimand,
        "estimate": estimate,
        "n_obs": n_obs,
    }


def _column_rows(df: pd.DataFrame, spec: dict, column: dict, table: str) -> pd.DataFrame:
    if spec.get("by"):
        # Column names are strings in YAML; a boolean `by` has levels "True" and "False".
        by = df[spec["by"]]
        return df[(by.notna() & (by.astype(object).map(str) == str(column["name"]))).to_numpy()]
    if column.get("keep"):
        return df[evaluate(df, column["keep"], f"tables.{table}.columns '{column['name']}'")[0]]
    return df


def describe(df: pd.DataFrame, spec: dict, study: str, table: str) -> pd.DataFrame:
    """One tidy row per printed number: count and percent, or mean and sd, and with `by`,
    the p-value of each row's test (column 'test').

    Percentages and means are over the rows where the variable is observed (n_obs),
    as SPSS and Stata tabulate by default.
    """
    check_table(df, spec, f"config.yaml: studies.{study}.tables.{table}")
    rows = []
    for column in spec["columns"]:
        sub = _column_rows(df, spec, column, table)
        for r in spec["rows"]:
            x = sub[r["term"]].dropna()
            if r["stat"] in ("mean", "percent"):
                values = x.astype(float) * (100 if r["stat"] == "percent" else 1)
                level = "True" if r["stat"] == "percent" else ""
                for estimand, value in ((r["stat"], values.mean()), ("sd", values.std(ddof=1))):
                    rows.append(_row(study, table, column["name"], r["term"], level, estimand, float(value), len(x)))
                continue
            levels = {"True": True} if r["stat"] == "share" else r["levels"]
            as_text = x.astype(object).map(str)  # levels of a boolean are "True" and "False"
            for level in levels:
                count = int((as_text == str(level)).sum())
                pct = 100 * count / len(x) if len(x) else np.nan
                rows.append(_row(study, table, column["name"], r["term"], level, "count", count, len(x)))
                rows.append(_row(study, table, column["name"], r["term"], level, "percent", pct, len(x)))
    if spec.get("by"):
        for r in spec["rows"]:
            for estimand, value in association_tests(df, spec["by"], r).items():
                rows.append(_row(study, table, "test", r["term"], "", estimand, value, len(df)))
    return pd.DataFrame(rows).reindex(columns=DESCRIPTIVE_COLUMNS)


def variable_levels(column: pd.Series) -> list[str]:
    """The levels a variable can take, as text: its categories, or the values it holds."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [str(c) for c in column.cat.categories]
    return sorted({str(v) for v in column.dropna().unique()})


def check_levels(df: pd.DataFrame, variable: str, levels, where: str) -> None:
    """Every level a table or figure names is a level of the variable (closest names if not)."""
    known = variable_levels(df[variable])
    for level in levels:
        if str(level) not in known:
            raise InputError(
                f"{where}: '{level}' is not a level of {variable} ({', '.join(known[:12])})"
                f"{closest(str(level), known)}."
            )


def check_terms(terms, known, where: str) -> None:
    """Terms a table or figure selects must be terms of the model (closest names if not)."""
    known = [str(k) for k in known]
    for term in terms:
        if term not in known:
            raise InputError(
                f"{where}: '{term}' is not a term of the model ({', '.join(known[:15])}){closest(term, known)}."
            )


def check_variable(df: pd.DataFrame, variable: str, where: str) -> None:
    if variable not in df.columns:
        raise InputError(
            f"{where}: '{variable}' is not a variable of the analytic sample{closest(variable, df.columns)}. "
            f"Use a canonical variable (results/data/<dataset>_codebook.csv lists them)."
        )


def check_table(df: pd.DataFrame, spec: dict, where: str) -> None:
    """The table's variables, columns and levels against the data, before any number is computed."""
    if spec.get("by"):
        check_variable(df, spec["by"], f"{where}.by")
        check_levels(df, spec["by"], [c["name"] for c in spec["columns"]], f"{where}.columns")
    for i, r in enumerate(spec["rows"]):
        at = f"{where}.rows[{i}] '{r['term']}'"
        check_variable(df, r["term"], at)
        if r["stat"] == "levels":
            if not r.get("levels"):
                raise InputError(f"{at}: a levels row needs `levels:` (level -> printed label).")
            check_levels(df, r["term"], r["levels"], f"{at}.levels")
        elif r["stat"] in ("share", "percent"):
            check_levels(df, r["term"], ["True"], f"{at} (a {r['stat']} row counts true values)")


def association_tests(df: pd.DataFrame, by: str, row: dict) -> dict:
    """The tests SPSS reports for a row crossed with `by`.

    A share or levels row (or a mean row with `test: chi2`, over its distinct values):
    Pearson chi-square without continuity correction (`chi2`, `df`, `p_value`), and for a
    2x2 table Fisher's exact test, two-sided and one-sided (SPSS's "Exact Sig. (1-sided)":
    the tail in the direction of the observed association). A mean row: one-way ANOVA.
    """
    data = df[[by, row["term"]]].dropna()
    groups = data[by].astype(object).map(str)
    if row["stat"] == "mean" and row.get("test") != "chi2":
        return {
            "p_value": float(stats.f_oneway(*[g.astype(float) for _, g in data[row["term"]].groupby(groups)]).pvalue)
        }
    table = pd.crosstab(groups, data[row["term"]].astype(object).map(str))
    chi2, p, dof, expected = stats.chi2_contingency(table, correction=False)
    out = {"chi2": float(chi2), "df": float(dof), "p_value": float(p)}
    if table.shape == (2, 2):
        counts = table.to_numpy()
        out["fisher_two_sided"] = float(stats.fisher_exact(counts).pvalue)
        direction = "greater" if counts[0, 0] >= expected[0, 0] else "less"
        out["fisher_one_sided"] = float(stats.fisher_exact(counts, alternative=direction).pvalue)
        out["min_expected"] = float(expected.min())
    return out


def format_p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def display(tidy: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """The table as printed: a label column, then 'n (%)' or 'mean (±SD)' per column."""
    value = tidy.set_index(["column", "term", "level", "estimand"])["estimate"]
    headers = {c["name"]: f"{c['label']} (N={_column_n(tidy, c['name'])})" for c in spec["columns"]}
    lines = []

    def cells(term, level, stat):
        out = {}
        for c in spec["columns"]:
            name = c["name"]
            if stat == "mean":
                out[headers[name]] = f"{value[(name, term, '', 'mean')]:.2f} (±{value[(name, term, '', 'sd')]:.2f})"
            elif stat == "percent":
                out[headers[name]] = (
                    f"{value[(name, term, 'True', 'percent')]:.2f} ({value[(name, term, 'True', 'sd')]:.2f})"
                )
            else:
                out[headers[name]] = (
                    f"{int(value[(name, term, level, 'count')])} ({value[(name, term, level, 'percent')]:.2f})"
                )
        return out

    for r in spec["rows"]:
        first = len(lines)  # the row's own line carries its test (a levels row: its heading)
        if r["stat"] == "levels":
            lines.append({"Variables": r["label"], **{h: "" for h in headers.values()}})
            for level, label in r["levels"].items():
                lines.append({"Variables": f"  {label}", **cells(r["term"], level, "levels")})
        else:
            lines.append(
                {"Variables": r["label"], **cells(r["term"], "True" if r["stat"] == "share" else "", r["stat"])}
            )
        if spec.get("by"):
            lines[first].update(_test_cells(value, r["term"], spec.get("fisher", False)))
    return pd.DataFrame(lines).fillna("")


def _test_cells(value: pd.Series, term: str, fisher: bool) -> dict:
    """χ² and its p-value (or ANOVA's p), and with `fisher`, Fisher's exact p for 2x2 tables."""

    def get(estimand):
        return value.get(("test", term, "", estimand), np.nan)

    cells = {"χ²": "" if np.isnan(get("chi2")) else f"{get('chi2'):.3f}", "P value": format_p(get("p_value"))}
    if fisher:
        two, one = get("fisher_two_sided"), get("fisher_one_sided")
        cells["Fisher p (2-sided)"] = "" if np.isnan(two) else format_p(two)
        cells["Fisher p (1-sided)"] = "" if np.isnan(one) else format_p(one)
    return cells


def _column_n(tidy: pd.DataFrame, column: str) -> int:
    """Rows in a column: the largest n behind its numbers (a variable observed for all)."""
    return int(tidy.loc[tidy["column"] == column, "n_obs"].max())
