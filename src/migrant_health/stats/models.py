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
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.special import expit, log_ndtr, ndtr
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from ..errors import InputError, closest
from ..model_spec import ModelSpec
from .design import INTERCEPT, Design, Factor, Interaction
from .inference import wald_rows
from .survey import DesignRows, SurveyDesign
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
    values: dict | None = None  # each design variable's values in the estimation sample (margins reuse them)
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
        elif isinstance(t, Interaction):  # Stata's labels (hp#wt, 1.urban#c.age), the factors' bases
            out += [(name, "", t.reference()) for name in t.names()]
        else:
            out += [(name, "", "") for name in t.names()]
    return out + ([(INTERCEPT, "", "")] if design.intercept else [])


def fit_index_model(spec: ModelSpec, data: pd.DataFrame, design: SurveyDesign | None = None) -> FittedModel:
    """Fit one equation; missing values in its variables are an error, not a silent drop.
    With vce survey, `design` is the whole file's (the rows of `data` a subpopulation of it;
    by default `data` is the whole file)."""
    family, link_name = spec.family_and_link()
    require_observed(spec, data)
    design_rows = _design_rows(spec, data, design)
    design = Design.from_data(spec.covariates, data, where=spec.name)
    values = design.values(data)
    X = design.matrix(values, len(data))
    check_identified(X, design.column_names(), spec.name)
    y = data[spec.outcome].astype("float64").to_numpy()
    weights = spec.survey_weights
    w = np.ones(len(y)) if not weights else data[weights].astype("float64").to_numpy()
    w = w / w.mean()
    link = LINKS[link_name]()
    messages = list(design.notes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if spec.kind == "ols":
            result = sm.WLS(y, X, weights=w).fit()
            params, converged, iterations = result.params, True, None
        elif spec.kind in ("probit", "logit"):
            # Same MLE as the binomial GLM; Newton on the analytic Hessian is several times
            # faster than IRLS (and than statsmodels' Probit, which takes an SVD of X first).
            result = binary_choice_newton(X, y, spec.kind, w if weights else None)
            params, converged, iterations = result.params, result.converged, result.iterations
        else:
            model = sm.GLM(y, X, family=FAMILIES[family](link=link), freq_weights=w)
            result, converged, iterations = fit_glm(model)
            params = result.params
    separated = _separated_terms(design, X, y) if family == "binomial" else []
    perfect = isinstance(result, BinaryChoiceFit) and result.perfect_prediction
    if separated or perfect or any(issubclass(c.category, PerfectSeparationWarning) for c in caught):
        converged = False
        messages.append(
            f"{spec.name}: perfect separation by {', '.join(separated) or 'the covariates'}; "
            f"estimates for those terms are not identified (printed as not estimable)."
        )
    if not converged and not messages:
        messages.append(f"{spec.name}: the fit did not converge.")
    for m in messages[len(design.notes) :]:
        warnings.warn(m, stacklevel=2)
    variance = _variance(spec, result, X, w, data, design_rows)
    messages += variance.notes
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
        values=values,
        iterations=iterations,
    )


GLM_TOLERANCE = 1e-10  # IRLS stops when the deviance changes by less (absolute, statsmodels' criterion)
# The weighted least squares of the one IRLS step before and after Newton, by QR: statsmodels'
# default ends IRLS with a pseudo-inverse (an SVD of X and an n x k product), 6.3 s of a 10 s fit
# on 401,800 x 24 (7.7 s by QR); the coefficients agree to rounding.
ONE_STEP = "qr"
# Newton stops when the deviance the next step can still gain is below NEWTON_TOLERANCE of the
# deviance (quadratic convergence gets there a step after 1e-10), or when no step lowers the
# deviance any more (rounding) and the gain is below ROUNDING_TOLERANCE of it.
NEWTON_TOLERANCE = 1e-20
ROUNDING_TOLERANCE = 1e-12


