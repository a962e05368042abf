"""Nonparametric bootstrap: resampling, one random stream per replicate, percentile and BCa intervals.

Stata's `bootstrap, reps(#) seed(#) cluster() strata() bca` and R's boot / boot.ci, with two
choices that let replicates run anywhere:

* Replicate r draws its resample from its own stream, `numpy.random.SeedSequence(seed).spawn(reps)[r]`
  (a subsample j of the same replicate from that sequence's child j), so the replicates are the
  same whatever the chunks they are cut into and wherever they run.
* Rows are drawn with replacement (n of n); with `clusters`, whole clusters (G of G), and with
  `strata` too, G_h clusters within each stratum h (Stata's bootstrap with cluster() and strata()).

Intervals (Efron and Tibshirani 1993, ch. 13-14; Davison and Hinkley 1997, 5.3):
* percentile: the alpha/2 and 1 - alpha/2 quantiles of the replicates;
* BCa: the quantiles at Phi(z0 + (z0 + z_a) / (1 - a (z0 + z_a))), with the bias correction
  z0 = Phi^-1(share of replicates below the estimate) and the acceleration
  a = sum L^3 / (6 (sum L^2)^1.5) from the jackknife's empirical influence values
  L_i = (n - 1)(mean of theta_(.) - theta_(i)) (leaving out one row, or one cluster).
Quantiles are taken as R's boot.ci takes them (`norm.inter`: interpolation between order
statistics on the normal quantile scale), so that the intervals equal boot.ci's on the same
replicates (tests/test_bootstrap.py quotes them).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.stats import norm

# Progress (every tenth of the replicates), for the job's log (steps/__init__.py).
log = logging.getLogger(__name__)


def replicate_seeds(seed: int, reps: int, start: int = 0, stop: int | None = None) -> list[np.random.SeedSequence]:
    """The seed sequences of replicates start..stop-1 of `reps` (numpy's SeedSequence.spawn)."""
    return np.random.SeedSequence(seed).spawn(reps)[start : reps if stop is None else stop]


def replicate_rng(sequence: np.random.SeedSequence, part: int = 0) -> np.random.Generator:
    """The generator of part `part` (a subsample) of one replicate: the sequence's child `part`,
    built from its spawn key so that it does not depend on what was spawned before."""
    child = np.random.SeedSequence(sequence.entropy, spawn_key=(*sequence.spawn_key, part))
    return np.random.default_rng(child)


class Resampler:
    """Positions 0..n-1 of a sample's rows drawn with replacement: rows, clusters, or clusters
    within strata."""

    def __init__(self, n: int, clusters=None, strata=None):
        self.n = n
        self.groups = None
        self.drawn = None  # the last cluster draw's identifiers per position (None: rows, or a jackknife)
        if clusters is not None:
            codes = pd.factorize(pd.Series(np.asarray(clusters)), sort=True)[0]
            order = np.argsort(codes, kind="stable")
            bounds = np.flatnonzero(np.diff(codes[order])) + 1
            self.groups = np.split(order, bounds)  # each cluster's rows, clusters in sorted order
            if strata is not None:
                first_rows = np.array([g[0] for g in self.groups])
                stratum = pd.factorize(pd.Series(np.asarray(strata)[first_rows]), sort=True)[0]
                self.by_stratum = [np.flatnonzero(stratum == h) for h in range(stratum.max() + 1)]
            else:
                self.by_stratum = [np.arange(len(self.groups))]

    @property
    def units(self) -> int:
        """What the jackknife leaves out one at a time: rows, or clusters."""
        return self.n if self.groups is None else len(self.groups)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """A resample's positions; with clusters, `self.drawn` holds each position's draw (0..G-1), so
        that a cluster drawn twice can be told apart (Stata's idcluster())."""
        if self.groups is None:
            return rng.integers(0, self.n, self.n)
        chosen = np.concatenate([members[rng.integers(0, len(members), len(members))] for members in self.by_stratum])
        self.drawn = np.repeat(np.arange(len(chosen)), [len(self.groups[g]) for g in chosen])
        return np.concatenate([self.groups[g] for g in chosen])

    def leave_out(self, unit: int) -> np.ndarray:
        """The positions without row (or cluster) `unit`."""
        self.drawn = None
        if self.groups is None:
            return np.delete(np.arange(self.n), unit)
        keep = np.ones(self.n, dtype=bool)
        keep[self.groups[unit]] = False
        return np.flatnonzero(keep)


def quantiles(replicates: np.ndarray, alpha) -> np.ndarray:
    """R boot's `norm.inter`: the alpha quantiles of the finite replicates, interpolated between
    order statistics k and k+1 ((R+1) alpha between them) on the normal quantile scale; the
    extreme order statistic when (R+1) alpha is outside 1..R."""
    t = np.sort(np.asarray(replicates, float)[np.isfinite(replicates)])
    alpha = np.atleast_1d(np.asarray(alpha, float))
    R = len(t)
    out = np.full(len(alpha), np.nan)
    if R == 0:
        return out
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    for i in range(len(alpha)):
        if not np.isfinite(alpha[i]):
            continue
        if k[i] <= 0:
            out[i] = t[0]
        elif k[i] >= R:
            out[i] = t[-1]
        elif k[i] == rk[i]:
            out[i] = t[k[i] - 1]
        else:
            low, high = norm.ppf(k[i] / (R + 1)), norm.ppf((k[i] + 1) / (R + 1))
            tk, tk1 = t[k[i] - 1], t[k[i]]
            out[i] = tk + (norm.ppf(alpha[i]) - low) / (high - low) * (tk1 - tk)
    return out


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    alpha = (1 - level) / 2
    low, high = quantiles(replicates, [alpha, 1 - alpha])
    return float(low), float(high)


def jackknife_influence(jackknife: np.ndarray) -> np.ndarray:
    """L_i = (n - 1)(mean of theta_(.) - theta_(i)) from the leave-one-out estimates theta_(i) (Efron and
    Tibshirani 14.15, Stata's bca). R's empinf(type = "jack") centres at the estimate instead,
    (n - 1)(theta - theta_(i)); boot.ci takes either as `L`."""
    theta = np.asarray(jackknife, float)
    return (len(theta) - 1) * (theta.mean() - theta)


def acceleration(influence: np.ndarray) -> float:
    """a = sum L^3 / (6 (sum L^2)^1.5) of empirical influence values L."""
    influence = np.asarray(influence, float)
    denominator = 6 * np.sum(influence**2) ** 1.5
    return float(np.sum(influence**3) / denominator) if denominator > 0 else 0.0


def bias_correction(replicates: np.ndarray, estimate: float) -> float:
    """z0 = Phi^-1(share of the finite replicates below the estimate) (boot.ci; Efron and Tibshirani 14.14)."""
    t = np.asarray(replicates, float)
    t = t[np.isfinite(t)]
    return float(norm.ppf(np.mean(t < estimate))) if len(t) else np.nan


def bca_interval(
    replicates: np.ndarray, estimate: float, influence: np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """The BCa interval from the replicates and the empirical influence values (jackknife_influence);
    NaN when every replicate lies on one side of the estimate (z0 infinite)."""
    z0, a = bias_correction(replicates, estimate), acceleration(influence)
    if not np.isfinite(z0):
        return np.nan, np.nan
    z = norm.ppf([(1 - level) / 2, (1 + level) / 2])
    adjusted = norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
    low, high = quantiles(replicates, adjusted)
    return float(low), float(high)


def bootstrap(
    estimate, data: pd.DataFrame, reps: int, seed: int, cluster: str | None = None, strata: str | None = None
) -> np.ndarray:
    """(reps x k) replicates of `estimate(sample) -> k numbers`, serially (a check on delta-method
    standard errors); replicate r from its own stream, as the workflow's chunk jobs draw it.
    Replicates that fail are NaN rows."""
    resampler = Resampler(
        len(data),
        data[cluster].to_numpy() if cluster else None,
        data[strata].to_numpy() if strata and cluster else None,
    )
    out = []
    for rep, sequence in enumerate(replicate_seeds(seed, reps)):
        if reps >= 10 and rep and rep % (reps // 10) == 0:
            log.info("bootstrap: %d of %d replicates", rep, reps)
        rows = resampler.draw(replicate_rng(sequence))
        try:
            out.append(np.asarray(estimate(data.iloc[rows].reset_index(drop=True)), float))
        except (np.linalg.LinAlgError, ValueError):
            out.append(None)
    width = len(next(r for r in out if r is not None))
    return np.array([r if r is not None else np.full(width, np.nan) for r in out])


def bootstrap_se(replicates: np.ndarray) -> np.ndarray:
    return np.nanstd(replicates, axis=0, ddof=1)
