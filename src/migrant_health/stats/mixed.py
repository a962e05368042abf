"""Random-intercept logistic regression, fitted as lme4's `glmer` fits it.

Model: logit P(y_ij = 1 | u_j) = x_ij b + s u_j, u_j ~ N(0, 1) independently over groups j
(lme4's theta is s; the group variance is s^2). The intraclass correlation on the latent
scale is s^2 / (s^2 + pi^2 / 3).

glmer's numbers are a property of its algorithm as well as of the likelihood, so we follow
its two stages (lme4 1.1-31: glmer, mkGlmerDevfun and mkdevfun in R; pwrssUpdate,
glmerLaplace and glmerAGQ in src/external.cpp):

1. nAGQ = 0. s alone is optimised; for each s, b and the conditional modes u are found
   together by penalised iteratively reweighted least squares (PIRLS). The fitted linear
   predictor, lp0, is kept.
2. The deviance over (s, b). Each evaluation restarts PIRLS at lp0 and updates u alone until
   the penalised deviance changes by less than 1e-7 (relative), then returns
     Laplace (nagq = 1):   log|L|^2 + |u|^2 + deviance(y | u);
     adaptive Gauss-Hermite (nagq > 1): the groups' integrals at nodes u + z_k / L.
   L (the Cholesky factor of s^2 Z'WZ + I) holds the weights W of the iterate *before*
   the last. glmer's objective is therefore not quite the exact Laplace approximation: on
   lme4's cbpp data its minimum moves by 5e-4 and its curvature by about 2.5%, so its
   standard errors are about 1.3% below an exact Laplace fit's (Stata's melogit, lme4.0).
   Our deviance agrees with glmer's devfun within 3e-12 from lme4's own lp0, and within 1e-8
   from ours (tested).

Standard errors, as glmer's vcov: the fixed-effect block of 2 H^-1, with H the central
finite-difference Hessian of that deviance over (s, b) with step 1e-4 (lme4's deriv12);
if H is not positive definite, the PIRLS information of b (lme4's RX), as glmer falls back.

Where we differ, deliberately:
* glmer minimises with Nelder-Mead; we take Newton steps on central-difference gradients of
  the same deviance, to a tighter tolerance, using as metric the Hessian of the *exact*
  approximation (`_ExactApproximation`, analytic gradient), which is within a few per cent.
* Columns of X are scaled to unit SD while fitting and differencing (glmer differences the
  raw coefficients and warns when columns differ in scale, as age and age^2 do); estimates
  and covariance are mapped back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, sparse, stats
from scipy.special import expit, logit, logsumexp

from ..errors import InputError
from .design import Design
from .inference import TIDY_COLUMNS, wald, wald_rows
from .models import check_identified, coefficient_labels, logit_newton, require_observed
from ..model_spec import ModelSpec

LOGISTIC_VARIANCE = np.pi ** 2 / 3
PIRLS_TOLERANCE = 1e-7        # glmerControl()$tolPwrss
PIRLS_MAX_ITERATIONS = 100    # glmer's maxit
PIRLS_STEP_HALVINGS = 10      # pwrssUpdate's maxstephalfit
DERIV12_STEP = 1e-4           # lme4's deriv12 delta
ETA_LIMIT = 30.0              # R's binomial logit link saturates beyond |eta| = 30
LARGEST_SD = 20.0             # upper end of the first-stage search over s (logit scale)


class PirlsFailure(ArithmeticError):
    """PIRLS did not converge (glmer stops with the same error)."""


@dataclass
class MixedLogitFit:
    names: list
    params: np.ndarray        # fixed effects b
    sigma: float              # SD of the random intercept (lme4's theta)
    cov: np.ndarray           # covariance of b
    loglik: float             # -deviance / 2, as glmer's logLik
    n_obs: int
    n_groups: int
    nagq: int
    converged: bool
    sigma_se: float = np.nan      # from the same Hessian (nan where glmer falls back to RX)
    loglik_logit: float = np.nan  # the single-level logit with the same fixed effects
    labels: list = field(default_factory=list)   # (term, level, reference) per fixed effect
    notes: list = field(default_factory=list)
    spec: ModelSpec | None = None
    group: str = "group"

    @property
    def variance(self) -> float:
        return self.sigma ** 2

    # The estimator protocol (stats/estimators.py): normal inference, the fit's notes.
    df_resid = None

    @property
    def messages(self) -> list:
        return self.notes

    def tidy(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        """One row per fixed effect (estimand 'coef')."""
        return wald_rows(self.labels, self.params, np.sqrt(np.diag(self.cov)), estimand="coef", fit=self,
                         study=study, sample=sample, equation=equation or self.spec.outcome)

    def group_statistics(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        """The group variance (SE by the delta method, CI from Wald limits of its log, as Stata's
        melogit), the latent-scale intraclass correlation, and the likelihood-ratio test against
        the single-level logit, in the tidy columns."""
        with np.errstate(divide="ignore", invalid="ignore"):   # a variance of 0 has no log-scale interval
            _, _, log_low, log_high = wald(np.log(self.variance), self.variance_se / self.variance)
        lr_statistic, lr_p = self.lr_test
        rows = pd.DataFrame([{"term": f"var(_cons[{self.group}])", "level": "", "reference": "",
                              "estimand": "variance", "estimate": self.variance, "std_error": self.variance_se,
                              "conf_low": np.exp(log_low), "conf_high": np.exp(log_high)},
                             {"term": "icc", "level": "", "reference": "", "estimand": "icc", "estimate": self.icc},
                             {"term": "lr_test", "level": "", "reference": "", "estimand": "lr_test",
                              "estimate": lr_statistic, "statistic": lr_statistic, "p_value": lr_p}])
        rows = rows.assign(study=study, model=self.spec.name, sample=sample, equation=equation or self.spec.outcome,
                           n_obs=self.n_obs, converged=self.converged, estimable=True)
        return rows.reindex(columns=TIDY_COLUMNS)

    @property
    def variance_se(self) -> float:
        return 2 * self.sigma * self.sigma_se       # delta method

    @property
    def icc(self) -> float:
        return self.variance / (self.variance + LOGISTIC_VARIANCE)

    @property
    def lr_test(self) -> tuple:
        """(chi-bar-square, p) of the likelihood-ratio test against the single-level logit, as
        Stata's melogit prints it: the variance is on its boundary under the null, so p is
        half the chi-square(1) tail (Self and Liang 1987)."""
        if not np.isfinite(self.loglik_logit):
            return np.nan, np.nan
        statistic = max(0.0, 2 * (self.loglik - self.loglik_logit))
        return statistic, (0.5 * stats.chi2.sf(statistic, 1) if statistic > 0 else 1.0)


@dataclass
class _Pirls:
    """The state PIRLS ends in: modes u, fixed effects b (first stage only), linear
    predictor, and the weights and diagonal of L^2 = s^2 Z'WZ + I of its last decomposition."""
    u: np.ndarray
    b: np.ndarray
    eta: np.ndarray
    weights: np.ndarray
    L2: np.ndarray
    deviance_rows: np.ndarray


