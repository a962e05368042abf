"""Average marginal effects with delta-method standard errors, as Stata's `margins, dydx(*)`.

The prediction is a product of parts, mu = h_1(x b_1) x ... x h_K(x b_K): one part for a
single model, two for a two-part model (P(y>0) x E[y|y>0], as `twopm` predicts).

* Continuous variable v: the derivative d mu / d v, through every column that depends on
  v (a polynomial term included), averaged over the sample.
* Factor level L: mu with every observation set to L minus mu with every observation
  set to the reference level, averaged (the `i.` convention: a discrete change from base).
* Scale: 'response' (h = inverse link) or 'linear' (h = identity: the linear predictor,
  e.g. log-scale effects of a log-link GLM).
* Averages are weighted by the model's weights; the variance is the model's (robust,
  cluster, ...), carried through V = J V_b J' with the analytic Jacobian J = d AME / d b.
* at='means' evaluates at the means instead of averaging (Stata's `atmeans`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from .design import Continuous, Factor
from .inference import label_column, wald_rows


@dataclass
class Part:
    """One factor of the prediction, evaluated at the rows where effects are averaged."""

    fit: object  # FittedModel
    X: np.ndarray  # design rows of the evaluation sample
    values: dict  # continuous variable -> its values at those rows
    scale: str = "response"

    @property
    def eta(self) -> np.ndarray:
        return self.X @ self.fit.params

    @functools.cached_property
    def at_observed(self):
        """(eta, h, h', h'') at the observed rows, shared by every continuous variable."""
        eta = self.eta
        return (eta, *self.h(eta))

    def h(self, eta):
        """(h, h', h'') of the linear predictor on this part's scale."""
        if self.scale == "linear":
            return eta, np.ones_like(eta), np.zeros_like(eta)
        link = self.fit.link
        return link.inverse(eta), link.inverse_deriv(eta), link.inverse_deriv2(eta)


def evaluation_part(fit, data: pd.DataFrame, scale: str = "response", at: str | None = None) -> Part:
    design = fit.design
    continuous = [t for t in design.terms if isinstance(t, Continuous)]
    if at == "means":
        return Part(
            fit,
            design.means_row(data),
            {t.variable: np.array([data[t.variable].astype(float).mean()]) for t in continuous},
            scale,
        )
    X = fit.X if data is fit.data else design.matrix(data)
    return Part(fit, X, {t.variable: data[t.variable].astype(float).to_numpy() for t in continuous}, scale)


@dataclass
class Margins:
    labels: list  # (term, level, reference)
    estimates: np.ndarray
    jacobian: np.ndarray  # d estimate / d (stacked parameters of the parts)
    cov: np.ndarray
    fits: list
    n_obs: int
    estimand: str = "ame"

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def tidy(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        first = self.fits[0]
        unidentified = {name for f in self.fits for name in getattr(f, "not_identified", [])}
        estimable = [label_column(term, level) not in unidentified for term, level, _ in self.labels]
        return wald_rows(
            self.labels,
            self.estimates,
            self.std_errors,
            self.estimand,
            first,
            study=study,
            sample=sample,
            equation=equation or first.spec.outcome,
            n_obs=self.n_obs,
            converged=all(f.converged for f in self.fits),
            estimable=estimable,
        )


def average_marginal_effects(
    parts: list[Part], weights: np.ndarray, variables: list[str] | None = None, estimand: str = "ame"
) -> Margins:
    """dydx(*) over the variables of the parts (or `variables`), with delta-method SEs."""
    variables = variables or list(dict.fromkeys(v for p in parts for v in p.fit.design.variables))
    w = np.asarray(weights, float) / np.sum(weights)
    labels, estimates, jacobians = [], [], []
    for v in variables:
        term = next(p.fit.design.term(v) for p in parts if v in p.fit.design.variables)
        if isinstance(term, Factor):
            for level in term.others():
                effect, jac = _discrete_change(parts, w, v, level, term.reference)
                labels.append((v, str(level), str(term.reference)))
                estimates.append(effect)
                jacobians.append(jac)
        else:
            effect, jac = _derivative(parts, w, v)
            labels.append((v, "", ""))
            estimates.append(effect)
            jacobians.append(jac)
    J = np.array(jacobians)
    V = block_diag(*[p.fit.cov for p in parts])
    return Margins(
        labels,
        np.array(estimates),
        J,
        J @ V @ J.T,
        [p.fit for p in parts],
        n_obs=len(parts[0].X) if len(w) > 1 else parts[0].fit.n_obs,
        estimand=estimand,
    )


def _others_product(values: list[np.ndarray], skip: set[int]) -> np.ndarray:
    out = np.ones_like(values[0])
    for j, v in enumerate(values):
        if j not in skip:
            out = out * v
    return out


def _derivative(parts: list[Part], w: np.ndarray, variable: str):
    """Average of d mu / d variable and its gradient in every part's parameters."""
    a, s, d_eta, dX, h1s, h2s = [], [], [], [], [], []
    for p in parts:
        _, h, h1, h2 = p.at_observed
        dXp = np.zeros_like(p.X)
        if variable in p.fit.design.variables:
            dXp[:, p.fit.design.slices()[variable]] = p.fit.design.term(variable).derivative(p.values[variable])
        de = dXp @ p.fit.params
        a.append(h), s.append(h1 * de), d_eta.append(de), dX.append(dXp), h1s.append(h1), h2s.append(h2)
    K = len(parts)
    effect = sum(w @ (s[k] * _others_product(a, {k})) for k in range(K))
    grads = []
    for k, p in enumerate(parts):
        rest = _others_product(a, {k})
        # d s_k / d b_k = h'' d_eta X + h' dX, times the other parts' levels
        g = (w * h2s[k] * d_eta[k] * rest) @ p.X + (w * h1s[k] * rest) @ dX[k]
        # the other parts' slopes times d a_k / d b_k = h' X
        for j in range(K):
            if j != k:
                g = g + (w * s[j] * h1s[k] * _others_product(a, {j, k})) @ p.X
        grads.append(g)
    return float(effect), np.concatenate(grads)


def _at_level(p: Part, variable: str, level):
    """(eta, X) of a part with every row set to `level` of `variable`."""
    if variable not in p.fit.design.variables:
        return p.eta, p.X
    cols = p.fit.design.slices()[variable]
    X = p.X.copy()
    X[:, cols] = p.fit.design.term(variable).at_level(len(X), level)
    return X @ p.fit.params, X


def _discrete_change(parts: list[Part], w: np.ndarray, variable: str, level, reference):
    """Average of mu(all at level) - mu(all at reference) and its gradient."""
    effect, grads = 0.0, [np.zeros(len(p.fit.params)) for p in parts]
    for value, sign in ((level, 1.0), (reference, -1.0)):
        at = [_at_level(p, variable, value) for p in parts]
        hs = [p.h(eta) for p, (eta, _) in zip(parts, at)]
        a = [h for h, _, _ in hs]
        effect += sign * float(w @ _others_product(a, set()))
        for k, (_, X) in enumerate(at):
            grads[k] += sign * (w * hs[k][1] * _others_product(a, {k})) @ X
    return effect, np.concatenate(grads)


def margins(fit, scale: str = "response", at: str | None = None, variables=None, estimand=None) -> Margins:
    """Effects of one fitted model over its estimation sample (Stata: margins, dydx(*))."""
    from ..errors import InputError
    from .estimators import ESTIMATORS

    if not ESTIMATORS[fit.spec.kind].supports.margins:
        raise InputError(
            f"{fit.spec.name}: marginal effects are not available after kind {fit.spec.kind}; "
            f"report coef or odds_ratio instead."
        )
    part = evaluation_part(fit, fit.data, scale, at)
    weights = fit.weights if at is None else np.ones(1)
    name = (
        estimand
        or {
            ("response", None): "ame",
            ("linear", None): "ame_linear",
            ("response", "means"): "mem",
            ("linear", "means"): "mem_linear",
        }[(scale, at)]
    )
    return average_marginal_effects([part], weights, variables, name)
