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


def apply_filters(
    df: pd.DataFrame, steps: list[dict], where: str, by: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analytic sample and its flow: one row per step, starting with the whole file. With
    `by` (the `wave` of pooled datasets), each step also counts the rows kept in each group
    (columns n_after_<group>).

    Each step sees the rows the steps before it kept (only the columns it names are taken, and
    the frame is cut once at the end, so that a large pooled frame is not copied at every step)."""
    groups = list(df[by].cat.categories) if by else []
    labels = df[by].cat.codes.to_numpy() if by else None

    def per_group(positions: np.ndarray) -> dict:
        counts = np.bincount(labels[positions], minlength=len(groups)) if by else []
        return {f"n_after_{g}": int(counts[k]) for k, g in enumerate(groups)}

    positions = np.arange(len(df))
    flow = [
        {
            "step": "start",
            "filter": "",
            "n_before": len(df),
            "n_dropped": 0,
            "n_dropped_missing": 0,
            "n_after": len(df),
            "reason": "respondents in the files" if by else "respondents in the file",
            **per_group(positions),
        }
    ]
    for i, step in enumerate(steps):
        step_where = f"{where}[{i}] '{step['name']}'"
        names = variables_named(step["keep"], step_where)
        # An unknown name is reported against every variable of the frame (closest names).
        columns = df if any(n not in df.columns for n in names) else df[names]
        kept, missing = evaluate(columns.iloc[positions], step["keep"], step_where)
        kept, missing = kept.to_numpy(dtype=bool), missing.to_numpy(dtype=bool)
        before, after = len(positions), int(kept.sum())
        if after == 0:
            raise InputError(
                f"{step_where}: filter `{step['keep']}` leaves no rows "
                f"(of {before} before it). Check the filter and the codes behind it."
            )
        positions = positions[kept]
        flow.append(
            {
                "step": step["name"],
                "filter": step["keep"],
                "n_before": before,
                "n_dropped": before - after,
                "n_dropped_missing": int((missing & ~kept).sum()),
                "n_after": after,
                "reason": step["reason"],
                **per_group(positions),
            }
        )
    return df.iloc[positions], pd.DataFrame(flow, columns=FLOW_COLUMNS + [f"n_after_{g}" for g in groups])


def pool(frames: list[pd.DataFrame], names: list[str], where: str) -> pd.DataFrame:
    """Datasets of several waves as one frame (their `wave` tells them apart): the variables all of
    them hold, each of one type in every wave; a categorical's levels are those of the first wave,
    then any new ones in wave order. Anything else stops with the variable and the datasets."""
    columns = [c for c in frames[0].columns if all(c in f.columns for f in frames[1:])]
    united = {}
    for column in columns:
        parts = [f[column] for f in frames]
        kinds = [_kind(p) for p in parts]
        if len(set(kinds)) > 1:
            listing = ", ".join(f"{n}: {k}" for n, k in zip(names, kinds))
            raise InputError(
                f"{where}: {column} is not of one type in the pooled datasets ({listing}). Declare it with "
                f"the same type in each wave's codebook."
            )
        if kinds[0] == "categorical":
            united[column] = list(dict.fromkeys(level for p in parts for level in p.cat.categories))
    aligned = [
        f[columns].assign(**{c: f[c].cat.set_categories(levels) for c, levels in united.items()}) for f in frames
    ]
    return pd.concat(aligned, ignore_index=True)


def _kind(column: pd.Series) -> str:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(column.dtype):
        return "true/false"
    if pd.api.types.is_numeric_dtype(column.dtype):
        return "integer identifier" if pd.api.types.is_integer_dtype(column.dtype) else "number"
    return "text"


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
