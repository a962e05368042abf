"""Index models on statsmodels: probit, logit, GLMs of any family and link, linear regression.

A fit (FittedModel) holds the estimate, its design, the estimation sample and its Variance
(stats/variance.py applies Stata's conventions: the observed information after maximum
likelihood whatever the link, where statsmodels' IRLS reports the expected information;
s^2 (X'WX)^-1, HC1 and clustered variances with t inference after `regress`).
Probability weights: weighted estimating equations, robust variance (as Stata forces).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from ..errors import InputError, closest
from ..model_spec import ModelSpec
from .design import INTERCEPT, Design, Factor
from .inference import wald_rows
from .variance import Variance, sandwich

FAMILIES = {
    "binomial": sm.families.Binomial,
    "gamma": sm.families.Gamma,
    "gaussian": sm.families.Gaussian,
    "poisson": sm.families.Poisson,
    "inverse_gaussian": sm.families.InverseGaussian,
    "negative_binomial": sm.families.NegativeBinomial,
    "tweedie": sm.families.Tweedie,
}
LINKS = {
    "logit": sm.families.links.Logit,
    "probit": sm.families.links.Probit,
    "log": sm.families.links.Log,
    "identity": sm.families.links.Identity,
    "cloglog": sm.families.links.CLogLog,
    "inverse_power": sm.families.links.InversePower,
    "sqrt": sm.families.links.Sqrt,
    "inverse_squared": sm.families.links.InverseSquared,
}


@dataclass
class FittedModel:
    spec: ModelSpec
    design: Design
    data: pd.DataFrame  # the estimation sample (rows used)
    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray  # normalised to mean 1; ones when unweighted
    params: np.ndarray
    variance: Variance
    link: object  # a statsmodels link: inverse, inverse_deriv, inverse_deriv2
    converged: bool
    messages: list = field(default_factory=list)
    not_identified: list = field(default_factory=list)  # design columns perfect separation leaves unidentified
    iterations: int | None = None  # Newton or IRLS iterations (None: closed form)

    @property
    def cov(self) -> np.ndarray:
        return self.variance.cov

    @property
    def df_resid(self) -> float | None:
        """Degrees of freedom of t inference (None: normal), as stats/variance.py sets them."""
        return self.variance.df

    @property
    def names(self) -> list[str]:
        return self.design.column_names()

    @property
    def labels(self) -> list[tuple[str, str, str]]:
        return coefficient_labels(self.design)

    @property
    def n_obs(self) -> int:
        return len(self.y)

    def tidy(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        """One row per coefficient (estimand 'coef')."""
        estimable = [name not in self.not_identified for name in self.names]
        return wald_rows(
            self.labels,
            self.params,
            self.variance.std_errors,
            estimand="coef",
            fit=self,
            study=study,
            sample=sample,
            equation=equation or self.spec.outcome,
            estimable=estimable,
        )


def coefficient_labels(design: Design) -> list[tuple[str, str, str]]:
    """(term, level, reference) for every column of the design."""
    out = []
    for t in design.terms:
        if isinstance(t, Factor):
            out += [(t.variable, str(level), str(t.reference)) for level in t.others()]
        else:
            out += [(name, "", "") for name in t.names()]
    return out + ([(INTERCEPT, "", "")] if design.intercept else [])


def fit_index_model(spec: ModelSpec, data: pd.DataFrame) -> FittedModel:
    """Fit one equation; missing values in its variables are an error, not a silent drop."""
    family, link_name = spec.family_and_link()
    require_observed(spec, data)
    design = Design.from_data(spec.covariates, data, where=spec.name)
    X = design.matrix(data)
    check_identified(X, design.column_names(), spec.name)
    y = data[spec.outcome].astype("float64").to_numpy()
    w = np.ones(len(y)) if not spec.weights else data[spec.weights].astype("float64").to_numpy()
    w = w / w.mean()
    link = LINKS[link_name]()
    messages = list(design.notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if spec.kind == "ols":
            result = sm.WLS(y, X, weights=w).fit()
            params, converged, iterations = result.params, True, None
        elif spec.kind in ("probit", "logit") and not spec.weights:
            # Same MLE as the binomial GLM; Newton on the analytic Hessian is several times
            # faster than IRLS on large samples.
            model = (sm.Probit if spec.kind == "probit" else sm.Logit)(y, X)
            result = model.fit(method="newton", maxiter=200, tol=1e-10, disp=0)
            params, converged = result.params, bool(result.mle_retvals["converged"])
            iterations = int(result.mle_retvals["iterations"])
        else:
            model = sm.GLM(y, X, family=FAMILIES[family](link=link), freq_weights=w)
            result = model.fit(maxiter=200, tol=1e-10)
            params, converged = result.params, bool(result.converged)
            iterations = int(result.fit_history["iteration"])
    separated = _separated_terms(design, X, y) if family == "binomial" else []
    if separated or any(issubclass(c.category, PerfectSeparationWarning) for c in caught):
        converged = False
        messages.append(
            f"{spec.name}: perfect separation by {', '.join(separated) or 'the covariates'}; "
            f"estimates for those terms are not identified (printed as not estimable)."
        )
    if not converged and not messages:
        messages.append(f"{spec.name}: the fit did not converge.")
    for m in messages[len(design.notes) :]:
        warnings.warn(m, stacklevel=2)
    variance = _variance(spec, result, X, w, data)
    return FittedModel(
        spec,
        design,
        data,
        X,
        y,
        w,
        np.asarray(params),
        variance,
        link,
        converged,
        messages=messages,
        not_identified=separated,
        iterations=iterations,
    )


def check_identified(X: np.ndarray, names: list[str], where: str) -> None:
    """Enough rows for the parameters, and no column a linear combination of the others: the
    message names the columns involved instead of a failed or singular fit."""
    n, k = X.shape
    if n <= k:
        raise InputError(
            f"{where}: {n} rows for {k} parameters; the (sub)sample is too small to fit this "
            f"equation. Use fewer covariates or a larger sample."
        )
    scale = np.linalg.norm(X, axis=0)
    scale[scale == 0] = 1.0
    Xs = X / scale
    _, singular, vt = np.linalg.svd(Xs, full_matrices=False)
    if singular[-1] > singular[0] * k * np.finfo(float).eps * 1e3:
        return
    # The direction X cannot tell apart: the columns it involves are the dependent ones.
    weights = np.abs(vt[-1])
    involved = [names[j] for j in np.flatnonzero(weights > 1e-6 * weights.max())]
    named = [n for n in involved if n != INTERCEPT]
    with_intercept = " (together with the intercept)" if INTERCEPT in involved else ""
    raise InputError(
        f"{where}: {' and '.join([', '.join(named[:-1]), named[-1]] if len(named) > 1 else named)} "
        f"{'are' if len(named) > 1 else 'is'} collinear{with_intercept}: in this sample one is a "
        f"linear combination of the others. Remove one of them from the covariates."
    )


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


def require_observed(spec: ModelSpec, data: pd.DataFrame) -> None:
    """Missing values in a model's variables are an error, not a silent drop."""
    absent = [v for v in spec.variables if v not in data.columns]
    if absent:
        raise InputError(
            f"{spec.name}: "
            + "; ".join(f"'{v}' is not a variable of the sample{closest(v, data.columns)}" for v in absent)
            + "."
        )
    missing = data[spec.variables].isna().sum()
    empty = [v for v in spec.variables if len(data) and missing[v] == len(data)]
    if empty:
        raise InputError(
            f"{spec.name}: {', '.join(empty)} missing for all {len(data)} rows of the sample; check "
            f"the codebook's `source:` and codes for it (results/data/<dataset>_codebook.csv counts them)."
        )
    if missing.any():
        listing = ", ".join(f"{v} ({n})" for v, n in missing[missing > 0].items())
        raise InputError(
            f"{spec.name}: missing values in {listing}. Exclude them with a sample or "
            f"subsample filter so that the flow table counts them."
        )


