"""Model specs and fits on statsmodels, with Stata's variance conventions.

* Probit, logit, GLMs of any statsmodels family and link, and linear regression.
* Variance `oim` (model-based): the inverse of the OBSERVED information, as Stata's ML
  commands and `glm` report by default (statsmodels' IRLS reports the expected
  information, which differs for non-canonical links such as probit or Gamma-log).
  Linear regression: the usual s^2 (X'X)^-1.
* `robust`: the sandwich D (sum s_i s_i') D. Stata multiplies it by n/(n-1) after ML models
  and by n/(n-k) after `regress` (HC1).
* `cluster`: scores summed within clusters; G/(G-1) after ML models, and
  G/(G-1) (n-1)/(n-k) after `regress`.
* Probability weights: weighted estimating equations, robust variance (as Stata forces).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from ..errors import InputError
from .design import INTERCEPT, Design, Factor
from .inference import wald_rows

FAMILIES = {"binomial": sm.families.Binomial, "gamma": sm.families.Gamma, "gaussian": sm.families.Gaussian,
            "poisson": sm.families.Poisson, "inverse_gaussian": sm.families.InverseGaussian,
            "negative_binomial": sm.families.NegativeBinomial, "tweedie": sm.families.Tweedie}
LINKS = {"logit": sm.families.links.Logit, "probit": sm.families.links.Probit, "log": sm.families.links.Log,
         "identity": sm.families.links.Identity, "cloglog": sm.families.links.CLogLog,
         "inverse_power": sm.families.links.InversePower, "sqrt": sm.families.links.Sqrt,
         "inverse_squared": sm.families.links.InverseSquared}
KINDS = {"probit": ("binomial", "probit"), "logit": ("binomial", "logit"), "glm": (None, None),
         "ols": ("gaussian", "identity")}
VCES = ("oim", "robust", "cluster")


@dataclass(frozen=True)
class ModelSpec:
    """What a methods section says about one equation."""
    outcome: str
    covariates: list
    kind: str = "glm"              # probit | logit | glm | ols
    family: str | None = None      # for glm: binomial, gamma, gaussian, poisson, ...
    link: str | None = None        # for glm: log, identity, logit, probit, ...
    vce: str = "oim"               # oim | robust | cluster
    cluster: str | None = None
    weights: str | None = None
    name: str = "model"

    def family_and_link(self) -> tuple[str, str]:
        family, link = KINDS.get(self.kind, (None, None))
        if self.kind not in KINDS:
            raise InputError(f"{self.name}: kind '{self.kind}' is not one of {', '.join(KINDS)}.")
        family, link = family or self.family, link or self.link
        if family not in FAMILIES:
            raise InputError(f"{self.name}: family '{family}' is not one of {', '.join(FAMILIES)}.")
        if link not in LINKS:
            raise InputError(f"{self.name}: link '{link}' is not one of {', '.join(LINKS)}.")
        return family, link


@dataclass
class FittedModel:
    spec: ModelSpec
    design: Design
    data: pd.DataFrame              # the estimation sample (rows used)
    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray             # normalised to mean 1; ones when unweighted
    params: np.ndarray
    cov: np.ndarray
    link: object                    # a statsmodels link: inverse, inverse_deriv, inverse_deriv2
    converged: bool
    df_resid: float | None = None   # for t-based inference after linear regression
    messages: list = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return self.design.column_names()

    @property
    def n_obs(self) -> int:
        return len(self.y)

    def tidy(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        """One row per coefficient (estimand 'coef')."""
        labels = coefficient_labels(self.design)
        return wald_rows(labels, self.params, np.sqrt(np.diag(self.cov)), estimand="coef", fit=self,
                         study=study, sample=sample, equation=equation or self.spec.outcome)


def coefficient_labels(design: Design) -> list[tuple[str, str, str]]:
    """(term, level, reference) for every column of the design."""
    out = []
    for t in design.terms:
        if isinstance(t, Factor):
            out += [(t.variable, str(level), str(t.reference)) for level in t.others()]
        else:
            out += [(name, "", "") for name in t.names()]
    return out + ([(INTERCEPT, "", "")] if design.intercept else [])


def fit(spec: ModelSpec, data: pd.DataFrame) -> FittedModel:
    """Fit one equation; missing values in its variables are an error, not a silent drop."""
    family, link_name = spec.family_and_link()
    require_observed(spec, data, [c for c in (spec.weights, spec.cluster) if c])
    if spec.vce not in VCES:
        raise InputError(f"{spec.name}: vce '{spec.vce}' is not one of {', '.join(VCES)}.")
    if spec.vce == "cluster" and not spec.cluster:
        raise InputError(f"{spec.name}: vce cluster needs `cluster:` (the variable identifying clusters).")
    if spec.weights and spec.vce == "oim":
        raise InputError(f"{spec.name}: probability weights need vce robust or cluster (as in Stata).")
    design = Design.from_data(spec.covariates, data, where=spec.name)
    X = design.matrix(data)
    y = data[spec.outcome].astype("float64").to_numpy()
    w = np.ones(len(y)) if not spec.weights else data[spec.weights].astype("float64").to_numpy()
    w = w / w.mean()
    link = LINKS[link_name]()
    messages = list(design.notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if spec.kind == "ols":
            result = sm.WLS(y, X, weights=w).fit()
            params, converged = result.params, True
        elif spec.kind in ("probit", "logit") and not spec.weights:
            # Same MLE as the binomial GLM; Newton on the analytic Hessian is several times
            # faster than IRLS on large samples.
            model = (sm.Probit if spec.kind == "probit" else sm.Logit)(y, X)
            result = model.fit(method="newton", maxiter=200, tol=1e-10, disp=0)
            params, converged = result.params, bool(result.mle_retvals["converged"])
        else:
            model = sm.GLM(y, X, family=FAMILIES[family](link=link), freq_weights=w)
            result = model.fit(maxiter=200, tol=1e-10)
            params, converged = result.params, bool(result.converged)
    separated = _separated_terms(design, X, y) if family == "binomial" else []
    if separated or any(issubclass(c.category, PerfectSeparationWarning) for c in caught):
        converged = False
        messages.append(f"{spec.name}: perfect separation by {', '.join(separated) or 'the covariates'}; "
                        f"estimates for those terms are not identified.")
    if not converged and not messages:
        messages.append(f"{spec.name}: the fit did not converge.")
    for m in messages[len(design.notes):]:
        warnings.warn(m, stacklevel=2)
    cov = _variance(spec, result, X, y, w, data)
    return FittedModel(spec, design, data, X, y, w, np.asarray(params), cov, link, converged,
                       df_resid=float(result.df_resid) if spec.kind == "ols" else None, messages=messages)


def logit_newton(X: np.ndarray, y: np.ndarray, start=None, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Logit coefficients by Newton's method, for outcomes in [0, 1] (fractional ones too:
    fitted to expected outcomes, this is the model's probability limit). A bare loop for
    the generators, which refit it many times, and the mixed logit's LR test."""
    beta = np.zeros(X.shape[1]) if start is None else np.array(start, dtype=float)
    for _ in range(max_iter):
        p = expit(X @ beta)
        step = np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (y - p))
        beta += step
        if np.max(np.abs(step)) < tol:
            return beta
    raise ValueError("logit: Newton's method did not converge")


