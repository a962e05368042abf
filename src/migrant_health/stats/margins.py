"""Margins as Stata's `margins` computes them, with delta-method standard errors.

The prediction is a product of parts, mu = h_1(x b_1) x ... x h_K(x b_K): one part for a
single model, two for a two-part model (P(y>0) x E[y|y>0], as `twopm` predicts).

* Continuous variable v (`dydx`): d mu / d v through every column v enters (a polynomial,
  an interaction: hp through hp and hp x wt), averaged over the sample.
* Factor level L: mu with every observation set to L minus mu with every observation set to
  the reference level, the other variables as observed (the `i.` convention: a discrete
  change from base; in an interaction, each row's own values of the other parts).
* Elasticities (continuous variables): `eyex` (dmu/dv) v/mu, `dyex` (dmu/dv) v, `eydx`
  (dmu/dv)/mu, each per observation and then averaged (Stata's eyex(), dyex(), eydx());
  `eydx` of a factor level is the average of ln mu(L) - ln mu(reference), as Stata's.
* Predictive margins (`predict`): the average of mu with every row at each level of a
  factor (Stata: margins i.x), or as observed (margins).
* `at`: scenarios that fix variables for every row, the others as observed: values, or
  'mean' / 'median' of the rows averaged over (Stata: at(x=1) and at((mean) x)); a list of
  values, or a list of scenarios, gives several. at='means' evaluates at the means instead of
  averaging (Stata's `atmeans`).
* `over`: each group's own rows (Stata: over(g)); at-statistics are the group's. With
  `contrast`, the difference of each group's effects from the reference group's.
* Scale: 'response' (h = inverse link) or 'linear' (h = identity: the linear predictor).
* Averages are weighted by the model's weights; the variance is the model's (robust,
  cluster, survey, ...), carried through V = J V_b J' with the analytic Jacobian J = d m / d b.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr
from statsmodels.genmod.families.links import Probit

from ..errors import InputError
from .inference import label_column, wald_rows
from .variance import joint_covariance

ELASTICITIES = ("eyex", "dyex", "eydx")
_SQRT_2PI = np.sqrt(2 * np.pi)


@dataclass
class Part:
    """One factor of the prediction, evaluated at the rows where effects are averaged."""

    fit: object  # FittedModel
    X: np.ndarray  # design rows of the evaluation sample
    values: dict  # each variable of the design -> its values at those rows
    scale: str = "response"

    @functools.cached_property
    def eta(self) -> np.ndarray:
        return self.X @ self.fit.params

    @functools.cached_property
    def at_observed(self):
        """(eta, h, h', h'') at the observed rows, shared by every variable."""
        eta = self.eta
        return (eta, *self.h(eta))

    def h(self, eta):
        """(h, h', h'') of the linear predictor on this part's scale."""
        if self.scale == "linear":
            return eta, np.ones_like(eta), np.zeros_like(eta)
        link = self.fit.link
        if isinstance(link, Probit):  # scipy.stats.norm's own formulas, without its argument checks
            density = np.exp(-(eta**2) / 2.0) / _SQRT_2PI
            return ndtr(eta), density, -eta * density
        return link.inverse(eta), link.inverse_deriv(eta), link.inverse_deriv2(eta)

    @property
    def design(self):
        return self.fit.design

    def rows(self, mask: np.ndarray) -> Part:
        return Part(self.fit, self.X[mask], {v: x[mask] for v, x in self.values.items()}, self.scale)

    def set(self, changes: dict) -> Part:
        """This part with variables fixed for every row (a scenario)."""
        changes = {v: x for v, x in changes.items() if v in self.values}
        if not changes:
            return self
        cols, block = self.design.patch(self.values, changes, len(self.X))
        X = self.X.copy()
        X[:, cols] = block
        values = {**self.values, **{v: np.full(len(self.X), x, dtype=self.values[v].dtype) for v, x in changes.items()}}
        return Part(self.fit, X, values, self.scale)

    def patched(self, variable: str, value):
        """(eta, [(columns, block)]) with `variable` set to `value` for every row; X unchanged."""
        if variable not in self.values:
            return self.eta, []
        pieces = self.design.patch_terms(self.values, {variable: value}, len(self.X))
        eta = self._without(variable)
        for cols, block in pieces:
            eta = eta + _block_times(block, self.fit.params[cols])
        return eta, pieces

    def _without(self, variable: str) -> np.ndarray:
        """eta less the columns `variable` enters (kept for the variable's other levels). On the
        first call, for every factor of the design at once: one pass over X for all of them."""
        cache = self.__dict__.setdefault("_eta_without", {})
        if variable not in cache:
            names = [v for v in self.values if self.design.kind(v) == "factor" and v not in cache]
            names = names if variable in names else [variable]
            masked = np.zeros((self.X.shape[1], len(names)))
            for j, name in enumerate(names):
                cols = self.design.columns_of(name)
                masked[cols, j] = self.fit.params[cols]
            contributions = self.X @ masked
            for j, name in enumerate(names):
                cache[name] = self.eta - contributions[:, j]
        return cache[variable]


def _constant_rows(block: np.ndarray) -> bool:
    """A block broadcast from one row (a factor set to one level for every row)."""
    return block.ndim == 2 and block.strides[0] == 0


def _times_block(v: np.ndarray, block: np.ndarray) -> np.ndarray:
    """v' block, without touching every row of a block broadcast from one row."""
    return v.sum() * block[0] if _constant_rows(block) else v @ block


def _block_times(block: np.ndarray, b: np.ndarray):
    """block b: a number for a block broadcast from one row; one column times its coefficient
    (numpy's n x 1 matrix-vector product is 15 times slower than that product)."""
    if _constant_rows(block):
        return block[0] @ b
    return block[:, 0] * b[0] if block.shape[1] == 1 else block @ b


def _pieces_times(pieces: list, params: np.ndarray, n: int) -> np.ndarray:
    """dX b over a derivative's pieces, as one n-vector."""
    out = np.zeros(n)
    for cols, block in pieces:
        out += _block_times(block, params[cols])
    return out


def _times_pieces(v: np.ndarray, pieces: list) -> tuple:
    """(columns, v' dX) over a derivative's pieces; (None, None) when the variable enters no column."""
    if not pieces:
        return None, None
    return np.concatenate([cols for cols, _ in pieces]), np.concatenate([_times_block(v, block) for _, block in pieces])


def evaluation_part(fit, data: pd.DataFrame, scale: str = "response", at: str | None = None) -> Part:
    design = fit.design
    own = data is fit.data and getattr(fit, "values", None) is not None
    values = fit.values if own else design.values(data)
    if at == "means":
        means = {v: (np.array([x.mean()]) if design.kind(v) == "continuous" else x[:1]) for v, x in values.items()}
        return Part(fit, design.means_row(data), means, scale)
    X = fit.X if data is fit.data else design.matrix(values, len(data))
    return Part(fit, X, values, scale)


@dataclass
class Margins:
    labels: list  # (term, level, reference)
    estimates: np.ndarray
    jacobian: np.ndarray  # d estimate / d (stacked parameters of the parts)
    cov: np.ndarray
    fits: list
    n_obs: object  # one count, or one per row
    estimand: object = "ame"  # one name, or one per row (which option produced it)

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


# --- the estimands on one set of rows -------------------------------------------------------


def _others_product(values: list[np.ndarray], skip: set[int]) -> np.ndarray:
    out = np.ones_like(values[0])
    for j, v in enumerate(values):
        if j not in skip:
            out = out * v
    return out


@dataclass
class _Gradient:
    """A row of the Jacobian not yet multiplied out: for every part, terms coef' X (signed), with
    the values at some columns replaced (a patched design: `replaced` = coef' block) or added to
    (`added` = v' dX). Rows are multiplied out together, one matrix product per part."""

    terms: list  # (sign, [per part: (coef, cols, replaced, added)]); replaced: [(cols, values)]

    def __sub__(self, other: _Gradient) -> _Gradient:
        return _Gradient(self.terms + [(-sign, pieces) for sign, pieces in other.terms])


def _multiply_out(gradients: list[_Gradient], parts: list[Part]) -> np.ndarray:
    """The Jacobian: each part's distinct coefficient vectors (a factor's reference evaluation is
    shared by its levels) stacked and multiplied by its X once."""
    rows = []
    for k, p in enumerate(parts):
        position, coefs = {}, []
        for g in gradients:
            for _, pieces in g.terms:
                coef = pieces[k][0]
                if coef is not None and id(coef) not in position:
                    position[id(coef)] = len(coefs)
                    coefs.append(coef)
        products = np.array(coefs) @ p.X if coefs else np.empty((0, p.X.shape[1]))
        out = np.zeros((len(gradients), p.X.shape[1]))
        for i, g in enumerate(gradients):
            for sign, pieces in g.terms:
                coef, cols, replaced, added = pieces[k]
                if coef is None:  # a row already multiplied out (`added` holds it)
                    out[i] += sign * added
                    continue
                row = products[position[id(coef)]].copy()
                for where, values in replaced or []:
                    row[where] = values
                if added is not None:
                    row[cols] += added
                out[i] += sign * row
        rows.append(out)
    return np.hstack(rows)


def _derivative(parts: list[Part], w: np.ndarray, variable: str, elasticity: str | None = None):
    """Average of d mu / d variable (or its elasticity) and its gradient in every part's parameters."""
    a, d1, d2, de, patches = [], [], [], [], []
    for p in parts:
        _, h, h1, h2 = p.at_observed
        pieces = p.design.derivative(p.values, variable, len(p.X)) if variable in p.values else []
        de.append(_pieces_times(pieces, p.fit.params, len(p.X)))
        a.append(h), d1.append(h1), d2.append(h2), patches.append(pieces)
    K = len(parts)
    m, dm_dmu = _multiplier(parts, variable, a, elasticity)
    if K == 1 and dm_dmu is None:  # one part: no products with the other parts' levels
        slope = d1[0] * de[0]
        wm = w * m if elasticity else w
        cols, added = _times_pieces(wm * d1[0], patches[0])
        return float(wm @ slope), _Gradient([(1.0, [(wm * (d2[0] * de[0]), cols, None, added)])])
    slope = sum(d1[k] * de[k] * _others_product(a, {k}) for k in range(K))
    effect = float(w @ (slope * m))
    pieces = []
    for k in range(K):
        rest = _others_product(a, {k})
        # d slope / d b_k = [h'' de rest + h' sum_j h'_j de_j rest_jk] X + h' rest dX
        A = d2[k] * de[k] * rest
        for j in range(K):
            if j != k:
                A = A + d1[j] * de[j] * d1[k] * _others_product(a, {j, k})
        coef = w * m * A
        if dm_dmu is not None:  # the multiplier's own dependence on mu: d mu / d b_k = h' rest X
            coef = coef + w * slope * dm_dmu * d1[k] * rest
        cols, added = _times_pieces(w * m * d1[k] * rest, patches[k])
        pieces.append((coef, cols, None, added))
    return effect, _Gradient([(1.0, pieces)])


def _multiplier(parts: list[Part], variable: str, a: list, elasticity: str | None):
    """(m, dm/dmu) of an elasticity: the slope is multiplied by m per observation."""
    if elasticity is None:
        return 1.0, None
    mu = _others_product(a, set())
    x = next(p.values[variable] for p in parts if variable in p.values)
    if elasticity == "dyex":
        return x, None
    if elasticity == "eydx":
        return 1 / mu, -1 / mu**2
    return x / mu, -x / mu**2  # eyex


def _level_prediction(parts: list[Part], w: np.ndarray, variable: str | None, value, log: bool = False):
    """Average of mu (or of ln mu) with `variable` at `value` for every row, and its gradient."""
    at = [p.patched(variable, value) if variable else (p.eta, []) for p in parts]
    hs = [p.h(eta) for p, (eta, _) in zip(parts, at)]
    a = [h for h, _, _ in hs]
    mu = a[0] if len(a) == 1 else _others_product(a, set())
    pieces = []
    for k, (_, patches) in enumerate(at):
        coef = w * hs[k][1] if len(a) == 1 else w * hs[k][1] * _others_product(a, {k})
        coef = coef / mu if log else coef
        replaced = [(cols, _times_block(coef, block)) for cols, block in patches]
        pieces.append((coef, None, replaced, None))
    value_ = float(w @ (np.log(mu) if log else mu))
    return value_, _Gradient([(1.0, pieces)])


def _discrete_change(
    parts: list[Part], w: np.ndarray, variable: str, level, reference, log: bool = False, shared: dict | None = None
):
    """Average of mu(all at level) - mu(all at reference) (of ln mu with `log`) and its gradient;
    the reference evaluation is kept in `shared` for the factor's other levels."""
    high, g_high = _level_prediction(parts, w, variable, level, log)
    shared = {} if shared is None else shared
    if (variable, log) not in shared:
        shared[(variable, log)] = _level_prediction(parts, w, variable, reference, log)
    low, g_low = shared[(variable, log)]
    return high - low, g_high - g_low


def _kind(parts: list[Part], variable: str) -> str:
    for p in parts:
        if variable in p.values:
            return p.design.kind(variable)
    raise InputError(f"margins: '{variable}' is not a covariate of the model.")


def _factor(parts: list[Part], variable: str):
    return next(p.design.factor(variable) for p in parts if variable in p.values)


def _effects(parts: list[Part], w: np.ndarray, variables: list[str], elasticity: str | None):
    """(labels, estimates, gradients) of dydx (or an elasticity) of each variable."""
    labels, estimates, grads, shared = [], [], [], {}
    plain = _plain_slopes(parts, w, variables) if len(parts) == 1 and elasticity is None else {}
    for v in variables:
        if v in plain:
            labels.append((v, "", ""))
            estimates.append(plain[v][0])
            grads.append(plain[v][1])
        elif _kind(parts, v) == "factor":
            if elasticity in ("eyex", "dyex"):
                raise InputError(f"margins: {elasticity} is for continuous variables; '{v}' is a factor.")
            term = _factor(parts, v)
            for level in term.others():
                effect, grad = _discrete_change(parts, w, v, level, term.reference, elasticity == "eydx", shared)
                labels.append((v, str(level), str(term.reference)))
                estimates.append(effect)
                grads.append(grad)
        else:
            effect, grad = _derivative(parts, w, v, elasticity)
            labels.append((v, "", ""))
            estimates.append(effect)
            grads.append(grad)
    return labels, estimates, grads


def _plain_slopes(parts: list[Part], w: np.ndarray, variables: list[str]) -> dict:
    """dydx of the variables that enter one linear column and nothing else, in one pass: with
    slope h'(eta) b_j, the AME is b_j sum(w h') and its gradient b_j X'(w h'') + sum(w h') e_j."""
    (p,) = parts
    columns = {}
    for t, s in p.design.term_slices():
        if len(t.variables) == 1 and t.variables[0] in variables and p.design.kind(t.variables[0]) == "continuous":
            if getattr(t, "degree", 1) == 1 and not any(
                t.variables[0] in other.variables for other in p.design.terms if other is not t
            ):
                columns[t.variables[0]] = s.start
    if not columns:
        return {}
    _, _, h1, h2 = p.at_observed
    total = float(w @ h1)
    curvature = (w * h2) @ p.X
    out = {}
    for v, j in columns.items():
        b = p.fit.params[j]
        row = b * curvature
        row[j] += total
        out[v] = (b * total, _Gradient([(1.0, [(None, None, None, row)])]))
    return out


def _predictions(parts: list[Part], w: np.ndarray, predict):
    """Predictive margins: at each level of the factor `predict`, or as observed (True)."""
    if predict is True:
        value, grad = _level_prediction(parts, w, None, None)
        return [("_cons", "", "")], [value], [grad]
    if _kind(parts, predict) != "factor":
        raise InputError(f"margins: predict '{predict}' must be a factor of the model (Stata: margins i.x).")
    labels, estimates, grads = [], [], []
    for level in _factor(parts, predict).levels:
        value, grad = _level_prediction(parts, w, predict, level)
        labels.append((predict, str(level), ""))
        estimates.append(value)
        grads.append(grad)
    return labels, estimates, grads


# --- scenarios (at) and groups (over) -------------------------------------------------------


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    """Stata's median (_pctile, p50): the first value whose cumulative weight share passes one
    half, the average of it and the next when the share is exactly one half."""
    order = np.argsort(x, kind="stable")
    x, share = x[order], np.cumsum(w[order]) / w.sum()
    i = int(np.searchsorted(share, 0.5 - 1e-12))
    if abs(share[i] - 0.5) <= 1e-12 and i + 1 < len(x):
        return float((x[i] + x[i + 1]) / 2)
    return float(x[i])


def _scenarios(at) -> list[dict]:
    """A list of scenarios from `at`: a dict (a list of values gives one scenario per value, the
    product over variables, as Stata's at(x=(1 2) y=(3 4))) or a list of dicts."""
    if at is None:
        return [{}]
    if isinstance(at, dict):
        keys = list(at)
        choices = [at[k] if isinstance(at[k], list) else [at[k]] for k in keys]
        return [dict(zip(keys, combo)) for combo in itertools.product(*choices)]
    if isinstance(at, list):
        return [s for item in at for s in _scenarios(item)]
    raise InputError(f"margins: at {at!r}: write {{variable: value}}, a list of them, or 'means'.")


def _resolve(parts: list[Part], w: np.ndarray, scenario: dict) -> dict:
    """The scenario's values: 'mean' and 'median' of the rows averaged over; a factor's level as
    the model spells it."""
    out = {}
    for v, value in scenario.items():
        kind = _kind(parts, v)
        x = next(p.values[v] for p in parts if v in p.values)
        if kind == "factor":
            levels = _factor(parts, v).levels
            match = [lv for lv in levels if str(lv) == str(value)]
            if not match:
                raise InputError(f"margins: at {v}={value!r} is not one of its levels {[str(lv) for lv in levels]}.")
            out[v] = match[0]
        elif value == "mean":
            out[v] = float(w @ x / w.sum())
        elif value == "median":
            out[v] = _weighted_median(x, w)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[v] = float(value)
        else:
            raise InputError(f"margins: at {v}={value!r}: a continuous variable takes a number, mean or median.")
    return out


def _describe(scenario: dict) -> str:
    return ", ".join(f"{v}={x}" for v, x in scenario.items())


def _groups(parts: list[Part], data: pd.DataFrame, over: str | None):
    """[(label, row mask)]: the whole sample, or each group of `over` (levels in order)."""
    if over is None:
        return [(None, None)]
    if over not in data.columns:
        raise InputError(f"margins: over '{over}' is not a variable of the sample.")
    column = data[over]
    if column.isna().any():
        raise InputError(f"margins: over '{over}' has missing values in the estimation sample.")
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [c for c in column.cat.categories if (column == c).any()]
    else:
        levels = sorted(column.unique(), key=str)
    values = column.to_numpy()
    return [(level, values == level) for level in levels]


def compute(
    parts: list[Part],
    weights: np.ndarray,
    data: pd.DataFrame,
    *,
    variables=None,
    at=None,
    over=None,
    predict=None,
    elasticity=None,
    contrast=False,
    reference=None,
    estimand: str = "ame",
) -> Margins:
    """Margins of the product of `parts` (rows of `data`): effects or predictive margins, in each
    scenario of `at`, within each group of `over` (or their contrasts), with J V J'."""
    if elasticity is not None and elasticity not in ELASTICITIES:
        raise InputError(f"margins: elasticity '{elasticity}' is not one of {', '.join(ELASTICITIES)}.")
    if contrast and over is None:
        raise InputError("margins: contrast compares the groups of `over`; name the groups with over.")
    variables = variables or list(dict.fromkeys(v for p in parts for v in p.values))
    weights = np.asarray(weights, float)
    labels, estimates, grads, names, counts, keys = [], [], [], [], [], []
    for group, mask in _groups(parts, data, over):
        group_parts = parts if mask is None else [p.rows(mask) for p in parts]
        w = weights if mask is None else weights[mask]
        for scenario in _scenarios(at):
            resolved = _resolve(group_parts, w, scenario)
            here = [p.set(resolved) for p in group_parts]
            wn = w / w.sum()
            rows = _predictions(here, wn, predict) if predict else _effects(here, wn, variables, elasticity)
            suffix = (f" at({_describe(scenario)})" if scenario else "") + (f" over({over}={group})" if over else "")
            labels += rows[0]
            estimates += rows[1]
            grads.append(_multiply_out(rows[2], here))
            names += [estimand + suffix] * len(rows[0])
            counts += [int(len(here[0].X))] * len(rows[0])
            keys += [(group, _describe(scenario), label) for label in rows[0]]
    J = np.vstack(grads)
    estimates = np.array(estimates)
    if contrast:
        labels, estimates, J, names, counts = _contrasts(labels, estimates, J, counts, keys, over, reference, estimand)
    V = joint_covariance([p.fit for p in parts])
    return Margins(labels, estimates, J, J @ V @ J.T, [p.fit for p in parts], n_obs=counts, estimand=names)


def _contrasts(labels, estimates, J, counts, keys, over, reference, estimand):
    """Each group's estimates minus the reference group's (the first level unless named)."""
    groups = list(dict.fromkeys(k[0] for k in keys))
    base = groups[0] if reference is None else next((g for g in groups if str(g) == str(reference)), None)
    if base is None:
        raise InputError(f"margins: contrast reference '{reference}' is not a group of {over} {groups}.")
    where = {k: i for i, k in enumerate(keys)}
    out_labels, out_rows, out_names, out_counts = [], [], [], []
    for i, (group, scenario, label) in enumerate(keys):
        if group == base:
            continue
        j = where[(base, scenario, label)]
        out_labels.append(label)
        out_rows.append((i, j))
        suffix = f" at({scenario})" if scenario else ""
        out_names.append(f"{estimand}{suffix} contrast({over}={group} - {over}={base})")
        out_counts.append(counts[i] + counts[j])
    i, j = (np.array(x, dtype=int) for x in zip(*out_rows)) if out_rows else (np.empty(0, int),) * 2
    return out_labels, estimates[i] - estimates[j], J[i] - J[j], out_names, out_counts


def average_marginal_effects(
    parts: list[Part], weights: np.ndarray, variables: list[str] | None = None, estimand: str = "ame"
) -> Margins:
    """dydx(*) over the variables of the parts (or `variables`), with delta-method SEs."""
    weights = np.asarray(weights, float)
    w = weights / weights.sum()
    variables = variables or list(dict.fromkeys(v for p in parts for v in p.values))
    labels, estimates, grads = _effects(parts, w, variables, None)
    J = _multiply_out(grads, parts)
    V = joint_covariance([p.fit for p in parts])
    return Margins(
        labels,
        np.array(estimates),
        J,
        J @ V @ J.T,
        [p.fit for p in parts],
        n_obs=len(parts[0].X) if len(w) > 1 else parts[0].fit.n_obs,
        estimand=estimand,
    )


def _base_name(scale: str, predict, elasticity) -> str:
    """The estimand of a margins request before its options: margin, an elasticity, or ame."""
    return ("margin" if predict else elasticity or "ame") + ("_linear" if scale == "linear" else "")


DEFAULT_NAMES = {
    ("response", None): "ame",
    ("linear", None): "ame_linear",
    ("response", "means"): "mem",
    ("linear", "means"): "mem_linear",
}


def margins(
    fit,
    scale: str = "response",
    at=None,
    variables=None,
    estimand=None,
    *,
    over: str | None = None,
    predict=None,
    elasticity: str | None = None,
    contrast: bool = False,
    reference=None,
) -> Margins:
    """Margins of one fitted model over its estimation sample (Stata: margins, dydx(*) and its
    options; see the module docstring). Without options: the average marginal effects."""
    from .estimators import ESTIMATORS

    if not ESTIMATORS[fit.spec.kind].supports.margins:
        raise InputError(
            f"{fit.spec.name}: marginal effects are not available after kind {fit.spec.kind}; "
            f"report coef or odds_ratio instead."
        )
    if at == "means":
        if over or contrast:
            raise InputError("margins: at 'means' (atmeans) is not combined with over or contrasts.")
        part = evaluation_part(fit, fit.data, scale, at)
        if not (predict or elasticity):
            return average_marginal_effects([part], np.ones(1), variables, estimand or DEFAULT_NAMES[(scale, at)])
        base = estimand or _base_name(scale, predict, elasticity) + " atmeans"
        result = compute(
            [part], np.ones(1), None, variables=variables, predict=predict, elasticity=elasticity, estimand=base
        )
        result.n_obs = fit.n_obs
        return result
    if at is None and not (over or predict or elasticity or contrast):
        part = evaluation_part(fit, fit.data, scale)
        return average_marginal_effects([part], fit.weights, variables, estimand or DEFAULT_NAMES[(scale, None)])
    base = estimand or _base_name(scale, predict, elasticity)
    part = evaluation_part(fit, fit.data, scale)
    return compute(
        [part],
        fit.weights,
        fit.data,
        variables=variables,
        at=at,
        over=over,
        predict=predict,
        elasticity=elasticity,
        contrast=contrast,
        reference=reference,
        estimand=base,
    )
