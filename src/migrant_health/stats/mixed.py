"""Random-intercept logistic regression by maximum likelihood, as lme4's `glmer` fits it.

Model: logit P(y_ij = 1 | u_j) = x_ij b + s u_j, u_j ~ N(0, 1) independently over groups j
(lme4's theta is s; the group variance is s^2). The likelihood of a group is the integral
over u_j, approximated as lme4 does:

* nagq = 1, the Laplace approximation (glmer's default);
* nagq > 1, adaptive Gauss-Hermite quadrature centred at each group's conditional mode with
  its curvature (glmer's nAGQ, allowed for a single scalar random effect).

Both approximations are maximised exactly over (b, log s) with their analytic gradient
(implicit differentiation through each group's mode and curvature). Standard errors come,
as glmer's `vcov`, from the inverse Hessian of the approximated deviance over all
parameters (its fixed-effect block), computed by differentiating the analytic gradient.
The intraclass correlation on the latent scale is s^2 / (s^2 + pi^2 / 3).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit, logsumexp

from .design import Design
from .inference import TIDY_COLUMNS, wald
from .models import ModelSpec, coefficient_labels, logit_newton, require_observed

LOGISTIC_VARIANCE = np.pi ** 2 / 3


@dataclass
class MixedLogitFit:
    names: list
    params: np.ndarray        # fixed effects b
    sigma: float              # SD of the random intercept (lme4's theta)
    cov: np.ndarray           # covariance of b
    loglik: float
    n_obs: int
    n_groups: int
    nagq: int
    converged: bool
    labels: list = field(default_factory=list)   # (term, level, reference) per fixed effect
    notes: list = field(default_factory=list)

    @property
    def variance(self) -> float:
        return self.sigma ** 2

    @property
    def icc(self) -> float:
        return self.variance / (self.variance + LOGISTIC_VARIANCE)


class _Problem:
    """The approximated log-likelihood of one data set and its gradient."""

    def __init__(self, X, y, groups, nagq: int):
        self.X, self.y = np.asarray(X, float), np.asarray(y, float)
        _, self.g = np.unique(np.asarray(groups), return_inverse=True)
        self.G = int(self.g.max()) + 1
        nodes, weights = np.polynomial.hermite.hermgauss(nagq)
        self.t, self.log_w = nodes, np.log(weights)
        self.modes = np.zeros(self.G)

    def _sum(self, values):
        return np.bincount(self.g, weights=values, minlength=self.G)

    def _find_modes(self, eta0, s):
        """Each group's mode of log f(y | u) + log phi(u), by Newton's method (concave)."""
        u = self.modes.copy()
        for _ in range(200):
            p = expit(eta0 + s * u[self.g])
            d1 = s * self._sum(self.y - p) - u
            d2 = -(s ** 2) * self._sum(p * (1 - p)) - 1
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
        H = s ** 2 * self._sum(v) + 1                        # -g''(mode)
        c = np.sqrt(2 / H)
        nodes = u[:, None] + c[:, None] * t[None, :]         # G x K abscissae
        eta = eta0[:, None] + s * nodes[g]                   # n x K
        loglik_rows = y[:, None] * eta - np.logaddexp(0, eta)
        g_k = np.column_stack([self._sum(loglik_rows[:, k]) for k in range(len(t))]) - nodes ** 2 / 2
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
        dg_du = np.column_stack([self._sum(resid[:, k]) for k in range(len(t))]) * s - nodes
        dl_dmode = np.sum(pi * dg_du, axis=1)
        dl_dH = -1 / (2 * H) + np.sum(pi * dg_du * t[None, :], axis=1) * (-c / (2 * H))
        # Implicit derivatives of the mode and of H (at the mode, g' = 0).
        w3 = v * (1 - 2 * p)
        d2 = -H
        d3 = -(s ** 3) * self._sum(w3)
        dgp_db = -s * (X * v[:, None])                       # rows of d g'(mode) / db, summed by group below
        dgp_db = np.column_stack([self._sum(dgp_db[:, j]) for j in range(X.shape[1])])
        dgp_ds = self._sum(y - p) - s * self._sum(v * u[g])
        dmode_db = -dgp_db / d2[:, None]
        dmode_ds = -dgp_ds / d2
        dgpp_db = np.column_stack([self._sum(-(s ** 2) * w3 * X[:, j]) for j in range(X.shape[1])])
        dgpp_ds = -2 * s * self._sum(v) - s ** 2 * self._sum(w3 * u[g])
        dH_db = -(dgpp_db + d3[:, None] * dmode_db)
        dH_ds = -(dgpp_ds + d3 * dmode_ds)
        grad_b = grad_b + dmode_db.T @ dl_dmode + dH_db.T @ dl_dH
        grad_s = grad_s + dl_dmode @ dmode_ds + dl_dH @ dH_ds
        return value, np.concatenate([grad_b, [grad_s * s]])  # chain rule to log s


def fit_random_intercept_logit(X, y, groups, names=None, nagq: int = 1, start=None) -> MixedLogitFit:
    """Maximum likelihood under the Laplace (nagq=1) or adaptive Gauss-Hermite approximation."""
    X = np.asarray(X, float)
    # Columns on a common scale (age^2 runs to thousands): the optimiser works on X / scale
    # and its coefficients b * scale; estimates and covariance are mapped back below.
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    problem = _Problem(X / scale, y, groups, nagq)
    start = (np.concatenate([logit_newton(X / scale, np.asarray(y, float)), [np.log(0.5)]]) if start is None
             else np.concatenate([np.asarray(start[:-1]) * scale, [start[-1]]]))

    def objective(theta):
        value, grad = problem.value_and_gradient(theta)
        return -value, -grad

    # BFGS starts from the ordinary logit's inverse information, not the identity, so its
    # first steps have the right size.
    problem.modes[:] = 0
    p = expit(problem.X @ start[:-1])
    information = np.zeros((len(start), len(start)))
    information[:-1, :-1] = (problem.X * (p * (1 - p))[:, None]).T @ problem.X
    information[-1, -1] = problem.G
    inverse = np.linalg.inv(information)
    result = optimize.minimize(objective, start, jac=True, method="BFGS",
                               options={"gtol": 1e-8, "maxiter": 1000, "hess_inv0": (inverse + inverse.T) / 2})
    theta = result.x
    hessian = _numerical_hessian(lambda th: problem.value_and_gradient(th)[1], theta)
    # The fixed-effect block of the inverse is the same whether the variance is
    # parameterised by s or log s (the reparameterisation touches the last row only).
    cov = np.linalg.inv(-hessian)[:-1, :-1] / np.outer(scale, scale)
    value, grad = problem.value_and_gradient(theta)
    converged = bool(result.success or np.max(np.abs(grad)) < 1e-4)
    return MixedLogitFit(list(names) if names is not None else [f"x{j}" for j in range(X.shape[1])],
                         theta[:-1] / scale, float(np.exp(theta[-1])), cov, float(value), len(X), problem.G,
                         nagq, converged)


def _numerical_hessian(gradient, theta, step: float = 1e-5):
    """Central differences of the analytic gradient, symmetrised."""
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step * max(1.0, abs(theta[j]))
        H[:, j] = (gradient(theta + e) - gradient(theta - e)) / (2 * e[j])
    return (H + H.T) / 2


def fit_mixed_logit(spec: ModelSpec, data: pd.DataFrame, group: str, nagq: int = 1) -> MixedLogitFit:
    """A config equation (kind melogit): its covariates as fixed effects, a random intercept
    for each level of `group`."""
    require_observed(spec, data, [group])
    design = Design.from_data(spec.covariates, data, where=spec.name)
    fitted = fit_random_intercept_logit(design.matrix(data), data[spec.outcome].astype(float).to_numpy(),
                                        data[group].to_numpy(), design.column_names(), nagq)
    fitted.labels, fitted.notes = coefficient_labels(design), list(design.notes)
    if not fitted.converged:
        fitted.notes.append(f"{spec.name}: the mixed logit did not converge.")
    return fitted


def mixed_tidy(fitted: MixedLogitFit, study: str, sample: str, model: str, equation: str, group: str) -> pd.DataFrame:
    """Coefficients, odds ratios (CI from exponentiated Wald limits), the group variance and
    the latent-scale intraclass correlation, in the tidy columns."""
    se = np.sqrt(np.diag(fitted.cov))
    statistic, p_value, low, high = wald(fitted.params, se)
    base = pd.DataFrame(fitted.labels, columns=["term", "level", "reference"]).assign(
        study=study, model=model, sample=sample, equation=equation, n_obs=fitted.n_obs, converged=fitted.converged,
        statistic=statistic, p_value=p_value)
    coef = base.assign(estimand="coef", estimate=fitted.params, std_error=se, conf_low=low, conf_high=high)
    odds = base.assign(estimand="odds_ratio", estimate=np.exp(fitted.params), std_error=np.exp(fitted.params) * se,
                       conf_low=np.exp(low), conf_high=np.exp(high))
    odds = odds[odds["term"] != "_cons"]
    extra = pd.DataFrame([{"term": f"var(_cons[{group}])", "level": "", "reference": "", "estimand": "variance",
                           "estimate": fitted.variance},
                          {"term": "icc", "level": "", "reference": "", "estimand": "icc", "estimate": fitted.icc}])
    extra = extra.assign(study=study, model=model, sample=sample, equation=equation, n_obs=fitted.n_obs,
                         converged=fitted.converged)
    return pd.concat([coef, odds, extra], ignore_index=True)[TIDY_COLUMNS]