def require_observed(spec: ModelSpec, data: pd.DataFrame, extra: list) -> None:
    """Missing values in a model's variables are an error, not a silent drop."""
    used = [spec.outcome] + _variables(spec) + list(extra)
    missing = data[used].isna().sum()
    if missing.any():
        listing = ", ".join(f"{v} ({n})" for v, n in missing[missing > 0].items())
        raise InputError(f"{spec.name}: missing values in {listing}. Exclude them with a sample or "
                         f"subsample filter so that the flow table counts them.")


def _variables(spec: ModelSpec) -> list[str]:
    from .design import parse_covariate

    return [parse_covariate(c).variable for c in spec.covariates]


def _separated_terms(design: Design, X: np.ndarray, y: np.ndarray) -> list[str]:
    """Indicator columns within which the outcome never varies (quasi-complete separation)."""
    names = design.column_names()
    out = []
    for j, name in enumerate(names):
        column = X[:, j]
        if name == "_cons" or not np.isin(column, [0.0, 1.0]).all():
            continue
        for side in (column == 1, column == 0):
            if side.any() and np.ptp(y[side]) == 0:
                out.append(name)
                break
    return out


def _observed_information(result) -> tuple[np.ndarray, np.ndarray]:
    """(Hessian of the log-likelihood, per-observation scores) at the estimate."""
    model, params = result.model, result.params
    if isinstance(model, sm.GLM):
        return (model.hessian(params, scale=result.scale, observed=True),
                model.score_obs(params, scale=result.scale))
    return model.hessian(params), model.score_obs(params)


def _variance(spec: ModelSpec, result, X, y, w, data) -> np.ndarray:
    n, k = X.shape
    if spec.kind == "ols":
        if spec.vce == "oim":
            return np.asarray(result.cov_params())
        if spec.vce == "robust":
            return np.asarray(result.get_robustcov_results("HC1").cov_params())
        groups = pd.factorize(data[spec.cluster])[0]
        return np.asarray(result.get_robustcov_results("cluster", groups=groups).cov_params())
    hessian, scores = _observed_information(result)
    bread = np.linalg.inv(-hessian)
    if spec.vce == "oim":
        return bread
    if spec.vce == "robust":
        meat, factor = scores.T @ scores, n / (n - 1)
    else:
        groups = pd.factorize(data[spec.cluster])[0]
        summed = np.zeros((groups.max() + 1, k))
        np.add.at(summed, groups, scores)
        g = summed.shape[0]
        meat, factor = summed.T @ summed, g / (g - 1)
    return factor * bread @ meat @ bread