def _bernoulli(eta, y):
    """Mean, IRLS weight and deviance residual of each row at eta, from one exponential
    (eta saturates at +-30, as in R's binomial link)."""
    eta = np.clip(eta, -ETA_LIMIT, ETA_LIMIT)
    e = np.exp(-np.abs(eta))
    mu = np.where(eta >= 0, 1, e) / (1 + e)
    # -2 log-likelihood = 2 softplus((1 - 2y) eta), and softplus(t) = log(1 + e^-|t|) + max(t, 0)
    deviance_rows = 2 * (np.log1p(e) + np.maximum((1 - 2 * y) * eta, 0))
    return mu, e / (1 + e) ** 2, deviance_rows


class _GroupedRows:
    """Rows (X, y) in groups: each row's group index g, the number of groups G, and the
    groups-by-rows indicator Z for sums by group."""

    def __init__(self, X, y, groups):
        self.X, self.y = np.asarray(X, float), np.asarray(y, float)
        _, self.g = np.unique(np.asarray(groups), return_inverse=True)
        self.G = int(self.g.max()) + 1
        n = len(self.y)
        self.Z = sparse.csr_matrix((np.ones(n), (self.g, np.arange(n))), shape=(self.G, n))

    def _group_sum(self, values):
        """Sums by group of a vector (of a rows x k array: use Z @ values)."""
        return np.bincount(self.g, weights=values, minlength=self.G)


