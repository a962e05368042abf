"""A study's sample: ordered, named filters with flow accounting, then sample-level derivations.

A filter is a pandas expression over canonical variables. It keeps a row only when every
variable it names is observed and the condition holds, so a missing value is never kept
by accident (a categorical's NaN != 'x' is True in pandas); such rows are counted apart,
as dropped for missing data, in the flow.
"""
import ast
import builtins

import numpy as np
import pandas as pd

from .errors import InputError, closest

FLOW_COLUMNS = ["step", "filter", "n_before", "n_dropped", "n_dropped_missing", "n_after", "reason"]


def variables_named(expression: str, where: str) -> list[str]:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as e:
        raise InputError(f"{where}: filter `{expression}` does not parse ({e.msg}). "
                         f"Write a pandas expression, e.g. inpatient_12m and age >= 18.") from None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return sorted(names - set(dir(builtins)) - {"true", "false"})


def evaluate(df: pd.DataFrame, expression: str, where: str) -> tuple[pd.Series, pd.Series]:
    """(kept, missing): rows meeting the condition, and rows where a named variable is missing."""
    names = variables_named(expression, where)
    unknown = [n for n in names if n not in df.columns]
    if unknown:
        hints = "; ".join(f"'{n}'{closest(n, df.columns)}" for n in unknown)
        raise InputError(f"{where}: filter `{expression}` names unknown variables: {hints}. "
                         f"Use a canonical variable (results/data/<dataset>_codebook.csv lists them).")
    missing = df[names].isna().any(axis=1) if names else pd.Series(False, index=df.index)
    try:
        condition = df.eval(expression, engine="python")
    except Exception as e:  # pandas raises many types for a bad expression
        raise InputError(f"{where}: filter `{expression}` cannot be evaluated ({type(e).__name__}: {e}).") from None
    if not isinstance(condition, pd.Series) or not (pd.api.types.is_bool_dtype(condition)
                                                    or condition.dropna().isin([True, False]).all()):
        raise InputError(f"{where}: filter `{expression}` does not give true/false for each row.")
    kept = condition.fillna(False).astype(bool) & ~missing
    return kept, missing


def apply_filters(df: pd.DataFrame, steps: list[dict], where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analytic sample and its flow: one row per step, starting with the whole file."""
    flow = [{"step": "start", "filter": "", "n_before": len(df), "n_dropped": 0,
             "n_dropped_missing": 0, "n_after": len(df), "reason": "respondents in the file"}]
    for i, step in enumerate(steps):
        step_where = f"{where}[{i}] '{step['name']}'"
        kept, missing = evaluate(df, step["keep"], step_where)
        after = int(kept.sum())
        if after == 0:
            raise InputError(f"{step_where}: filter `{step['keep']}` leaves no rows "
                             f"(of {len(df)} before it). Check the filter and the codes behind it.")
        flow.append({"step": step["name"], "filter": step["keep"], "n_before": len(df),
                     "n_dropped": len(df) - after, "n_dropped_missing": int((missing & ~kept).sum()),
                     "n_after": after, "reason": step["reason"]})
        df = df[kept]
    return df, pd.DataFrame(flow, columns=FLOW_COLUMNS)


def xtile(values: pd.Series, groups: int) -> pd.Series:
    """Quantile groups as Stata's `xtile` forms them (ties never split across groups).

    Cut points are Stata's default percentiles (the average of the two order statistics
    when n*p/100 is whole, numpy's 'averaged_inverted_cdf'); a value equal to a cut point
    goes to the lower group. Missing values stay missing.
    """
    observed = values.dropna()
    probs = np.arange(1, groups) / groups
    cuts = np.quantile(observed.to_numpy(), probs, method="averaged_inverted_cdf")
    group = np.searchsorted(cuts, observed.to_numpy(), side="left") + 1
    labels = [f"Q{g}" for g in range(1, groups + 1)]
    out = pd.Series(pd.Categorical.from_codes(group - 1, labels), index=observed.index)
    return out.reindex(values.index)


def add_sample_derivations(df: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Quantile groups formed within the analytic sample (e.g. income quintiles)."""
    out = df.copy()
    for name, q in (spec.get("quantile_groups") or {}).items():
        out[name] = xtile(out[q["variable"]], q["groups"])
    return out
