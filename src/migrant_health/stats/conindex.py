"""Concentration indices as Stata's `conindex` computes them (O'Donnell, O'Neill, Van Ourti
and Walsh, Stata Journal 2016), and their decomposition (Wagstaff, van Doorslaer and
Watanabe 2003).

* Fractional rank: respondents sorted by the ranking variable (income); with weights w,
  r = (weight of everyone poorer + half the weight of the respondent's tie group) / total
  weight, so tied incomes share the midpoint of their interval.
* Standard index: C = 2 cov_w(h, r) / mean_w(h).
* Its standard error from the "convenient regression": 2 var_w(r) h / mu = a + C r + e,
  estimated by weighted least squares (conindex scales every term by sqrt(w) and runs
  `regress ..., noconstant`), with the conventional (vce oim), robust (HC1), cluster-robust or
  survey (Taylor-linearised over the design, t on its degrees of freedom, as `svy: regress`)
  variance of stats/variance.py and t inference, as after `regress`. As in conindex, mu is
  taken as known.
* For an outcome bounded in [a, b] (a binary one: [0, 1]), on h* = (h - a) / (b - a) with mean m:
  Wagstaff (2005) normalisation W = C / (1 - m); Erreygers (2009) correction E = 4 m C;
  the generalised index GC = mu C (on h itself). Each is the slope of the same regression
  with its left-hand side rescaled, which gives its standard error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .variance import sandwich

INDICES = ("standard", "wagstaff", "erreygers", "generalized")


def fractional_rank(x, weights=None) -> np.ndarray:
    """Weighted fractional rank in (0, 1); ties share the midpoint of their interval."""
    x = np.asarray(x, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    values, group = np.unique(x, return_inverse=True)
    group_weight = np.bincount(group, weights=w, minlength=len(values))
    before = np.cumsum(group_weight) - group_weight
    return (before[group] + 0.5 * group_weight[group]) / w.sum()


@dataclass
class IndexResult:
    index: str
    estimate: float
    std_error: float
    df_resid: float
    n_obs: int
    mean: float

    def wald(self, level: float = 0.95) -> tuple[float, float, float, float]:
        """(t statistic, p-value, conf_low, conf_high) on the regression's residual df."""
        t = self.estimate / self.std_error
        q = stats.t.ppf(0.5 + level / 2, self.df_resid)
        return (
            t,
            2 * stats.t.sf(abs(t), self.df_resid),
            self.estimate - q * self.std_error,
            self.estimate + q * self.std_error,
        )


def _scale(index: str, bounded_mean: float) -> float:
    """What the left-hand side 2 var(r) h* is multiplied by, per index."""
    if index == "standard":
        return 1 / bounded_mean
    if index == "wagstaff":
        return 1 / (bounded_mean * (1 - bounded_mean))
    if index == "erreygers":
        return 4.0
    if index == "generalized":
        return 1.0
    raise ValueError(f"index '{index}' is not one of {', '.join(INDICES)}")


def concentration_index(
    h,
    rank_by,
    weights=None,
    index: str = "standard",
    bounds=(0.0, 1.0),
    vce: str = "oim",
    clusters=None,
    design_rows=None,
) -> IndexResult:
    """One index with its standard error (see the module docstring for the formulas).

    `bounds` rescale h to h* for the Wagstaff and Erreygers indices; the standard index is
    computed on h* too, which equals the index of h when the lower bound is 0 (conindex's
    `bounded limits(0 1)`); the generalised index is on h's own scale.
    """
    h = np.asarray(h, dtype=float)
    w = np.ones(len(h)) if weights is None else np.asarray(weights, dtype=float)
    low, high = bounds
    if index in ("wagstaff", "erreygers") and (h.min() < low or h.max() > high):
        raise ValueError(f"{index}: the outcome takes values outside its bounds {bounds}")
    star = (h - low) / (high - low) if index != "generalized" else h
    r = fractional_rank(rank_by, w)
    share = w / w.sum()
    var_r = np.sum(share * (r - 0.5) ** 2)
    mean = float(np.sum(share * h))
    bounded_mean = float(np.sum(share * star))
    if bounded_mean == 0:
        raise ValueError("the outcome's mean is 0: a concentration index is not defined")
    lhs = 2 * var_r * star * _scale(index, bounded_mean)
    slope, se, df = _weighted_slope(lhs, r, w, vce, clusters, design_rows)
    return IndexResult(index, slope, se, df, len(h), mean)