def fit_glm(model: sm.GLM, max_newton: int = 50) -> tuple[object, bool, int]:
    """(statsmodels' result, converged, iterations) of a GLM's maximum likelihood estimate.

    IRLS with a non-canonical link (Gamma-log) is Fisher scoring and converges linearly (20-60
    iterations on the studies' data), and statsmodels stops it on an absolute change of the
    deviance, which a large file's rounding never gets below. Newton's method on the observed
    Hessian, from IRLS's own start, converges quadratically; it stops when the deviance the next
    step can gain (g'H^-1 g, the scale cancelling) is a negligible share of the deviance, as
    Stata's ml stops on the scaled gradient (nrtolerance) and R's glm on a relative change. Steps
    are halved until the deviance does not rise. statsmodels' result is one IRLS step from there
    (IRLS's fixed point, so the estimate does not move). If Newton cannot get there, IRLS runs as
    statsmodels runs it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one step is not meant to converge
        params = _one_irls_step(model).params  # statsmodels' start
        deviance = _deviance(model, params)
        for steps in range(1, max_newton + 1):
            gradient, step = glm_newton_step(model.exog, model.endog, model.freq_weights, model.family, params)
            if step is None:
                break
            gain = abs(float(gradient @ step)) / (abs(deviance) + 0.1)
            if gain <= NEWTON_TOLERANCE:
                return _one_irls_step(model, params), True, steps
            trial, trial_deviance = _halved_until_no_rise(model, params, step, deviance)
            if trial is None or trial_deviance >= deviance:  # no step lowers the deviance: rounding
                if gain <= ROUNDING_TOLERANCE:
                    return _one_irls_step(model, params), True, steps
                break
            params, deviance = trial, trial_deviance
    result = model.fit(maxiter=200, tol=GLM_TOLERANCE)
    return result, bool(result.converged), int(result.fit_history["iteration"])


def _one_irls_step(model: sm.GLM, start=None):
    """statsmodels' result of one IRLS step (from its own start, or from `start`)."""
    return model.fit(start_params=start, maxiter=1, tol=GLM_TOLERANCE, wls_method=ONE_STEP)


def glm_newton_step(X: np.ndarray, y: np.ndarray, w: np.ndarray, family, beta: np.ndarray):
    """(gradient, Newton step) of a GLM's log likelihood at `beta` (scale 1: the coefficients' MLE
    does not depend on the dispersion): the step on the observed information, or on the expected
    one (IRLS's) where the observed one is not positive definite; step None if neither is."""
    link, variance = family.link, family.variance
    mu = link.inverse(X @ beta)
    g1, v = link.deriv(mu), variance(mu)
    expected = 1.0 / (v * g1**2)
    # -d2 l / d eta2 = 1 / (V g'^2) + (y - mu)(V' g' + V g'') / (V^2 g'^3)
    observed = expected + (y - mu) * (variance.deriv(mu) * g1 + v * link.deriv2(mu)) / (v**2 * g1**3)
    gradient = X.T @ (w * (y - mu) / (v * g1))
    for weights in (observed, expected):
        if np.all(weights > 0):
            root = X * np.sqrt(w * weights)[:, None]
            try:
                return gradient, cho_solve(cho_factor(root.T @ root), gradient)
            except LinAlgError:
                continue
    return gradient, None


def _deviance(model: sm.GLM, params: np.ndarray) -> float:
    return model.family.deviance(model.endog, model.predict(params), model.freq_weights)


def _halved_until_no_rise(model: sm.GLM, params, step, deviance: float, halvings: int = 30):
    """(params + step, its deviance), the step halved until the deviance is finite and does not
    rise; (None, deviance) if it always rises."""
    for _ in range(halvings):
        trial = params + step
        trial_deviance = _deviance(model, trial)
        if np.isfinite(trial_deviance) and trial_deviance <= deviance:
            return trial, trial_deviance
        step = step / 2
    return None, deviance


@dataclass
class BinaryChoiceFit:
    """Newton's method for an unweighted probit or logit: the estimate, and the Hessian, scores
    and expected information at it (what the variance needs)."""

    params: np.ndarray
    converged: bool
    hessian: np.ndarray
    scores: np.ndarray
    expected_weights: np.ndarray  # the expected information is X' diag(these) X
    perfect_prediction: bool
    iterations: int = 0  # Newton steps taken


def _binary_choice_terms(X: np.ndarray, y: np.ndarray, beta: np.ndarray, kind: str, w=None):
    """(log-likelihood, d logL / d eta per row, -d2 logL / d eta2 per row, expected weight per row,
    probabilities), each row's terms times its probability weight when `w` is given."""
    loglik, d1, d2, expected, p = _unweighted_terms(X, y, beta, kind)
    if w is None:
        return float(loglik.sum()), d1, d2, expected, p
    return float(w @ loglik), w * d1, w * d2, w * expected, p


def _unweighted_terms(X: np.ndarray, y: np.ndarray, beta: np.ndarray, kind: str):
    eta = X @ beta
    if kind == "logit":
        p = expit(eta)
        loglik = y * eta - np.logaddexp(0, eta)
        v = p * (1 - p)
        return loglik, y - p, v, v, p
    q = 2 * y - 1  # probit: lambda = q phi(q eta) / Phi(q eta), from log_ndtr (no underflow)
    log_cdf = log_ndtr(q * eta)
    lam = q * np.exp(-0.5 * eta**2 - 0.5 * np.log(2 * np.pi) - log_cdf)
    p = ndtr(eta)
    density = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where((p > 0) & (p < 1), density**2 / (p * (1 - p)), 0.0)
    return log_cdf, lam, lam * (lam + eta), expected, p