class _GlmerDeviance(_GroupedRows):
    """glmer's objective functions for one data set (see the module docstring)."""

    def __init__(self, X, y, groups, nagq: int):
        super().__init__(X, y, groups)
        nodes, weights = np.polynomial.hermite.hermgauss(nagq)
        self.nagq = nagq
        self.z, self.log_w = np.sqrt(2) * nodes, np.log(weights / np.sqrt(np.pi))   # standard-normal rule
        self.lp0 = None

    def _fixed_effect_information(self, s, weights, L2):
        """X'WX - s^2 X'WZ diag(1/L2) Z'WX: the information of b with u profiled out
        (lme4's RX'RX), and Z'WX."""
        ZWX = self.Z @ (self.X * weights[:, None])
        return (self.X * weights[:, None]).T @ self.X - s ** 2 * ZWX.T @ (ZWX / L2[:, None]), ZWX

    def pirls(self, s, offset, eta, joint: bool) -> _Pirls:
        """lme4's pwrssUpdate from the linear predictor eta: u alone (joint=False, offset
        X b) or u and b together (joint=True, offset 0)."""
        X, g = self.X, self.g
        old = np.finfo(float).max
        u, b = np.zeros(self.G), np.zeros(X.shape[1])
        mu, weights, _ = _bernoulli(eta, self.y)
        for _ in range(PIRLS_MAX_ITERATIONS):
            working = eta - offset + (self.y - mu) / weights
            L2 = s ** 2 * self._group_sum(weights) + 1
            u_old, b_old = u, b
            if joint:
                information, ZWX = self._fixed_effect_information(s, weights, L2)
                Zwz = self._group_sum(weights * working)
                b = np.linalg.solve(information, X.T @ (weights * working) - s ** 2 * ZWX.T @ (Zwz / L2))
            fixed = X @ b if joint else 0.0
            u = s * self._group_sum(weights * (working - fixed)) / L2
            eta = offset + fixed + s * u[g]
            mu, next_weights, rows = _bernoulli(eta, self.y)
            penalised = rows.sum() + u @ u
            if abs((old - penalised) / penalised) < PIRLS_TOLERANCE:
                return _Pirls(u, b, eta, weights, L2, rows)
            for _ in range(PIRLS_STEP_HALVINGS):
                if not (np.isnan(penalised) or penalised > old):
                    break
                u, b = (u_old + u) / 2, (b_old + b) / 2
                fixed = X @ b if joint else 0.0
                eta = offset + fixed + s * u[g]
                mu, next_weights, rows = _bernoulli(eta, self.y)
                penalised = rows.sum() + u @ u
            if np.isnan(penalised) or penalised - old > PIRLS_TOLERANCE:
                raise PirlsFailure("PIRLS step-halvings failed to reduce the penalised deviance")
            old, weights = penalised, next_weights
        raise PirlsFailure(f"PIRLS did not converge in {PIRLS_MAX_ITERATIONS} iterations")

    @staticmethod
    def _laplace(state: _Pirls):
        return np.log(state.L2).sum() + state.u @ state.u + state.deviance_rows.sum()

    def first_stage(self):
        """glmer's nAGQ = 0 fit: s minimising the Laplace deviance with b and u from joint
        PIRLS. PIRLS starts where glmer's does: mu = (y + 1/2) / 2, s = 1. Keeps lp0 and
        returns (s, b)."""
        initial = self.pirls(1.0, 0.0, logit((self.y + 0.5) / 2), joint=True).eta

        def deviance(s):
            return self._laplace(self.pirls(s, 0.0, initial, joint=True))

        s = optimize.minimize_scalar(deviance, bounds=(0.0, LARGEST_SD), method="bounded",
                                     options={"xatol": 1e-9}).x
        state = self.pirls(s, 0.0, initial, joint=True)
        self.lp0 = state.eta
        return s, state.b

    def state(self, par) -> _Pirls:
        s, b = par[0], par[1:]
        return self.pirls(s, self.X @ b, self.lp0, joint=False)

    def __call__(self, par) -> float:
        """The second-stage deviance at par = (s, b): glmerLaplace or glmerAGQ."""
        try:
            state = self.state(par)
        except PirlsFailure:
            return np.inf                 # the optimiser backs off, as from any bad point
        if self.nagq == 1:
            return self._laplace(state)
        s, offset = par[0], self.X @ par[1:]
        at_mode = state.u ** 2 + self._group_sum(state.deviance_rows)
        scale = 1 / np.sqrt(state.L2)

        def at_node(u):
            return u ** 2 + self._group_sum(_bernoulli(offset + s * u[self.g], self.y)[2])

        terms = [self.log_w[k] + z_k ** 2 / 2 - (at_node(state.u + z_k * scale) - at_mode) / 2
                 for k, z_k in enumerate(self.z)]
        return at_mode.sum() + np.log(state.L2).sum() - 2 * logsumexp(np.array(terms), axis=0).sum()

    def rx_covariance(self, par):
        """glmer's fallback covariance of b: the inverse of RX'RX at par."""
        state = self.state(par)
        return np.linalg.inv(self._fixed_effect_information(par[0], state.weights, state.L2)[0])