def _weighted_slope(y, x, w, vce: str, clusters, design_rows=None):
    """Slope of y on x (with intercept) by weighted least squares on sqrt(w)-scaled data, and
    its SE and degrees of freedom as Stata's `regress` reports them (stats/variance.py)."""
    s = np.sqrt(w)
    X = np.column_stack([x * s, s])
    Y = y * s
    XtX_inv = np.linalg.inv(X.T @ X)
    beta = XtX_inv @ X.T @ Y
    e = Y - X @ beta
    n, k = X.shape
    variance = sandwich(
        XtX_inv,
        X * e[:, None],
        vce,
        "regress",
        clusters,
        residual_variance=(e @ e) / (n - k),
        where="concentration index",
        design_rows=design_rows,
    )
    return float(beta[0]), float(np.sqrt(variance.cov[0, 0])), float(variance.df)


def compare_groups(first: IndexResult, second: IndexResult) -> dict:
    """conindex's `compare` test for two groups: z = (C2 - C1) / sqrt(se1^2 + se2^2),
    the groups taken as independent samples (large-sample normal p-value)."""
    diff = second.estimate - first.estimate
    se = float(np.hypot(first.std_error, second.std_error))
    z = diff / se
    return {"diff": diff, "std_error": se, "z": z, "p_value": float(2 * stats.norm.sf(abs(z)))}


def concentration_curve(h, rank_by, weights=None, points: int = 101) -> pd.DataFrame:
    """Cumulative share of h against the cumulative population share ranked by income,
    at `points` population shares (ties kept together, linear between them)."""
    h = np.asarray(h, dtype=float)
    w = np.ones(len(h)) if weights is None else np.asarray(weights, dtype=float)
    values, group = np.unique(np.asarray(rank_by, dtype=float), return_inverse=True)
    pop = np.concatenate([[0.0], np.cumsum(np.bincount(group, weights=w))]) / w.sum()
    outcome = np.concatenate([[0.0], np.cumsum(np.bincount(group, weights=w * h))]) / np.sum(w * h)
    grid = np.linspace(0, 1, points)
    return pd.DataFrame({"population_share": grid, "outcome_share": np.interp(grid, pop, outcome)})


def decompose(h, rank_by, determinants: pd.DataFrame, effects: pd.Series, weights=None) -> pd.DataFrame:
    """Wagstaff, van Doorslaer and Watanabe (2003): C = sum_k (b_k mean_k / mu) C_k + residual.

    `determinants` holds one column per regressor x_k (a factor level's indicator, or a
    continuous variable), `effects` the marginal effect b_k of each (same names). Each
    contribution is computed as b_k x 2 cov(x_k, r) / mu, which equals elasticity x C_k
    without dividing by mean_k (a determinant with mean near 0 stays finite).
    """
    h = np.asarray(h, dtype=float)
    w = np.ones(len(h)) if weights is None else np.asarray(weights, dtype=float)
    share = w / w.sum()
    r = fractional_rank(rank_by, w)
    mu = float(np.sum(share * h))
    total = 2 * np.sum(share * (h - mu) * (r - 0.5)) / mu
    rows = []
    for name in effects.index:
        x = determinants[name].to_numpy(dtype=float)
        mean = float(np.sum(share * x))
        cov = float(np.sum(share * (x - mean) * (r - 0.5)))
        contribution = effects[name] * 2 * cov / mu
        rows.append(
            {
                "determinant": name,
                "effect": effects[name],
                "mean": mean,
                "elasticity": effects[name] * mean / mu,
                "concentration_index": 2 * cov / mean if abs(mean) > 1e-12 else np.nan,
                "contribution": contribution,
                "percent": 100 * contribution / total,
            }
        )
    explained = sum(r["contribution"] for r in rows)
    rows.append(
        {"determinant": "residual", "contribution": total - explained, "percent": 100 * (total - explained) / total}
    )
    rows.append(
        {"determinant": "total", "mean": mu, "concentration_index": total, "contribution": total, "percent": 100.0}
    )
    return pd.DataFrame(rows)
