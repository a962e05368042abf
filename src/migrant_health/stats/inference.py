"""Wald inference shared by every estimand: statistic, p-value, 95% interval, tidy rows.

Normal (z) inference after ML models, as Stata's `margins` and ML commands report it;
Student t with the residual degrees of freedom after linear regression (`regress`).
"""

import numpy as np
import pandas as pd
from scipy import stats

# The tidy contract of every estimate: one row per number. `estimable` is False for a term the
# data cannot identify (perfect separation): its numbers are left empty, never printed.
TIDY_COLUMNS = [
    "study",
    "model",
    "sample",
    "equation",
    "term",
    "level",
    "reference",
    "estimand",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "n_obs",
    "converged",
    "estimable",
]


def wald(estimate, std_error, df_resid=None, level: float = 0.95):
    """(statistic, p_value, conf_low, conf_high), elementwise."""
    estimate, std_error = np.asarray(estimate, float), np.asarray(std_error, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = estimate / std_error
    dist = stats.norm if df_resid is None else stats.t(df_resid)
    p_value = 2 * dist.sf(np.abs(statistic))
    q = dist.ppf(0.5 + level / 2)
    return statistic, p_value, estimate - q * std_error, estimate + q * std_error


def wald_rows(
    labels,
    estimate,
    std_error,
    estimand: str,
    fit,
    study="",
    sample="",
    equation="",
    n_obs=None,
    converged=None,
    estimable=None,
) -> pd.DataFrame:
    """Tidy rows for (term, level, reference) labels with their estimates and standard errors;
    rows not `estimable` keep their labels and lose their numbers."""
    estimable = np.ones(len(labels), dtype=bool) if estimable is None else np.asarray(estimable, dtype=bool)
    estimate = np.where(estimable, np.asarray(estimate, float), np.nan)
    std_error = np.where(estimable, np.asarray(std_error, float), np.nan)
    statistic, p_value, low, high = wald(estimate, std_error, getattr(fit, "df_resid", None))
    rows = pd.DataFrame(labels, columns=["term", "level", "reference"])
    rows = rows.assign(
        study=study,
        model=fit.spec.name if fit is not None else "",
        sample=sample,
        equation=equation,
        estimand=estimand,
        estimate=estimate,
        std_error=std_error,
        statistic=statistic,
        p_value=p_value,
        conf_low=low,
        conf_high=high,
        n_obs=n_obs if n_obs is not None else fit.n_obs,
        converged=converged if converged is not None else fit.converged,
        estimable=estimable,
    )
    return rows[TIDY_COLUMNS]


def label_column(term: str, level: str) -> str:
    """The design column a (term, level) label stands for ('g=b', or 'x')."""
    return f"{term}={level}" if level else term
