"""A study's sample: ordered, named filters with flow accounting, then sample-level derivations.

A filter is an expression over canonical variables in the language of expressions.py (not
Python, not pandas), evaluated by evaluation.py. It keeps a row only when every variable it names is observed and the
condition holds, so a missing value is never kept by accident (a categorical's NaN != 'x' is
True in pandas); such rows are counted apart, as dropped for missing data, in the flow.
"""

import numpy as np
import pandas as pd

from . import evaluation, expressions
from .errors import InputError

FLOW_COLUMNS = ["step", "filter", "n_before", "n_dropped", "n_dropped_missing", "n_after", "reason"]


def variables_named(expression: str, where: str) -> list[str]:
    return list(expressions.parse(expression, where).variables)


def evaluate(df: pd.DataFrame, expression: str, where: str) -> tuple[pd.Series, pd.Series]:
    """(kept, missing): rows meeting the condition, and rows where a named variable is missing."""
    return evaluation.evaluate(df, expression, where)


def apply_filters(df: pd.DataFrame, steps: list[dict], where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analytic sample and its flow: one row per step, starting with the whole file."""
    flow = [
        {
            "step": "start",
            "filter": "",
            "n_before": len(df),
            "n_dropped": 0,
            "n_dropped_missing": 0,
            "n_after": len(df),
            "reason": "respondents in the file",
        }
    ]
    for i, step in enumerate(steps):
        step_where = f"{where}[{i}] '{step['name']}'"
        kept, missing = evaluate(df, step["keep"], step_where)
        after = int(kept.sum())
        if after == 0:
            raise InputError(
                f"{step_where}: filter `{step['keep']}` leaves no rows "
                f"(of {len(df)} before it). Check the filter and the codes behind it."
            )
        flow.append(
            {
                "step": step["name"],
                "filter": step["keep"],
                "n_before": len(df),
                "n_dropped": len(df) - after,
                "n_dropped_missing": int((missing & ~kept).sum()),
                "n_after": after,
                "reason": step["reason"],
            }
        )
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