class _ExactApproximation(_GroupedRows):
    """The Laplace or adaptive Gauss-Hermite log-likelihood at the *exact* conditional modes,
    with its analytic gradient over (b, log s) (implicit differentiation through each
    group's mode and curvature). Its Hessian is the metric of our Newton steps on glmer's
    deviance."""

    def __init__(self, X, y, groups, nagq: int):
        super().__init__(X, y, groups)
        nodes, weights = np.polynomial.hermite.hermgauss(nagq)
        self.t, self.log_w = nodes, np.log(weights)
        self.modes = np.zeros(self.G)

    def _find_modes(self, eta0, s):
        """Each group's mode of log f(y | u) + log phi(u), by Newton's method (concave)."""
        u = self.modes.copy()
        for _ in range(200):
            p = expit(eta0 + s * u[self.g])
            d1 = s * self._group_sum(self.y - p) - u
            d2 = -(s ** 2) * self._group_sum(p * (1 - p)) - 1
            # Damped: a full Newton step from far away can overshoot where p saturates.
            step = np.clip(d1 / d2, -1.0, 1.0)
            u -= step
            if np.max(np.abs(step)) < 1e-12:
                break
        self.modes = u
        return u

    def value_and_gradient(self, theta):
        X, y, g, t = self.X, self.y, self.g, self.t
        b, log_s = theta[:-1], theta[-1]
        s = np.exp(log_s)
        eta0 = X @ b
        u = self._find_modes(eta0, s)
        p = expit(eta0 + s * u[g])
        v = p * (1 - p)
        H = s ** 2 * self._group_sum(v) + 1                  # -g''(mode)
        c = np.sqrt(2 / H)
        nodes = u[:, None] + c[:, None] * t[None, :]         # G x K abscissae
        eta = eta0[:, None] + s * nodes[g]                   # n x K
        loglik_rows = y[:, None] * eta - np.logaddexp(0, eta)
        g_k = self.Z @ loglik_rows - nodes ** 2 / 2
        terms = self.log_w + t ** 2 + g_k
        total = logsumexp(terms, axis=1)
        value = np.sum(np.log(c) + total - 0.5 * np.log(2 * np.pi))
        pi = np.exp(terms - total[:, None])                  # node weights of each group's integral

        # Direct derivatives at fixed abscissae: d g(u_k) / d(b, s).
        resid = y[:, None] - expit(eta)
        row_pi = pi[g]
        grad_b = X.T @ np.sum(row_pi * resid, axis=1)
        grad_s = np.sum(row_pi * resid * nodes[g])
        # Through the abscissae u_k = mode + c t_k: dl/dmode and dl/dH.
        dg_du = (self.Z @ resid) * s - nodes
        dl_dmode = np.sum(pi * dg_du, axis=1)
        dl_dH = -1 / (2 * H) + np.sum(pi * dg_du * t[None, :], axis=1) * (-c / (2 * H))
        # Implicit derivatives of the mode and of H (at the mode, g' = 0).
        w3 = v * (1 - 2 * p)
        d2 = -H
        d3 = -(s ** 3) * self._group_sum(w3)
        dgp_db = -s * (self.Z @ (X * v[:, None]))            # d g'(mode) / db, group by column
        dgp_ds = self._group_sum(y - p) - s * self._group_sum(v * u[g])
        dmode_db = -dgp_db / d2[:, None]
        dmode_ds = -dgp_ds / d2
        dgpp_db = -(s ** 2) * (self.Z @ (X * w3[:, None]))
        dgpp_ds = -2 * s * self._group_sum(v) - s ** 2 * self._group_sum(w3 * u[g])
        dH_db = -(dgpp_db + d3[:, None] * dmode_db)
        dH_ds = -(dgpp_ds + d3 * dmode_ds)
        grad_b = grad_b + dmode_db.T @ dl_dmode + dH_db.T @ dl_dH
        grad_s = grad_s + dl_dmode @ dmode_ds + dl_dH @ dH_ds
        return value, np.concatenate([grad_b, [grad_s * s]])  # chain rule to log s


