"""A fitted model's own statistics, as Stata prints them under its estimates (and esttab at the
foot of a table): sample size, log likelihood, McFadden's pseudo-R2, information criteria,
clusters or groups, the GLM dispersion.

Definitions (Stata 17 manuals; tests/test_fit_statistics.py checks them against the Stata
output stored with statsmodels' test suite):

* `n_obs`: observations used (`e(N)`).
* `log_likelihood` (`e(ll)`): after `logit`/`probit` the Bernoulli log likelihood; after
  `regress` the normal log likelihood at the ML variance, SSR/N; after `glm` the family's log
  likelihood at scale 1 for the exponential families without a free scale (binomial, Poisson)
  and also for gamma and inverse Gaussian (Stata evaluates them at phi = 1; statsmodels' own
  `llf` uses its Pearson scale there), at the ML scale SSR/N for the Gaussian; after a random-
  intercept logit, glmer's logLik (-deviance / 2, Laplace or adaptive quadrature).
  With probability weights it is Stata's log pseudolikelihood (weights as given, not rescaled).
* `pseudo_r2` (`e(r2_p)`), binary models only (logit, probit, and a binomial GLM of a 0/1
  outcome): McFadden's 1 - ll / ll0, ll0 that of the constant-only model, as `logit` prints it.
  A random-intercept logit has none (neither `melogit` nor glmer prints one).
* `r2` after linear regression (`e(r2)`), weighted as `regress [aw]`.
* `aic`, `bic`: as `estat ic`: -2 ll + 2 k and -2 ll + k ln N, k the estimated parameters
  (a random-intercept logit's group variance counted, as `estat ic` after `melogit` and
  glmer's AIC count it). Not reported with probability weights (a pseudolikelihood is not a
  likelihood; Stata's `estat ic` warns the same).
* With vce survey none of log_likelihood, pseudo_r2, aic and bic (Stata's `svy:` estimators
  store no log likelihood); `n_obs` is then the subpopulation's observations ("Subpop. no. obs").
* `n_clusters` with vce cluster (`e(N_clust)`); `n_groups` for a random-intercept model
  (`melogit`'s "Number of groups").
* `dispersion` after `glm`: the Pearson chi2 / (N - k), Stata's "(1/df) Pearson".

A two-part model's combination (Stata's `twopm`) reports the parts' summed log likelihood, its
information criteria with both parts' parameters, and the first part's N.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .stats.inference import TIDY_COLUMNS

# The statistics in the order tables print them (esttab's N, ll, r2_p, aic, bic).
STATISTICS = ("n_obs", "log_likelihood", "pseudo_r2", "r2", "aic", "bic", "n_clusters", "n_groups", "dispersion")
# The term of their tidy rows: a model's, not a covariate's (as `_cons` names the intercept).
MODEL_TERM = "_model"
BINARY_KINDS = ("logit", "probit")


def _binary_loglik(y, p, w) -> float:
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return float(np.sum(w * (y * np.log(p) + (1 - y) * np.log1p(-p))))


def _raw_weights(fitted) -> np.ndarray:
    """Probability weights as given (Stata's pseudolikelihood sums them unscaled), else ones."""
    if fitted.spec.survey_weights:
        return fitted.data[fitted.spec.survey_weights].astype("float64").to_numpy()
    return np.ones(len(fitted.y))


def index_model_statistics(fitted) -> dict:
    """Statistics of an index model (stats/models.py: FittedModel)."""
    from .stats.models import FAMILIES

    spec = fitted.spec
    family_name, _ = spec.family_and_link()
    y, X, w = fitted.y, fitted.X, _raw_weights(fitted)
    # Parameters estimated: a term perfect separation leaves unidentified is not one (Stata drops it).
    n, k = len(y), X.shape[1] - len(getattr(fitted, "not_identified", []))
    eta = X @ fitted.params
    mu = eta if spec.kind == "ols" else fitted.link.inverse(eta)
    out = {"n_obs": n}
    binary = family_name == "binomial" and np.isin(y, (0.0, 1.0)).all()
    if spec.kind == "ols" or family_name == "gaussian":
        residuals = y - mu
        ssr = float(np.sum(w * residuals**2))
        scale = ssr / np.sum(w)
        ll = -0.5 * np.sum(w) * (np.log(2 * np.pi * scale) + 1)
        if spec.kind == "ols":
            centred = y - np.average(y, weights=w)
            out_r2 = 1 - ssr / float(np.sum(w * centred**2))
    elif binary:
        ll = _binary_loglik(y, mu, w)
    else:
        family = FAMILIES[family_name](link=fitted.link)
        ll = float(family.loglike(y, mu, var_weights=np.ones(n), freq_weights=w, scale=1.0))
    survey = spec.vce == "survey"
    if not survey:
        out["log_likelihood"] = float(ll)
    if binary and (spec.kind in BINARY_KINDS or spec.kind == "glm") and not survey:
        p0 = np.average(y, weights=w)
        ll0 = _binary_loglik(y, np.full(n, p0), w)
        out["pseudo_r2"] = 1 - ll / ll0 if ll0 != 0 else np.nan
    if spec.kind == "ols":
        out["r2"] = out_r2
    if not spec.survey_weights and not survey:
        out["aic"], out["bic"] = information_criteria(ll, k, n)
    if spec.vce == "cluster" and spec.cluster:
        out["n_clusters"] = int(fitted.data[spec.cluster].nunique())
    if spec.kind == "glm":
        variance = FAMILIES[family_name](link=fitted.link).variance(mu)
        out["dispersion"] = float(np.sum(fitted.weights * (y - mu) ** 2 / variance) / (n - k))
    return out


def information_criteria(ll: float, k: int, n: int) -> tuple[float, float]:
    """(AIC, BIC) as Stata's `estat ic`."""
    return -2 * ll + 2 * k, -2 * ll + k * np.log(n)


def mixed_logit_statistics(fitted) -> dict:
    """A random-intercept logit (stats/mixed.py: MixedLogitFit): k counts the group variance."""
    aic, bic = information_criteria(fitted.loglik, len(fitted.params) + 1, fitted.n_obs)
    return {
        "n_obs": fitted.n_obs,
        "log_likelihood": float(fitted.loglik),
        "aic": aic,
        "bic": bic,
        "n_groups": fitted.n_groups,
    }


def statistics(fitted) -> dict:
    """The statistics of any fit of the estimator seam (stats/estimators.py)."""
    if hasattr(fitted, "n_groups") and hasattr(fitted, "loglik"):
        return mixed_logit_statistics(fitted)
    return index_model_statistics(fitted)


def two_part_statistics(first: dict, second: dict, k_first: int, k_second: int) -> dict:
    """A two-part model's combination: summed log likelihood, both parts' parameters, the first part's N
    (N alone when a part has no log likelihood: vce survey)."""
    if "log_likelihood" not in first or "log_likelihood" not in second:
        return {"n_obs": first["n_obs"]}
    ll = first["log_likelihood"] + second["log_likelihood"]
    aic, bic = information_criteria(ll, k_first + k_second, first["n_obs"])
    return {"n_obs": first["n_obs"], "log_likelihood": ll, "aic": aic, "bic": bic}


def tidy_rows(
    values: dict, model: str, study: str, sample: str, equation: str, converged: bool, names=STATISTICS
) -> pd.DataFrame:
    """The statistics as tidy rows (term `_model`, estimand the statistic's name), in the order of
    `names` (STATISTICS; a bootstrap's are its own), each with the N of `values["n_obs"]`."""
    rows = [
        {
            "study": study,
            "model": model,
            "sample": sample,
            "equation": equation,
            "term": MODEL_TERM,
            "level": "",
            "reference": "",
            "estimand": name,
            "estimate": float(values[name]),
            "n_obs": int(values["n_obs"]),
            "converged": bool(converged),
            "estimable": True,
        }
        for name in names
        if name in values and values[name] is not None
    ]
    return pd.DataFrame(rows).reindex(columns=TIDY_COLUMNS)
