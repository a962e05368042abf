"""One seam for every estimator: `kind` -> the function that fits it and what it supports.

Every fit returned here shares one protocol: `spec`, `params`, `cov` (from a
stats.variance.Variance), `labels` ((term, level, reference) per parameter), `n_obs`,
`converged`, `messages` and `tidy()` (coefficient rows). Index models (probit, logit, glm,
ols) also carry what margins need: `design`, `X`, `link`, `weights`, `data`.

Adding an estimator is a function returning such a fit and one entry in ESTIMATORS; a
combination an estimator does not support is refused here (and in the config schema),
never silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..errors import InputError
from ..model_spec import APPROXIMATIONS, SUPPORTS, ModelSpec, Supports
from . import mixed, models


@dataclass(frozen=True)
class Estimator:
    fit: Callable
    description: str
    supports: Supports


ESTIMATORS = {
    "probit": Estimator(models.fit_index_model, "probit (maximum likelihood)", SUPPORTS["probit"]),
    "logit": Estimator(models.fit_index_model, "logit (maximum likelihood)", SUPPORTS["logit"]),
    "glm": Estimator(models.fit_index_model, "generalised linear model of `family` and `link`", SUPPORTS["glm"]),
    "ols": Estimator(models.fit_index_model, "linear regression (least squares)", SUPPORTS["ols"]),
    "melogit": Estimator(
        mixed.fit_mixed_logit, "random-intercept logit by `group`, fitted as lme4's glmer", SUPPORTS["melogit"]
    ),
}


def check_supported(spec: ModelSpec) -> None:
    """Refuse a specification its estimator would not honour."""
    if spec.kind not in ESTIMATORS:
        raise InputError(f"{spec.name}: kind '{spec.kind}' is not one of {', '.join(ESTIMATORS)}.")
    estimator = ESTIMATORS[spec.kind].supports
    if spec.vce not in estimator.vce:
        raise InputError(f"{spec.name}: kind {spec.kind} supports vce {', '.join(estimator.vce)}, not '{spec.vce}'.")
    if spec.weights and not estimator.weights:
        raise InputError(f"{spec.name}: kind {spec.kind} does not take probability weights ({spec.weights}).")
    if spec.weights and spec.vce in ("oim", "eim"):
        raise InputError(f"{spec.name}: probability weights need vce robust, cluster or survey (as in Stata).")
    if spec.vce == "survey" and not spec.survey:
        raise InputError(
            f"{spec.name}: vce survey needs `survey:` (its strata, psu, weights, fpc; declared on the "
            f"dataset or the study)."
        )
    if spec.survey and spec.vce != "survey":
        raise InputError(f"{spec.name}: a survey design is used by vce survey only; the vce is '{spec.vce}'.")
    if spec.survey and spec.weights and spec.weights != spec.survey.get("weights"):
        raise InputError(
            f"{spec.name}: weights '{spec.weights}' differ from the survey design's weights "
            f"'{spec.survey.get('weights')}'; the design's weights are the probability weights."
        )
    if spec.approximation != "glmer" and not estimator.group:
        raise InputError(f"{spec.name}: `approximation` belongs to kind melogit; kind {spec.kind} would ignore it.")
    if spec.approximation not in APPROXIMATIONS:
        raise InputError(
            f"{spec.name}: approximation '{spec.approximation}' is not one of {', '.join(APPROXIMATIONS)}."
        )
    if spec.vce == "cluster" and not spec.cluster:
        raise InputError(f"{spec.name}: vce cluster needs `cluster:` (the variable identifying clusters).")
    if estimator.group and not spec.group:
        raise InputError(f"{spec.name}: kind {spec.kind} needs `group:` (the variable identifying the groups).")
    if spec.group and not estimator.group:
        raise InputError(
            f"{spec.name}: kind {spec.kind} takes no `group:` ({spec.group}); use kind melogit "
            f"for a random intercept, or vce cluster for clustered standard errors."
        )
    spec.family_and_link()


def fit(spec: ModelSpec, data: pd.DataFrame, design=None):
    """Fit one equation with the estimator of its kind. With vce survey, `design` is the whole
    file's stats.survey.SurveyDesign and `data` a subpopulation of it (Stata's svy, subpop());
    by default the design is that of `data` itself."""
    check_supported(spec)
    if design is not None:
        return ESTIMATORS[spec.kind].fit(spec, data, design)
    return ESTIMATORS[spec.kind].fit(spec, data)
