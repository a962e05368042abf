"""Odds ratios after a logistic model, as Stata's `logit, or` reports them.

OR = exp(b); its standard error by the delta method, exp(b) x se(b); the z statistic and
p-value of b; the 95% interval by exponentiating the Wald limits of b (not OR +- 1.96 se).
Any fit of the estimator protocol (stats/estimators.py) with a logit link: logit, a binomial
GLM with logit link, or the random-intercept logit.
"""

import numpy as np
import pandas as pd

from ..errors import InputError
from .inference import wald


def odds_ratios(fit, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
    if fit.spec.family_and_link() != ("binomial", "logit"):
        raise InputError(
            f"{fit.spec.name}: odds ratios need a logit model, not {fit.spec.kind} "
            f"({', '.join(fit.spec.family_and_link())}); report coef or ame instead."
        )
    coefs = fit.tidy(study=study, sample=sample, equation=equation)
    se = np.sqrt(np.diag(fit.cov))
    _, _, low, high = wald(fit.params, se)
    rows = coefs.assign(
        estimand="odds_ratio",
        estimate=np.exp(coefs["estimate"]),
        std_error=np.exp(fit.params) * se,
        conf_low=np.exp(low),
        conf_high=np.exp(high),
    )
    rows.loc[~rows["estimable"], ["std_error", "conf_low", "conf_high"]] = np.nan
    return rows[rows["term"] != "_cons"].reset_index(drop=True)