def _central_gradient(f, x, step: float = 1e-5):
    return np.array([(f(x + e) - f(x - e)) / (2 * step) for e in np.eye(len(x)) * step])


def deriv12_hessian(f, x, delta: float = DERIV12_STEP):
    """lme4's deriv12: central second differences, four points for each off-diagonal."""
    k, fx = len(x), f(x)
    H = np.empty((k, k))
    steps = np.eye(k) * delta
    for j in range(k):
        H[j, j] = (f(x + steps[j]) - 2 * fx + f(x - steps[j])) / delta ** 2
        for i in range(j):
            H[i, j] = H[j, i] = (f(x + steps[i] + steps[j]) - f(x + steps[i] - steps[j])
                                 - f(x - steps[i] + steps[j]) + f(x - steps[i] - steps[j])) / (4 * delta ** 2)
    return H


def _newton_minimise(f, x, metric, tol: float = 1e-8, max_iter: int = 100, resolution: float = 1e-5):
    """Newton steps x - metric^-1 grad f (central differences), halved until f does not
    increase. Returns (x, converged): converged once a full step is shorter than tol, or
    when no fraction of a step shorter than `resolution` lowers f (the minimum within the
    deviance's rounding)."""
    fx = f(x)
    for _ in range(max_iter):
        step = np.linalg.solve(metric, _central_gradient(f, x))
        if np.max(np.abs(step)) < tol:
            return x, True
        for halving in range(30):
            trial = x - step / 2 ** halving
            f_trial = f(trial)
            if f_trial <= fx:
                break
        else:
            return x, bool(np.max(np.abs(step)) < resolution)
        x, fx = trial, f_trial
    return x, False


def _exact_metric(X, y, groups, nagq: int, par):
    """The Hessian of the exact approximation's deviance over (s, b), from its analytic
    gradient."""
    exact = _ExactApproximation(X, y, groups, nagq)

    def gradient(p):
        s = max(abs(p[0]), 1e-4)
        _, grad = exact.value_and_gradient(np.concatenate([p[1:], [np.log(s)]]))
        return -2 * np.concatenate([[grad[-1] / s], grad[:-1]])

    return _numerical_hessian(gradient, np.asarray(par, float))


def _glmer_covariance(deviance, par):
    """glmer's vcov: the fixed-effect block of 2 H^-1 with H from deriv12; where that is not
    positive definite, the inverse of RX'RX. Returns (covariance of b, variance of s, notes)."""
    try:
        inverse = 2 * np.linalg.inv(deriv12_hessian(deviance, par))
        cov = (inverse[1:, 1:] + inverse[1:, 1:].T) / 2
        if np.all(np.isfinite(cov)) and np.linalg.eigvalsh(cov).min() > 0:
            return cov, inverse[0, 0], []
    except np.linalg.LinAlgError:
        pass
    return deviance.rx_covariance(par), np.nan, [
        "the finite-difference Hessian is not positive definite: standard errors from the PIRLS "
        "information (RX), as glmer falls back"]


def _logit_loglik(X, y) -> float:
    """The single-level logit's maximised log-likelihood (nan if it does not converge)."""
    try:
        eta = X @ logit_newton(X, y)
    except (ValueError, np.linalg.LinAlgError):
        return np.nan
    return float(np.sum(y * eta - np.logaddexp(0, eta)))