def _information(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """X' diag(weights) X for nonnegative weights, as (sqrt(w) X)'(sqrt(w) X): a symmetric rank-k
    update, half the work of a general product."""
    root = X * np.sqrt(weights)[:, None]
    return root.T @ root


def binary_choice_newton(
    X: np.ndarray, y: np.ndarray, kind: str, w=None, tol: float = 1e-10, max_iter: int = 200, start=None
):
    """Probit or logit by Newton's method from zero (or `start`: the log-likelihood is concave), halving a
    step that lowers it; converged when no coefficient moves by more than `tol`. Near the
    optimum (steps below 1e-4) the last information matrix is kept (the chord method: each step
    costs a gradient, not an n x k^2 product); the returned Hessian is the one at the estimate."""
    beta = np.zeros(X.shape[1]) if start is None else np.array(start, dtype=float)
    terms = _binary_choice_terms(X, y, beta, kind, w)  # (loglik, d1, d2, expected, p) at beta
    loglik, d1, d2, _, _ = terms
    converged, information, last_step = False, None, np.inf
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 (the count is returned)
        if information is None or last_step > 1e-4:
            information = _information(X, d2)
        try:
            step = np.linalg.solve(information, X.T @ d1)
        except np.linalg.LinAlgError:  # separation: the information degenerates as a coefficient diverges
            step = np.linalg.lstsq(information, X.T @ d1, rcond=None)[0]
        for halving in range(40):
            trial = beta + step / 2**halving
            trial_terms = _binary_choice_terms(X, y, trial, kind, w)
            if trial_terms[0] >= loglik - 1e-10 * abs(loglik):
                break
        beta, terms = trial, trial_terms
        loglik, d1, d2, _, _ = terms
        last_step = np.max(np.abs(step))
        if last_step < tol:
            converged = True
            break
    loglik, d1, d2, expected, p = terms
    return BinaryChoiceFit(
        beta,
        converged,
        -_information(X, d2),
        X * d1[:, None],
        expected,
        bool(np.allclose(p, y)),  # statsmodels' perfect-prediction check
        iterations,
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
    # A quick screen on the Gram matrix of the unit-norm columns: clearly well conditioned, nothing
    # more to check. Otherwise the singular values (and directions) of X from X = QR, as before.
    gram = X.T @ X
    scale = np.sqrt(np.diag(gram))
    scale[scale == 0] = 1.0
    eigen = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    if eigen[0] > 1e-9 * eigen[-1]:
        return
    _, singular, vt = np.linalg.svd(np.linalg.qr(X / scale, mode="r"))
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
    head = X[:1000]  # most continuous columns show a value other than 0 and 1 in their first rows
    out = []
    for j in np.flatnonzero(((head == 0.0) | (head == 1.0)).all(axis=0)):
        name, column = names[j], X[:, j]
        if name == INTERCEPT or not ((column == 0.0) | (column == 1.0)).all():
            continue
        for side in (column == 1, column == 0):
            if side.any() and np.ptp(y[side]) == 0:
                out.append(name)
                break
    return out


def _design_rows(spec: ModelSpec, data: pd.DataFrame, design: SurveyDesign | None) -> DesignRows | None:
    if spec.vce != "survey":
        return None
    where = f"{spec.name}: survey"
    return DesignRows.of(design or SurveyDesign.from_data(data, spec.survey or {}, where), data, where)


def _inverse(information: np.ndarray) -> np.ndarray:
    """The inverse of an information matrix; its pseudo-inverse where separation made it singular
    (the terms concerned are then reported as not estimable)."""
    try:
        return np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(information)


def _expected_bread(result) -> np.ndarray:
    """The inverse of the expected information of a GLM, X' diag(w h'(eta)^2 / V(mu)) X / scale:
    what IRLS and R's summary.glm report (the dispersion is the Pearson chi-square over n - k)."""
    return np.linalg.inv(-result.model.hessian(np.asarray(result.params), scale=result.scale, observed=False))


def _variance(
    spec: ModelSpec, result, X: np.ndarray, w: np.ndarray, data: pd.DataFrame, design_rows: DesignRows | None = None
) -> Variance:
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
            design_rows=design_rows,
        )
    if isinstance(result, BinaryChoiceFit):
        bread, scores = _inverse(-result.hessian), result.scores
        expected = _inverse(_information(X, result.expected_weights)) if spec.vce == "eim" else None
    else:
        model, params = result.model, result.params
        if isinstance(model, sm.GLM):
            hessian = model.hessian(params, scale=result.scale, observed=True)
            scores = model.score_obs(params, scale=result.scale)
        else:
            hessian, scores = model.hessian(params), model.score_obs(params)
        bread = np.linalg.inv(-hessian)
        expected = _expected_bread(result) if spec.vce == "eim" else None
    return sandwich(
        bread, scores, spec.vce, "ml", clusters, where=spec.name, expected_bread=expected, design_rows=design_rows
    )
