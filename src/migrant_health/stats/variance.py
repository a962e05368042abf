"""Variance of an estimate, as Stata computes it: one module for every estimator.

An estimator hands over its bread (the inverse of the information: -H^-1 after maximum
likelihood, (X'WX)^-1 after least squares) and its per-observation scores (estimating
functions); the variance type and the estimator's family of small-sample conventions decide
the rest:

  vce       maximum likelihood (`ml`)          least squares (`regress`)
  oim       bread (observed information)       s^2 (X'WX)^-1, s^2 = sum w e^2 / (n - k)
  eim       the expected information's inverse (Stata's glm, irls; R's summary.glm)
  robust    n/(n-1) bread M bread              n/(n-k) bread M bread (HC1)
  cluster   G/(G-1) bread M_G bread            G/(G-1) (n-1)/(n-k) bread M_G bread
  survey    bread M_S bread, M_S Taylor-linearised over the design (stats/survey.py)

with M = sum_i s_i s_i' and M_G the same over the scores summed within clusters.
Inference: normal after maximum likelihood; Student t after least squares, with n - k
degrees of freedom, or G - 1 with clustered variance (Stata's `regress`, [R] regress); t with
the design degrees of freedom (PSUs minus strata) after any survey estimate ([SVY] svy).

Adding a variance type is a branch in `sandwich` and one entry in model_spec.py's VCE_TYPES
(pure data, which config validation reads before any job starts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from ..errors import InputError
from ..model_spec import VCE_TYPES
from .survey import DesignRows, linearised_variance

CONVENTIONS = ("ml", "regress")


@dataclass(frozen=True)
class Variance:
    """A covariance matrix and how to draw inference from it."""

    cov: np.ndarray
    vce: str
    df: float | None = None  # None: normal inference; else Student t with df
    n_clusters: int | None = None
    scores: np.ndarray | None = None  # survey: the estimating functions, one row per observation
    bread: np.ndarray | None = None  # survey: the inverse information they are multiplied by
    design_rows: DesignRows | None = None  # survey: the rows' strata and PSUs
    notes: list = field(default_factory=list)

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def influence(self) -> np.ndarray:
        """Each observation's influence on the estimate, scores x bread (survey)."""
        return self.scores @ self.bread


def cluster_index(clusters) -> tuple[np.ndarray, int]:
    """Each observation's cluster as 0..G-1, and G."""
    codes = pd.factorize(pd.Series(np.asarray(clusters)), sort=True)[0]
    return codes, int(codes.max()) + 1


def _summed_within(scores: np.ndarray, clusters) -> tuple[np.ndarray, int]:
    codes, g = cluster_index(clusters)
    summed = np.zeros((g, scores.shape[1]))
    np.add.at(summed, codes, scores)
    return summed, g


def sandwich(
    bread: np.ndarray,
    scores: np.ndarray,
    vce: str,
    convention: str = "ml",
    clusters=None,
    residual_variance: float | None = None,
    where: str = "model",
    expected_bread: np.ndarray | None = None,
    design_rows: DesignRows | None = None,
) -> Variance:
    """The covariance of the estimate (see the module docstring for the conventions).

    `residual_variance` is s^2 of a least-squares fit (its model-based variance is s^2 bread);
    `expected_bread` the inverse of the expected information (vce eim); `design_rows` the
    estimation rows within a survey's design (vce survey).
    """
    if vce not in VCE_TYPES:
        raise InputError(f"{where}: vce '{vce}' is not one of {', '.join(VCE_TYPES)}.")
    if convention not in CONVENTIONS:
        raise ValueError(f"convention '{convention}' is not one of {', '.join(CONVENTIONS)}")
    n, k = scores.shape
    least_squares = convention == "regress"
    df = float(n - k) if least_squares else None
    if vce == "oim":
        return Variance(bread * residual_variance if least_squares else bread, vce, df)
    if vce == "eim":
        if expected_bread is None:
            raise InputError(f"{where}: vce eim is not available for this estimator.")
        return Variance(expected_bread, vce, df)
    if vce == "robust":
        factor = n / (n - k) if least_squares else n / (n - 1)
        return Variance(factor * bread @ (scores.T @ scores) @ bread, vce, df)
    if vce == "survey":
        if design_rows is None:
            raise InputError(f"{where}: vce survey needs `survey:` (strata, psu, weights, fpc of the design).")
        # Linearised on the scores, then sandwiched: the same as on the influence rows scores x bread.
        meat, notes = linearised_variance(scores, design_rows)
        return Variance(
            bread @ meat @ bread,
            vce,
            design_rows.df,
            scores=scores,
            bread=bread,
            design_rows=design_rows,
            notes=[f"{where}: {note}" for note in notes],
        )
    if clusters is None:
        raise InputError(f"{where}: vce cluster needs `cluster:` (the variable identifying clusters).")
    summed, g = _summed_within(scores, clusters)
    if g < 2:
        raise InputError(f"{where}: vce cluster needs at least 2 clusters; the sample has {g}.")
    factor = g / (g - 1) * ((n - 1) / (n - k) if least_squares else 1.0)
    return Variance(factor * bread @ (summed.T @ summed) @ bread, vce, float(g - 1) if least_squares else None, g)


def joint_covariance(fits: list) -> np.ndarray:
    """The covariance of several fits' stacked parameters. Separately estimated parts are
    independent (block-diagonal), except under a survey design, where their estimating
    functions share PSUs: their influence rows are stacked on the rows they share and
    linearised together (as Stata's suest after svy)."""
    variances = [getattr(f, "variance", None) for f in fits]
    if len(fits) == 1:
        return fits[0].cov
    if not all(v is not None and v.design_rows is not None for v in variances):
        return block_diag(*[f.cov for f in fits])
    rows = [v.design_rows for v in variances]
    index = pd.Index(rows[0].index)
    for r in rows[1:]:
        index = index.union(pd.Index(r.index), sort=False)
    strata = np.zeros(len(index), dtype=int)
    psu = np.empty(len(index), dtype=object)
    blocks = []
    for v, r in zip(variances, rows):
        at = index.get_indexer(r.index)
        stacked = np.zeros((len(index), v.influence.shape[1]))
        stacked[at] = v.influence
        blocks.append(stacked)
        strata[at], psu[at] = r.strata, r.psu
    joint = DesignRows(rows[0].design, strata, psu, np.asarray(index))
    return linearised_variance(np.hstack(blocks), joint)[0]