def fit_random_intercept_logit(X, y, groups, names=None, nagq: int = 1) -> MixedLogitFit:
    """glmer(y ~ 0 + X + (1 | groups), family = binomial, nAGQ = nagq): estimates, glmer's
    covariance of the fixed effects, and -deviance / 2 as its logLik."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Xs = X / scale
    deviance = _GlmerDeviance(Xs, y, groups, nagq)
    s, b = deviance.first_stage()
    start = np.concatenate([[s], b])
    par, converged = _newton_minimise(deviance, start, _exact_metric(Xs, y, groups, nagq, start))
    cov, sigma_variance, notes = _glmer_covariance(deviance, par)
    return MixedLogitFit(list(names) if names is not None else [f"x{j}" for j in range(X.shape[1])],
                         par[1:] / scale, float(abs(par[0])), cov / np.outer(scale, scale),
                         -deviance(par) / 2, len(X), deviance.G, nagq, converged,
                         sigma_se=float(np.sqrt(sigma_variance)), loglik_logit=_logit_loglik(Xs, y), notes=notes)


def _numerical_hessian(gradient, theta, step: float = 1e-5):
    """Central differences of an analytic gradient, symmetrised."""
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step * max(1.0, abs(theta[j]))
        H[:, j] = (gradient(theta + e) - gradient(theta - e)) / (2 * e[j])
    return (H + H.T) / 2


# --- approximation: exact_laplace (Stata's melogit) ---------------------------------------------
# Kept apart from glmer's algorithm above: it only evaluates _ExactApproximation.


def fit_exact_laplace(X, y, groups, names=None, nagq: int = 1) -> MixedLogitFit:
    """The random-intercept logit as Stata's melogit fits it (nagq 1: intmethod(laplace); more:
    mode-curvature adaptive Gauss-Hermite): the exact approximation's log-likelihood maximised
    over (b, log s) by Newton's method on its analytic gradient, and standard errors from the
    inverse of its observed information (the Hessian, central differences of that gradient),
    the variance's by the delta method. Starts from glmer's first stage."""
    X, y = np.asarray(X, float), np.asarray(y, float)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Xs = X / scale
    s, b = _GlmerDeviance(Xs, y, groups, nagq).first_stage()
    exact = _ExactApproximation(Xs, y, groups, nagq)
    theta = np.concatenate([b, [np.log(max(s, 1e-3))]])
    converged = False
    for _ in range(100):
        information = -_numerical_hessian(lambda t: exact.value_and_gradient(t)[1], theta)
        step = np.linalg.solve(information, exact.value_and_gradient(theta)[1])
        value = exact.value_and_gradient(theta)[0]
        for halving in range(30):  # a step that lowers the log-likelihood is halved
            trial = theta + step / 2**halving
            if exact.value_and_gradient(trial)[0] >= value - 1e-12:
                break
        theta = trial
        if np.max(np.abs(step)) < 1e-9:
            converged = True
            break
    information = -_numerical_hessian(lambda t: exact.value_and_gradient(t)[1], theta)
    inverse = np.linalg.inv(information)
    sigma = float(np.exp(theta[-1]))
    cov = inverse[:-1, :-1] / np.outer(scale, scale)
    return MixedLogitFit(
        list(names) if names is not None else [f"x{j}" for j in range(X.shape[1])],
        theta[:-1] / scale,
        sigma,
        (cov + cov.T) / 2,
        float(exact.value_and_gradient(theta)[0]),
        len(X),
        exact.G,
        nagq,
        converged,
        sigma_se=float(sigma * np.sqrt(inverse[-1, -1])),  # delta method from log s
        loglik_logit=_logit_loglik(Xs, y),
    )


APPROXIMATION_FITS = {"glmer": fit_random_intercept_logit, "exact_laplace": fit_exact_laplace}


def fit_mixed_logit(spec: ModelSpec, data: pd.DataFrame) -> MixedLogitFit:
    """A config equation (kind melogit): its covariates as fixed effects, a random intercept
    for each level of `spec.group`, `spec.nagq` quadrature points."""
    require_observed(spec, data)
    group = spec.group
    outcome = data[spec.outcome].astype(float).to_numpy()
    if not np.isin(outcome, (0.0, 1.0)).all():
        raise InputError(f"{spec.name}: a melogit outcome must be 0/1, but {spec.outcome} also takes "
                         f"{np.unique(outcome[~np.isin(outcome, (0.0, 1.0))])[:3].tolist()}. Derive a binary "
                         f"indicator in the codebook or the study's derivations.")
    design = Design.from_data(spec.covariates, data, where=spec.name)
    check_identified(design.matrix(data), design.column_names(), spec.name)
    try:
        fitted = APPROXIMATION_FITS[spec.approximation](design.matrix(data), outcome, data[group].to_numpy(),
                                                        design.column_names(), spec.nagq)
    except PirlsFailure as failure:
        raise InputError(f"{spec.name}: {failure} (as glmer would stop). Look for a covariate level or "
                         f"a {group} in which {spec.outcome} is always 0 or always 1.") from None
    fitted.spec, fitted.group = spec, group
    fitted.labels = coefficient_labels(design)
    fitted.notes = list(design.notes) + [f"{spec.name}: {note}" for note in fitted.notes]
    if not fitted.converged:
        fitted.notes.append(f"{spec.name}: the mixed logit did not converge.")
    return fitted
