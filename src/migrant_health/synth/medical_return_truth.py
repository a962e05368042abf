"""Seed 000's medical-return equation in the synthetic CMDS, solved from its abstract.

The data-generating process (DGP), on the covariates of the analytic sample (rural hukou,
urban area, at least a year in the city, hospitalised with a known place):

* an inpatient planted for this study returns home for care when x g + e is among the
  k largest values (e standard logistic, k = n x 15.3% of the published rate), so the
  rate is exact and P(return) = Lambda(x g - t), t the realised threshold: a logit;
* the benefit study's inpatients in this sample were treated in the city by that
  study's design: they never return (P = 0).

x holds the paper's model (COVARIATES, which config.yaml's model must equal). The
generator's own assumptions, not published: BACKGROUND's log odds ratios; every other
effect is zero. Solved by calibrate.newton: the intercept
and the NCMS and settlement coefficients, so that the paper's logit fitted to the expected
outcomes -- its probability limit, the truth the pipeline's estimate converges to --
has the published odds ratios (2.44 and 0.66) and the mean outcome is the published rate.
Because of the benefit inpatients' zeros the limit is not g itself; it is what is
documented (results/data/cmds2014_synthetic_truth.csv, kind `limit`).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit

from ..stats.design import Design
from ..stats import ModelSpec, fit
from ..stats.models import logit_newton
from ..stats.odds_ratios import odds_ratios
from .calibrate import newton

MODEL, SAMPLE, OUTCOME = "medical_return", "total", "medical_return"

# The paper's model as this pipeline reads the abstract (see config.yaml's comments).
COVARIATES = [
    {"factor": "medical_insurance", "reference": "local_urban"},
    {"factor": "settle_intention", "reference": False},
    {"factor": "income_quintile", "reference": "Q1"},
    {"factor": "employed", "reference": False},
    "age", "age2",
    {"factor": "female", "reference": False},
    {"factor": "married", "reference": False},
    {"factor": "education", "reference": "primary_or_below"},
    {"factor": "migration_scope", "reference": "within_city"},
    {"factor": "migration_reason", "reference": "job"},
    {"factor": "migration_duration", "reference": "1-"},
]

# Not published: plausible directions, so the model has more than two live terms.
# Farther hometowns are harder to go back to; economic integration keeps migrants in the city.
BACKGROUND = {
    "migration_scope=across_cities": -0.2, "migration_scope=across_provinces": -0.4,
    "income_quintile=Q2": -0.05, "income_quintile=Q3": -0.1, "income_quintile=Q4": -0.2,
    "income_quintile=Q5": -0.3, "employed=True": -0.25, "migration_duration=10+": -0.2,
}
CALIBRATED = ("medical_insurance=NCMS", "settle_intention=True", "_cons")


def published_targets(doc: dict) -> dict:
    """Log odds ratios of NCMS and settlement intention, and the rate, from medical_return.yaml."""
    ors = {(e["term"], str(e["level"])): e["estimate"] for e in doc["estimates"]}
    rate = next(q["value"] for q in doc["sample"] if q["quantity"] == "medical_return_percent") / 100
    return {"medical_insurance=NCMS": np.log(ors[("medical_insurance", "NCMS")]),
            "settle_intention=True": np.log(ors[("settle_intention", "True")]), "rate": rate}


def paper_spec() -> ModelSpec:
    return ModelSpec(OUTCOME, COVARIATES, kind="glm", family="binomial", link="logit", name="truth medical_return")


def probability_limit(frame: pd.DataFrame, expected: np.ndarray):
    """The paper's logit fitted to expected outcomes: what its estimate converges to."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # fractional outcomes are the point here
        return fit(paper_spec(), frame.assign(**{OUTCOME: expected}))


def solve(frame: pd.DataFrame, planted: np.ndarray, targets: dict, tol: float = 1e-9) -> np.ndarray:
    """DGP coefficients (one per design column) whose probability limit hits the targets."""
    design = Design.from_data(COVARIATES, frame)
    X = design.matrix(frame)
    names = design.column_names()
    g = np.array([BACKGROUND.get(n, 0.0) for n in names])
    free = [names.index(n) for n in CALIBRATED]
    g[free] = [targets[CALIBRATED[0]], targets[CALIBRATED[1]], np.log(targets["rate"] / (1 - targets["rate"]))]
    state = {"limit": g.copy()}   # the last limit: a warm start for the next one

    def gaps(values):
        trial = g.copy()
        trial[free] = values
        expected = expit(X @ trial) * planted
        state["limit"] = fitted = logit_newton(X, expected, state["limit"], tol=1e-12)
        return [fitted[free[0]] - targets[CALIBRATED[0]], fitted[free[1]] - targets[CALIBRATED[1]],
                expected.mean() - targets["rate"]]

    theta = newton(gaps, g[free], "medical return", tol=tol)
    g[free] = theta
    return g


def draw(frame: pd.DataFrame, planted: np.ndarray, doc: dict, rng: np.random.Generator):
    """(returned, truth, notes): who returns home among the planted rows, and the truth."""
    targets = published_targets(doc)
    g = solve(frame, planted, targets)
    design = Design.from_data(COVARIATES, frame)
    X = design.matrix(frame)
    k = int(round(len(frame) * targets["rate"]))
    latent = np.where(planted, X @ g + rng.logistic(size=len(frame)), -np.inf)
    order = np.argsort(-latent, kind="stable")
    returned = np.zeros(len(frame), dtype=bool)
    returned[order[:k]] = True
    threshold = (latent[order[k - 1]] + latent[order[k]]) / 2
    g[design.column_names().index("_cons")] -= threshold
    limit = probability_limit(frame, expit(X @ g) * planted)
    truth = truth_rows(limit)
    ors = truth[truth["estimand"] == "odds_ratio"].set_index(["term", "level"])["truth"]
    notes = [f"medical return: DGP coefficients NCMS {g[design.column_names().index(CALIBRATED[0])]:.4f}, "
             f"settlement {g[design.column_names().index(CALIBRATED[1])]:.4f} (log odds) among the planted "
             f"inpatients; {int((~planted).sum())} benefit-study inpatients never return",
             f"medical return: realised threshold {threshold:.4f}; true odds ratios NCMS "
             f"{ors[('medical_insurance', 'NCMS')]:.3f}, settlement {ors[('settle_intention', 'True')]:.3f}; "
             f"{k} of {len(frame)} return ({100 * k / len(frame):.2f}%)"]
    return returned, truth, notes


def truth_rows(limit) -> pd.DataFrame:
    """Coefficients and odds ratios of the probability limit, in the truth file's columns."""
    coefs = limit.tidy(sample=SAMPLE, equation=OUTCOME).assign(estimand="coef")
    ors = odds_ratios(limit, sample=SAMPLE, equation=OUTCOME)
    rows = pd.concat([coefs, ors], ignore_index=True)
    return rows.assign(model=MODEL, truth=rows["estimate"], kind="limit", study="medical_return")[
        ["model", "sample", "equation", "term", "level", "reference", "estimand", "truth", "kind", "n_obs", "study"]]
