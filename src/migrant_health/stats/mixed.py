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
  the same deviance, to a tighter tolerance. Their metric is twice lme4's RX'RX for b, and
  for s the curvature of the *exact* approximation (`_ExactApproximation`, analytic
  gradient): within a few per cent of the deviance's Hessian.
* Columns of X are scaled to unit SD while fitting and differencing (glmer differences the
  raw coefficients and warns when columns differ in scale, as age and age^2 do); estimates
  and covariance are mapped back.

Speed: a fit makes about 1,000 evaluations of the deviance (723 of them deriv12's), each a
few passes over the rows, so the rows are sorted by group (sums by group over consecutive
rows), row-length buffers are reused (fresh ones cost page faults), the first PIRLS
iteration from lp0 is computed once, a difference stencil's X b adds two columns to a kept
one, and products over all rows are made in blocks that keep BLAS on one thread (the study's
two fits run in parallel on two cores). bench/bench_mixed.py times it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import logit, logsumexp

from ..errors import InputError
from ..model_spec import ModelSpec
from .design import Design
from .inference import TIDY_COLUMNS, wald, wald_rows
from .models import check_identified, coefficient_labels, logit_newton, require_observed

LOGISTIC_VARIANCE = np.pi**2 / 3
PIRLS_TOLERANCE = 1e-7  # glmerControl()$tolPwrss
PIRLS_MAX_ITERATIONS = 100  # glmer's maxit
PIRLS_STEP_HALVINGS = 10  # pwrssUpdate's maxstephalfit
DERIV12_STEP = 1e-4  # lme4's deriv12 delta
ETA_LIMIT = 30.0  # R's binomial logit link saturates beyond |eta| = 30
LARGEST_SD = 20.0  # upper end of the first-stage search over s (logit scale)
ROW_BLOCK = 1024  # rows per BLAS call in products over rows (see _sum_over_rows)
CHUNK_ROWS = 8192  # rows of the chunks in which X'WX is made (see weighted_products)
SMALLEST_EXACT_SD = 1e-4  # the exact approximation's gradient over s is taken at s >= this
# Progress of a fit (each Newton step's deviance), for the job's log (steps/__init__.py).
log = logging.getLogger(__name__)


class PirlsFailure(ArithmeticError):
    """PIRLS did not converge (glmer stops with the same error)."""


@dataclass
class MixedLogitFit:
    names: list
    params: np.ndarray  # fixed effects b
    sigma: float  # SD of the random intercept (lme4's theta)
    cov: np.ndarray  # covariance of b
    loglik: float  # -deviance / 2, as glmer's logLik
    n_obs: int
    n_groups: int
    nagq: int
    converged: bool
    sigma_se: float = np.nan  # from the same Hessian (nan where glmer falls back to RX)
    loglik_logit: float = np.nan  # the single-level logit with the same fixed effects
    labels: list = field(default_factory=list)  # (term, level, reference) per fixed effect
    notes: list = field(default_factory=list)
    spec: ModelSpec | None = None
    group: str = "group"
    iterations: int | None = None  # Newton steps on glmer's deviance

    @property
    def variance(self) -> float:
        return self.sigma**2

    # The estimator protocol (stats/estimators.py): normal inference, the fit's notes.
    df_resid = None

    @property
    def messages(self) -> list:
        return self.notes

    def tidy(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        """One row per fixed effect (estimand 'coef')."""
        return wald_rows(
            self.labels,
            self.params,
            np.sqrt(np.diag(self.cov)),
            estimand="coef",
            fit=self,
            study=study,
            sample=sample,
            equation=equation or self.spec.outcome,
        )

    def group_statistics(self, study: str = "", sample: str = "", equation: str = "") -> pd.DataFrame:
        """The group variance (SE by the delta method, CI from Wald limits of its log, as Stata's
        melogit), the latent-scale intraclass correlation, and the likelihood-ratio test against
        the single-level logit, in the tidy columns."""
        with np.errstate(divide="ignore", invalid="ignore"):  # a variance of 0 has no log-scale interval
            _, _, log_low, log_high = wald(np.log(self.variance), self.variance_se / self.variance)
        lr_statistic, lr_p = self.lr_test
        rows = pd.DataFrame(
            [
                {
                    "term": f"var(_cons[{self.group}])",
                    "level": "",
                    "reference": "",
                    "estimand": "variance",
                    "estimate": self.variance,
                    "std_error": self.variance_se,
                    "conf_low": np.exp(log_low),
                    "conf_high": np.exp(log_high),
                },
                {"term": "icc", "level": "", "reference": "", "estimand": "icc", "estimate": self.icc},
                {
                    "term": "lr_test",
                    "level": "",
                    "reference": "",
                    "estimand": "lr_test",
                    "estimate": lr_statistic,
                    "statistic": lr_statistic,
                    "p_value": lr_p,
                },
            ]
        )
        rows = rows.assign(
            study=study,
            model=self.spec.name,
            sample=sample,
            equation=equation or self.spec.outcome,
            n_obs=self.n_obs,
            converged=self.converged,
            estimable=True,
        )
        return rows.reindex(columns=TIDY_COLUMNS)

    @property
    def variance_se(self) -> float:
        return 2 * self.sigma * self.sigma_se  # delta method

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


class _GroupedRows:
    """Rows (X, y), y 0 or 1, sorted by group and, within a group, outcome 0 before 1. A sum by
    group is then a sum of consecutive rows (np.add.reduceat, some 20 times faster than
    bincount with weights), a group's value reaches its rows by np.repeat, and so does a value
    that differs by outcome only (the sign that turns eta into t below). X is kept transposed,
    one contiguous row of memory per column: X b, X'v and single columns read memory in order.
    A fit sorts its rows once: the deviance and the exact approximation share them (`on`)."""

    def __init__(self, X, y, groups):
        _, g = np.unique(np.asarray(groups), return_inverse=True)
        X, y = np.asarray(X, float), np.asarray(y, float)
        order = np.lexsort((y, g))
        self.XT = np.empty((X.shape[1], len(y)))
        for j, column in enumerate(X.T):  # column by column: no rows-by-columns temporary
            np.take(column, order, out=self.XT[j])
        self.y = y[order]
        self.flip = 1 - 2 * self.y  # t = flip eta: the linear predictor of the outcome not observed
        self.counts = np.bincount(g)
        self.G = len(self.counts)
        self._starts = np.cumsum(self.counts) - self.counts
        self._outcome_counts = np.bincount(2 * g + (y == 1), minlength=2 * self.G)  # groups x (y = 0, 1)
        self._outcome_starts = np.cumsum(self._outcome_counts) - self._outcome_counts
        self._outcome_present = self._outcome_counts > 0
        self._chunks = self._chunks_of_groups(CHUNK_ROWS)
        self._weighted_X = np.empty((len(self.XT), max(rows.stop - rows.start for rows, _, _ in self._chunks)))

    @classmethod
    def on(cls, rows: _GroupedRows, *args):
        """An instance of a subclass on the rows of `rows` (sorted already; arrays shared, not
        copied), *args as its __init__ takes them after (X, y, groups)."""
        self = cls.__new__(cls)
        vars(self).update(vars(rows))
        self._prepare(*args)
        return self

    def scale_columns(self):
        """Divides each column of X by its SD (by 1 if it is constant); returns the divisors."""
        scale = np.array([column.std() for column in self.XT])
        scale[scale == 0] = 1.0
        self.XT /= scale[:, None]
        return scale

    def group_sum(self, values):
        """Sums by group over the last axis (rows)."""
        return np.add.reduceat(values, self._starts, axis=-1)

    def flipped_group_sum(self, values):
        """Sums by group of flip * values: the rows with y = 0 less those with y = 1."""
        present = self._outcome_present  # reduceat cannot sum an empty run of rows
        sums = np.zeros(values.shape[:-1] + (2 * self.G,))
        sums[..., present] = np.add.reduceat(values, self._outcome_starts[present], axis=-1)
        return sums[..., 0::2] - sums[..., 1::2]

    def by_row(self, per_group):
        """Each row's value of its group, over the last axis."""
        return np.repeat(per_group, self.counts, axis=-1)

    def by_outcome_row(self, if_0, if_1):
        """Each row's value of its group and outcome, over the last axis."""
        both = np.stack([if_0, if_1], axis=-1).reshape(if_0.shape[:-1] + (-1,))
        return np.repeat(both, self._outcome_counts, axis=-1)

    def _chunks_of_groups(self, size):
        """(rows, groups, starts of the groups within the rows) of consecutive whole groups,
        about `size` rows each."""
        ends = np.searchsorted(np.cumsum(self.counts), np.arange(size, len(self.y) + size, size), side="left") + 1
        edges = np.unique(np.concatenate([[0], np.minimum(ends, self.G)]))
        return [
            (
                slice(self._starts[a], self._starts[b - 1] + self.counts[b - 1]),
                slice(a, b),
                self._starts[a:b] - self._starts[a],
            )
            for a, b in zip(edges[:-1], edges[1:])
        ]

    def weighted_products(self, weights, working=None, gram=True):
        """X'WX (if gram), Z'WX (columns by groups) and X'working (if given). Made over chunks of
        whole groups, small enough to stay in cache while they are weighted, summed by group and
        crossed: X is read from memory once."""
        p = len(self.XT)
        XWX, ZWX = np.zeros((p, p)) if gram else None, np.empty((p, self.G))
        Xr = None if working is None else np.zeros(p)
        for rows, groups, starts in self._chunks:
            X = self.XT[:, rows]
            WX = np.multiply(X, weights[rows], out=self._weighted_X[:, : X.shape[1]])
            ZWX[:, groups] = np.add.reduceat(WX, starts, axis=1)
            if gram:
                XWX += _sum_over_rows(WX, X)
            if Xr is not None:
                Xr += _sum_over_rows(X, working[None, rows])[:, 0]
        return XWX, ZWX, Xr

    def X_times(self, b):
        """X b."""
        whole = len(self.y) - len(self.y) % ROW_BLOCK
        return np.concatenate([np.matmul(b, _row_blocks(self.XT, whole)).ravel(), b @ self.XT[:, whole:]])

    def X_transpose_times(self, v):
        """X'v, v by row."""
        return _sum_over_rows(self.XT, v[None, :])[:, 0]


# Products over all the rows are made in blocks of ROW_BLOCK rows, one small BLAS call each
# (np.matmul loops over them): a single call over all rows has OpenBLAS start threads, which
# compete with the study's other fit on a 2-core machine and, on a loaded one, were 3 to 10
# times slower than one thread.


def _row_blocks(M, whole):
    """The first `whole` rows (last axis) of M as blocks x columns x ROW_BLOCK rows (a view)."""
    return M[:, :whole].reshape(len(M), -1, ROW_BLOCK).transpose(1, 0, 2)


def _sum_over_rows(A, B):
    """A B' for arrays of columns by rows."""
    whole = A.shape[1] - A.shape[1] % ROW_BLOCK
    return (
        np.matmul(_row_blocks(A, whole), _row_blocks(B, whole).transpose(0, 2, 1)).sum(axis=0)
        + A[:, whole:] @ B[:, whole:].T
    )


def _sum_of_logs(values):
    """sum(log(values)) for values in [1, 1 + e^30]: the logs of products of 16 values at a time,
    as log is the costliest pass over the rows, and 16 such values cannot overflow."""
    whole = len(values) - len(values) % 16
    return np.log(values[:whole].reshape(16, -1).prod(axis=0)).sum() + np.log(values[whole:]).sum()


class _BernoulliRows:
    """Each row's Bernoulli terms at a linear predictor, from one exponential. In terms of
    t = (1 - 2y) eta, the linear predictor of the outcome not observed (clipped at +-30, as
    R's binomial link saturates), and e = exp(t):
        deviance (-2 log-likelihood)   2 log(1 + e)
        residual y - mu                (2y - 1) e / (1 + e)
        IRLS weight mu (1 - mu)        e / (1 + e)^2
    PIRLS's last iterate needs the deviance alone, so residuals and weights (and their sums by
    group) are computed when first asked for.

    The arrays are allocated once and overwritten by `at`: a fresh rows-long temporary costs
    page faults that take longer than the arithmetic on it. Whatever outlives the next `at`
    must be copied."""

    def __init__(self, rows: _GroupedRows, nodes: int = 0):
        shape = (nodes, len(rows.y)) if nodes else rows.y.shape  # nodes by rows for quadrature
        self._rows = rows
        self._e, self._one_plus_e, self._other, self._weights, self._residuals = (np.empty(shape) for _ in range(5))
        self.t_fixed, self.per_group, self.deviance = None, None, np.nan
        self._largest_t = np.inf  # a bound on |t|, inf if clipped
        self._moments = None

    def at(self, t_fixed, per_group, previous: _BernoulliRows = None) -> _BernoulliRows:
        """The terms at t = t_fixed + (1 - 2y) per_group by row (per_group by group, or nodes by
        group; t_fixed = (1 - 2y) X b, say). From `previous`, terms at the same t_fixed: e is
        then its e times exp((1 - 2y) change of per_group), one exponential per group instead
        of one per row, unless t could reach the clip."""
        rows = self._rows
        change = None if previous is None else per_group - previous.per_group
        largest_t = np.inf if change is None else previous._largest_t + np.abs(change).max()
        if largest_t <= ETA_LIMIT:
            factors = np.exp(change)
            np.multiply(previous._e, rows.by_outcome_row(factors, 1 / factors), out=self._e)
            self._largest_t = largest_t
        else:
            t = np.add(t_fixed, rows.by_outcome_row(per_group, -per_group), out=self._e)
            lowest, highest = t.min(), t.max()
            self._largest_t = max(-lowest, highest)
            if self._largest_t > ETA_LIMIT:
                np.clip(t, -ETA_LIMIT, ETA_LIMIT, out=t)
                self._largest_t = np.inf
            np.exp(t, out=self._e)
        self.t_fixed, self.per_group = t_fixed, per_group
        np.add(self._e, 1, out=self._one_plus_e)
        self.deviance = 2 * _sum_of_logs(self._one_plus_e.ravel())
        self._moments = None
        return self

    @property
    def eta(self):
        """The linear predictor (a new array)."""
        return self._rows.flip * self.t_fixed + self._rows.by_row(self.per_group)

    def deviance_rows(self):
        return 2 * np.log(self._one_plus_e)

    def _compute_moments(self):
        if self._moments is None:
            other = np.divide(self._e, self._one_plus_e, out=self._other)  # P(the outcome not observed)
            np.divide(other, self._one_plus_e, out=self._weights)
            self._moments = (self._rows.group_sum(self._weights), -self._rows.flipped_group_sum(other))
        return self._moments

    @property
    def weights(self):
        self._compute_moments()
        return self._weights

    @property
    def residuals(self):
        self._compute_moments()
        return np.multiply(self._other, -self._rows.flip, out=self._residuals)

    @property
    def weight_sums(self):
        return self._compute_moments()[0]

    @property
    def residual_sums(self):
        return self._compute_moments()[1]


@dataclass
class _Pirls:
    """The state PIRLS ends in: modes u, fixed effects b (the first stage's; the given ones
    otherwise), the Bernoulli terms at the last iterate, and the weights and diagonal of
    L^2 = s^2 Z'WZ + I of the last decomposition (the iterate before). Its arrays are the
    deviance's buffers: valid until the next PIRLS run."""

    u: np.ndarray
    b: np.ndarray
    terms: _BernoulliRows
    weights: np.ndarray
    L2: np.ndarray


@dataclass
class _JointStart:
    """Where a joint PIRLS starts: the Bernoulli terms at its linear predictor, and the
    weighted products of its first iteration (X'WX, Z'WX, X'Wz, Z'Wz, z the working
    response), which do not depend on s. All of the first stage's PIRLS start at the same
    predictor, so these are made once."""

    terms: _BernoulliRows
    products: tuple


@dataclass
class _Lp0Start:
    """Every second-stage PIRLS starts at lp0: the Bernoulli terms there and, because
    Z'(w0 (lp0 - X b) + y - mu0) = Z'(w0 lp0 + y - mu0) - b Z'W0X is linear in b, the sums
    of its first iteration, are the same at every evaluation."""

    terms: _BernoulliRows
    working_sums: np.ndarray  # Z'(w0 lp0 + y - mu0), by group
    weighted_X_sums: np.ndarray  # Z'W0X, columns by groups


class _GlmerDeviance(_GroupedRows):
    """glmer's objective functions for one data set (see the module docstring)."""

    def __init__(self, X, y, groups, nagq: int):
        super().__init__(X, y, groups)
        self._prepare(nagq)

    def _prepare(self, nagq):
        nodes, weights = np.polynomial.hermite.hermgauss(nagq)
        self.nagq = nagq
        self.z, self.log_w = np.sqrt(2) * nodes, np.log(weights / np.sqrt(np.pi))  # standard-normal rule
        self.lp0 = None
        self._start = None
        # PIRLS alternates between two sets of row buffers: the iterate whose weights drive the
        # update, and the next one.
        self._iterates = (_BernoulliRows(self), _BernoulliRows(self))
        self._at_node = _BernoulliRows(self)  # adaptive Gauss-Hermite's nodes
        self._offset = np.empty_like(self.y)
        self._known = None  # (b, (1 - 2y) X b) of the last b multiplied out in full
        self._column_multiples = {}  # (column, step): step (1 - 2y) times the column, steps from _known

    def _fixed_predictor(self, b):
        """(1 - 2y) X b, the fixed part of t. Central differences and deriv12 evaluate points
        that move one or two coefficients from a point evaluated before: theirs adds multiples
        of those columns to that point's, kept for reuse (deriv12 moves each coefficient by the
        same two steps 34 times): two passes over the rows instead of one over X."""
        if self._known is not None:
            known_b, known = self._known
            moved = np.flatnonzero(b != known_b)
            if len(moved) == 0:
                return known
            if len(moved) <= 2:
                multiples = [self._column_multiple(j, b[j] - known_b[j]) for j in moved]
                fixed = np.add(known, multiples[0], out=self._offset)
                for multiple in multiples[1:]:
                    fixed += multiple
                return fixed
        self._known = (np.array(b, float), self.flip * self.X_times(b))
        self._column_multiples.clear()
        return self._known[1]

    def _column_multiple(self, j, step):
        key = (j, step)
        if key not in self._column_multiples:
            self._column_multiples[key] = step * self.XT[j] * self.flip
        return self._column_multiples[key]

    @staticmethod
    def _profiled_information(s, XWX, ZWX, L2):
        """X'WX - s^2 X'WZ diag(1/L2) Z'WX: the information of b with u profiled out
        (lme4's RX'RX)."""
        return XWX - s**2 * (ZWX / L2) @ ZWX.T

    def _fixed_effect_information(self, s, weights, L2):
        """lme4's RX'RX at the weights."""
        XWX, ZWX, _ = self.weighted_products(weights)
        return self._profiled_information(s, XWX, ZWX, L2)

    def _pirls(self, s, terms, b, update, predict) -> _Pirls:
        """lme4's pwrssUpdate from `terms`, the Bernoulli terms at the starting linear
        predictor. Each iteration moves to (u, b) = update(iteration, terms, u, b, L2), with
        its terms from predict(buffer, iteration, terms, u, b) (into one of two alternating
        buffers), until the penalised deviance changes by less than PIRLS_TOLERANCE
        (relative); steps that increase it are halved."""
        old = np.finfo(float).max
        u = np.zeros(self.G)
        for iteration in range(PIRLS_MAX_ITERATIONS):
            weights, L2 = terms.weights, s**2 * terms.weight_sums + 1
            u_old, b_old = u, b
            u, b = update(iteration, terms, u, b, L2)
            following = predict(self._iterates[iteration % 2], iteration, terms, u, b)
            penalised = following.deviance + u @ u
            if abs((old - penalised) / penalised) < PIRLS_TOLERANCE:
                return _Pirls(u, b, following, weights, L2)
            for _ in range(PIRLS_STEP_HALVINGS):
                if not (np.isnan(penalised) or penalised > old):
                    break
                u, b = (u_old + u) / 2, (b_old + b) / 2
                penalised = predict(following, iteration, terms, u, b).deviance + u @ u
            if np.isnan(penalised) or penalised - old > PIRLS_TOLERANCE:
                raise PirlsFailure("PIRLS step-halvings failed to reduce the penalised deviance")
            old, terms = penalised, following
        raise PirlsFailure(f"PIRLS did not converge in {PIRLS_MAX_ITERATIONS} iterations")

    def _joint_products(self, terms: _BernoulliRows):
        """X'WX, Z'WX, X'Wz and Z'Wz at the terms' weights, z the working response."""
        working = terms.weights * terms.eta + terms.residuals  # W z
        XWX, ZWX, Xr = self.weighted_products(terms.weights, working)
        return XWX, ZWX, Xr, self.group_sum(working)

    def joint_start(self, eta) -> _JointStart:
        terms = _BernoulliRows(self).at(self.flip * eta, np.zeros(self.G))
        return _JointStart(terms, self._joint_products(terms))

    def joint_pirls(self, s, start: _JointStart) -> _Pirls:
        """PIRLS over u and b together (the first stage)."""

        def update(iteration, terms, u, b, L2):
            XWX, ZWX, Xr, Zr = start.products if iteration == 0 else self._joint_products(terms)
            b = np.linalg.solve(self._profiled_information(s, XWX, ZWX, L2), Xr - s**2 * ZWX @ (Zr / L2))
            return s * (Zr - b @ ZWX) / L2, b

        def predict(following, iteration, terms, u, b):
            return following.at(self.flip * self.X_times(b), s * u)

        return self._pirls(s, start.terms, np.zeros(len(self.XT)), update, predict)

    def state(self, par) -> _Pirls:
        """PIRLS over u alone at par = (s, b), from lp0 (the second stage)."""
        s, b = par[0], par[1:]
        offset, start = self._fixed_predictor(b), self._start  # offset: (1 - 2y) X b

        def update(iteration, terms, u, b, L2):
            # Z'W times the working response less X b: from lp0 at the first iteration; after
            # it eta - X b = s u by row, so Z'W(eta - X b) = s u Z'w.
            sums = (
                start.working_sums - b @ start.weighted_X_sums
                if iteration == 0
                else s * u * terms.weight_sums + terms.residual_sums
            )
            return s * sums / L2, b

        def predict(following, iteration, terms, u, b):
            # After the first iteration the iterates share X b: e follows from the last one's.
            return following.at(offset, s * u, terms if iteration > 0 else None)

        return self._pirls(s, start.terms, b, update, predict)

    @staticmethod
    def _laplace(state: _Pirls):
        return np.log(state.L2).sum() + state.u @ state.u + state.terms.deviance

    def first_stage(self):
        """glmer's nAGQ = 0 fit: s minimising the Laplace deviance with b and u from joint
        PIRLS. PIRLS starts where glmer's does: mu = (y + 1/2) / 2, s = 1. Keeps lp0 and
        returns (s, b)."""
        at_s_1 = self.joint_pirls(1.0, self.joint_start(logit((self.y + 0.5) / 2)))
        start = self.joint_start(at_s_1.terms.eta)

        def deviance(s):
            return self._laplace(self.joint_pirls(s, start))

        s = optimize.minimize_scalar(deviance, bounds=(0.0, LARGEST_SD), method="bounded", options={"xatol": 1e-9}).x
        state = self.joint_pirls(s, start)
        self.lp0 = state.terms.eta
        terms = _BernoulliRows(self).at(self.flip * self.lp0, np.zeros(self.G))
        self._start = _Lp0Start(
            terms,
            self.group_sum(terms.weights * self.lp0 + terms.residuals),
            self.weighted_products(terms.weights, gram=False)[1],
        )
        return s, state.b

    def __call__(self, par) -> float:
        """The second-stage deviance at par = (s, b): glmerLaplace or glmerAGQ."""
        try:
            state = self.state(par)
        except PirlsFailure:
            return np.inf  # the optimiser backs off, as from any bad point
        if self.nagq == 1:
            return self._laplace(state)
        s, offset = par[0], self._fixed_predictor(par[1:])
        at_mode = state.u**2 + self.group_sum(state.terms.deviance_rows())
        scale = 1 / np.sqrt(state.L2)

        def at_node(u):
            return u**2 + self.group_sum(self._at_node.at(offset, s * u).deviance_rows())

        terms = [
            self.log_w[k] + z_k**2 / 2 - (at_node(state.u + z_k * scale) - at_mode) / 2 for k, z_k in enumerate(self.z)
        ]
        return at_mode.sum() + np.log(state.L2).sum() - 2 * logsumexp(np.array(terms), axis=0).sum()

    def rx_covariance(self, par):
        """glmer's fallback covariance of b: the inverse of RX'RX at par."""
        state = self.state(par)
        return np.linalg.inv(self._fixed_effect_information(par[0], state.weights, state.L2))


class _ExactApproximation(_GroupedRows):
    """The Laplace or adaptive Gauss-Hermite log-likelihood at the *exact* conditional modes,
    with its analytic gradient over (b, log s) (implicit differentiation through each
    group's mode and curvature). Its curvature along s gives the row of s in the metric of
    our Newton steps on glmer's deviance. Arrays are nodes by rows (or by groups)."""

    def __init__(self, X, y, groups, nagq: int):
        super().__init__(X, y, groups)
        self._prepare(nagq)

    def _prepare(self, nagq):
        nodes, weights = np.polynomial.hermite.hermgauss(nagq)
        self.t, self.log_w = nodes[:, None], np.log(weights)[:, None]
        self.modes = np.zeros(self.G)
        self._at_mode, self._at_nodes = _BernoulliRows(self), _BernoulliRows(self, nagq)

    def _find_modes(self, t0, s) -> _BernoulliRows:
        """Each group's mode of log f(y | u) + log phi(u), by Newton's method (concave);
        returns the Bernoulli terms there."""
        u = self.modes.copy()
        for _ in range(200):
            terms = self._at_mode.at(t0, s * u)
            d1 = s * terms.residual_sums - u
            d2 = -(s**2) * terms.weight_sums - 1
            # Damped: a full Newton step from far away can overshoot where p saturates.
            step = np.clip(d1 / d2, -1.0, 1.0)
            u -= step
            if np.max(np.abs(step)) < 1e-12:
                break
        self.modes = u
        return self._at_mode.at(t0, s * u)

    def value_and_gradient(self, theta):
        t = self.t
        b, log_s = theta[:-1], theta[-1]
        s = np.exp(log_s)
        t0 = self.flip * self.X_times(b)  # (1 - 2y) X b
        at_mode = self._find_modes(t0, s)
        u, v = self.modes, at_mode.weights
        H = s**2 * at_mode.weight_sums + 1  # -g''(mode)
        c = np.sqrt(2 / H)
        nodes = u + c * t  # K x G abscissae
        at_nodes = self._at_nodes.at(t0, s * nodes)
        g_k = -self.group_sum(at_nodes.deviance_rows()) / 2 - nodes**2 / 2
        terms = self.log_w + t**2 + g_k
        total = logsumexp(terms, axis=0)
        value = np.sum(np.log(c) + total - 0.5 * np.log(2 * np.pi))
        pi = np.exp(terms - total)  # node weights of each group's integral

        # Direct derivatives at fixed abscissae: d g(u_k) / d(b, s).
        resid = at_nodes.residuals
        grad_b = self.X_transpose_times(np.sum(self.by_row(pi) * resid, axis=0))
        grad_s = np.sum(self.by_row(pi * nodes) * resid)
        # Through the abscissae u_k = mode + c t_k: dl/dmode and dl/dH.
        dg_du = s * at_nodes.residual_sums - nodes
        dl_dmode = np.sum(pi * dg_du, axis=0)
        dl_dH = -1 / (2 * H) + np.sum(pi * dg_du * t, axis=0) * (-c / (2 * H))
        # Implicit derivatives of the mode and of H (at the mode, g' = 0).
        w3 = v * (1 - 2 * (self.y - at_mode.residuals))  # d(mu (1 - mu)) / d eta
        w3_sums = self.group_sum(w3)
        d2 = -H
        d3 = -(s**3) * w3_sums
        dgp_db = -s * self.weighted_products(v, gram=False)[1]  # d g'(mode) / db, columns by groups
        dgp_ds = at_mode.residual_sums - s * u * at_mode.weight_sums
        dmode_db = -dgp_db / d2
        dmode_ds = -dgp_ds / d2
        dgpp_db = -(s**2) * self.weighted_products(w3, gram=False)[1]
        dgpp_ds = -2 * s * at_mode.weight_sums - s**2 * u * w3_sums
        dH_db = -(dgpp_db + d3 * dmode_db)
        dH_ds = -(dgpp_ds + d3 * dmode_ds)
        grad_b = grad_b + dmode_db @ dl_dmode + dH_db @ dl_dH
        grad_s = grad_s + dl_dmode @ dmode_ds + dl_dH @ dH_ds
        return value, np.concatenate([grad_b, [grad_s * s]])  # chain rule to log s

    def deviance_gradient(self, par):
        """The gradient of -2 log-likelihood over par = (s, b), as glmer's deviance is
        parametrised."""
        s = max(abs(par[0]), SMALLEST_EXACT_SD)
        _, gradient = self.value_and_gradient(np.concatenate([par[1:], [np.log(s)]]))
        return -2 * np.concatenate([[gradient[-1] / s], gradient[:-1]])


def _central_gradient(f, x, step: float = 1e-5):
    return np.array([(f(x + e) - f(x - e)) / (2 * step) for e in np.eye(len(x)) * step])


def _numerical_hessian(gradient, theta, step: float = 1e-5):
    """Central differences of an analytic gradient, symmetrised."""
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = step * max(1.0, abs(theta[j]))
        H[:, j] = (gradient(theta + e) - gradient(theta - e)) / (2 * e[j])
    return (H + H.T) / 2


def deriv12_hessian(f, x, delta: float = DERIV12_STEP):
    """lme4's deriv12: central second differences, four points for each off-diagonal."""
    k, fx = len(x), f(x)
    H = np.empty((k, k))
    steps = np.eye(k) * delta
    for j in range(k):
        H[j, j] = (f(x + steps[j]) - 2 * fx + f(x - steps[j])) / delta**2
        for i in range(j):
            H[i, j] = H[j, i] = (
                f(x + steps[i] + steps[j])
                - f(x + steps[i] - steps[j])
                - f(x - steps[i] + steps[j])
                + f(x - steps[i] - steps[j])
            ) / (4 * delta**2)
    return H


def _newton_minimise(f, x, metric, tol: float = 1e-8, max_iter: int = 100, resolution: float = 1e-5, trace=None):
    """Newton steps x - metric^-1 grad f (central differences), halved until f does not
    increase. Returns (x, converged): converged once a full step is shorter than tol, or
    once a step shorter than `resolution` does not lower f (the minimum within the deviance's
    rounding: at a fit on the boundary, s ~ 0, the deviance is flat in s to its last digits,
    and halvings would only follow its rounding). `trace`: a list that receives each step's f."""
    fx = f(x)
    for _ in range(max_iter):
        step = np.linalg.solve(metric, _central_gradient(f, x))
        if np.max(np.abs(step)) < tol:
            return x, True
        for halving in range(30):
            trial = x - step / 2**halving
            f_trial = f(trial)
            if f_trial <= fx:
                break
            if np.max(np.abs(step)) < resolution:
                return x, True
        else:
            return x, False
        x, fx = trial, f_trial
        if trace is not None:
            trace.append(fx)
            log.info("Newton step %d: deviance %.6f", len(trace), fx)
    return x, False


def _newton_metric(deviance: _GlmerDeviance, exact: _ExactApproximation, par):
    """The metric of Newton's steps on glmer's deviance over (s, b) at par. For b, twice the
    PIRLS information with u profiled out (lme4's RX'RX: the curvature of the deviance less
    that of its log-determinant); for the row and column of s, central differences along s of
    the exact approximation's analytic gradient. On the inequality study it is within 0.6% of
    the exact approximation's Hessian (the earlier metric, 38 gradient evaluations instead of
    2), and Newton takes the same number of steps."""
    state = deviance.state(par)
    metric = np.empty((len(par), len(par)))
    metric[1:, 1:] = 2 * deviance._fixed_effect_information(par[0], state.weights, state.L2)
    # The exact approximation works on log s (s >= SMALLEST_EXACT_SD): at a fit on the boundary,
    # s ~ 0, differences are taken a little above it (the deviance is even in s, so the
    # curvature there is that at 0).
    at = np.array(par, float)
    at[0] = max(abs(at[0]), 2 * SMALLEST_EXACT_SD)
    step = np.zeros(len(par))
    step[0] = 1e-5 * max(1.0, at[0])
    along_s = (exact.deviance_gradient(at + step) - exact.deviance_gradient(at - step)) / (2 * step[0])
    metric[:, 0] = metric[0, :] = along_s
    return metric


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
    return (
        deviance.rx_covariance(par),
        np.nan,
        [
            "the finite-difference Hessian is not positive definite: standard errors from the PIRLS "
            "information (RX), as glmer falls back"
        ],
    )


def _logit_loglik(X, y, start) -> float:
    """The single-level logit's maximised log-likelihood (nan if it does not converge). Newton
    starts at `start` (the mixed model's first-stage fixed effects: 3 steps fewer than from 0
    on the inequality study), and at 0 if it fails from there."""
    for initial in (start, None):
        try:
            eta = X @ logit_newton(X, y, initial)
        except (ValueError, np.linalg.LinAlgError):
            continue
        return float(np.sum(y * eta - np.logaddexp(0, eta)))
    return np.nan


def fit_random_intercept_logit(X, y, groups, names=None, nagq: int = 1) -> MixedLogitFit:
    """glmer(y ~ 0 + X + (1 | groups), family = binomial, nAGQ = nagq): estimates, glmer's
    covariance of the fixed effects, and -deviance / 2 as its logLik."""
    rows = _GroupedRows(X, y, groups)
    scale = rows.scale_columns()
    deviance = _GlmerDeviance.on(rows, nagq)
    log.info("random-intercept logit: %d rows in %d groups, %d fixed effects", len(rows.y), rows.G, len(scale))
    s, b = deviance.first_stage()
    log.info("first stage (nAGQ = 0): group SD %.6f", abs(s))
    start = np.concatenate([[s], b])
    metric = _newton_metric(deviance, _ExactApproximation.on(rows, nagq), start)
    trace = []
    par, converged = _newton_minimise(deviance, start, metric, trace=trace)
    log.info("standard errors from the finite-difference Hessian (%d deviance evaluations)", 2 * len(par) ** 2 + 1)
    cov, sigma_variance, notes = _glmer_covariance(deviance, par)
    return MixedLogitFit(
        list(names) if names is not None else [f"x{j}" for j in range(len(scale))],
        par[1:] / scale,
        float(abs(par[0])),
        cov / np.outer(scale, scale),
        -deviance(par) / 2,
        len(rows.y),
        rows.G,
        nagq,
        converged,
        sigma_se=float(np.sqrt(sigma_variance)),
        loglik_logit=_logit_loglik(rows.XT.T, rows.y, b),
        notes=notes,
        iterations=len(trace),
    )


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
        loglik_logit=_logit_loglik(Xs, y, b),
    )


APPROXIMATION_FITS = {"glmer": fit_random_intercept_logit, "exact_laplace": fit_exact_laplace}


def fit_mixed_logit(spec: ModelSpec, data: pd.DataFrame) -> MixedLogitFit:
    """A config equation (kind melogit): its covariates as fixed effects, a random intercept
    for each level of `spec.group`, `spec.nagq` quadrature points."""
    require_observed(spec, data)
    group = spec.group
    outcome = data[spec.outcome].astype(float).to_numpy()
    if not np.isin(outcome, (0.0, 1.0)).all():
        raise InputError(
            f"{spec.name}: a melogit outcome must be 0/1, but {spec.outcome} also takes "
            f"{np.unique(outcome[~np.isin(outcome, (0.0, 1.0))])[:3].tolist()}. Derive a binary "
            f"indicator in the codebook or the study's derivations."
        )
    design = Design.from_data(spec.covariates, data, where=spec.name)
    check_identified(design.matrix(data), design.column_names(), spec.name)
    try:
        fitted = APPROXIMATION_FITS[spec.approximation](
            design.matrix(data), outcome, data[group].to_numpy(), design.column_names(), spec.nagq
        )
    except PirlsFailure as failure:
        raise InputError(
            f"{spec.name}: {failure} (as glmer would stop). Look for a covariate level or "
            f"a {group} in which {spec.outcome} is always 0 or always 1."
        ) from None
    fitted.spec, fitted.group = spec, group
    fitted.labels = coefficient_labels(design)
    fitted.notes = list(design.notes) + [f"{spec.name}: {note}" for note in fitted.notes]
    if not fitted.converged:
        fitted.notes.append(f"{spec.name}: the mixed logit did not converge.")
    return fitted