def _separated_terms(design: Design, X: np.ndarray, y: np.ndarray) -> list[str]:
    """Indicator columns within which the outcome never varies (quasi-complete separation)."""
    names = design.column_names()
    out = []
    for j, name in enumerate(names):
        column = X[:, j]
        if name == INTERCEPT or not np.isin(column, [0.0, 1.0]).all():
            continue
        for side in (column == 1, column == 0):
            if side.any() and np.ptp(y[side]) == 0:
                out.append(name)
                break
    return out


def _variance(spec: ModelSpec, result, X: np.ndarray, w: np.ndarray, data: pd.DataFrame) -> Variance:
    """The bread and scores of the fit, handed to stats/variance.py."""
    clusters = data[spec.cluster].to_numpy() if spec.vce == "cluster" and spec.cluster else None
    if spec.kind == "ols":
        # On the sqrt(w)-whitened data, as `regress [aw]` and statsmodels' WLS.
        residuals = result.model.endog - X @ result.params
        bread = np.linalg.inv((X * w[:, None]).T @ X)
        return sandwich(
            bread,
            X * (w * residuals)[:, None],
            spec.vce,
            "regress",
            clusters,
            residual_variance=float(result.scale),
            where=spec.name,
        )
    model, params = result.model, result.params
    if isinstance(model, sm.GLM):
        hessian = model.hessian(params, scale=result.scale, observed=True)
        scores = model.score_obs(params, scale=result.scale)
    else:
        hessian, scores = model.hessian(params), model.score_obs(params)
    return sandwich(np.linalg.inv(-hessian), scores, spec.vce, "ml", clusters, where=spec.name)
