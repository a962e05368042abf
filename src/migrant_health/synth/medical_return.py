"""The medical-return study's inpatients in the synthetic CMDS (seed 000), and who of them
went home for care, solved from its abstract.

The sample (`plant`): 4,018 rural-hukou respondents living in an urban area, in the city for
at least a year, hospitalised in the last 12 months with a known place of hospitalisation,
planted around the benefit study's inpatients already among them; 15.3% of them in the
hometown.

The data-generating process (DGP), on the covariates of the analytic sample:

* an inpatient planted for this study returns home for care when x g + e is among the
  k largest values (e standard logistic, k = n x 15.3% of the published rate), so the
  rate is exact and P(return) = Lambda(x g - t), t the realised threshold: a logit;
* the benefit study's inpatients in this sample were treated in the city by that
  study's design: they never return (P = 0).

x holds the study's model (config.yaml: studies.medical_return.models, its covariates). The
generator's own assumptions, not published: BACKGROUND's log odds ratios; every other effect
is zero. Solved by Newton's method (draws.newton): the intercept and the NCMS and settlement
coefficients, so that the study's logit fitted to the expected outcomes -- its probability
limit, the truth the pipeline's estimate converges to -- has the published odds ratios (2.44
and 0.66) and the mean outcome is the published rate. Because of the benefit inpatients'
zeros the limit is not g itself; it is what is documented
(results/data/cmds2014_synthetic_truth.csv, kind `limit`).

Reconciling seeds 000 and 001: the current-city inpatients planted here who did not go home
are kept outside the benefit study's definition (`plant_other_city_inpatients`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit

from ..errors import InputError
from ..stats import ModelSpec, fit, odds_ratios
from ..stats.design import Design
from ..stats.models import logit_newton
from . import cmds2014_layout as layout
from . import specs
from .cmds2014_frame import (
    canonical,
    draw_codes,
    hospitalise,
    income_quintiles,
    months_in_city,
    settle_other_reimbursements,
)
from .draws import choose, newton, top_k

STUDY = "medical_return"
EQUATION, SAMPLE = "medical_return", "total"  # the study's equation the DGP is solved for
UNKNOWN_PLACE = 30  # inpatients whose place is not recorded (excluded by the study's filter), per scale

# Not published: plausible directions, so the model has more than two live terms.
# Farther hometowns are harder to go back to; economic integration keeps migrants in the city.
BACKGROUND = {
    "migration_scope=across_cities": -0.2,
    "migration_scope=across_provinces": -0.4,
    "income_quintile=Q2": -0.05,
    "income_quintile=Q3": -0.1,
    "income_quintile=Q4": -0.2,
    "income_quintile=Q5": -0.3,
    "employed=True": -0.25,
    "migration_duration=10+": -0.2,
}
CALIBRATED = ("medical_insurance=NCMS", "settle_intention=True", "_cons")


def plant(pop: pd.DataFrame, published: dict, studies: dict, rng, taken: np.ndarray, book, scale: int = 1):
    """Seed 000's inpatients around the benefit respondents (`taken`) already among them, and
    who of them went home for care. published: data/published/medical_return.yaml; studies:
    config entries (studies.medical_return.models is read). Returns the truth and notes."""
    spec = specs.limit_spec(specs.study_models(studies, STUDY, "CMDS 2014"), EQUATION, STUDY)
    targets = published_targets(published)
    in_population = population(pop)
    free = in_population.copy()
    free[taken] = False
    benefit_rows = np.flatnonzero(in_population & np.isin(np.arange(len(pop)), taken))
    n_planted = scale * targets["n"] - len(benefit_rows)
    if n_planted < 0:
        raise ValueError(
            "the benefit sample alone exceeds the medical-return sample; "
            "lower datasets.cmds2014.generator.benefit_scale"
        )
    if n_planted + UNKNOWN_PLACE * scale > free.sum():
        raise ValueError(
            f"medical_return_scale {scale} needs more respondents: raise datasets.cmds2014.generator.n_respondents"
        )
    planted = choose(np.flatnonzero(free), n_planted, rng)
    free[planted] = False
    unknown = choose(np.flatnonzero(free), UNKNOWN_PLACE * scale, rng)
    sample_rows = np.sort(np.concatenate([planted, benefit_rows]))
    frame = canonical(pop, sample_rows, book)
    frame["income_quintile"] = income_quintiles(frame["income_per_capita"])
    is_planted = np.isin(sample_rows, planted)
    returned, truth, notes = draw(frame, is_planted, targets, spec, rng)
    returners, stayers = sample_rows[returned], sample_rows[is_planted & ~returned]
    n_return = len(returners)
    hospitalise(
        pop,
        returners,
        draw_codes(rng, n_return, [1, 2, 3], [0.8, 0.1, 0.1]),
        2,
        draw_codes(rng, n_return, [1, 2, 3, 4], [0.3, 0.45, 0.2, 0.05]),
        rng.lognormal(np.log(6000), 0.8, n_return),
    )
    hospitalise(
        pop,
        unknown,
        1,
        layout.DONT_KNOW,
        draw_codes(rng, len(unknown), [1, 2, 3], [0.3, 0.4, 0.3]),
        rng.lognormal(np.log(8000), 0.8, len(unknown)),
    )
    plant_other_city_inpatients(pop, stayers, frame.loc[stayers], rng)
    settle_other_reimbursements(pop, np.concatenate([returners, unknown]), rng)
    return truth, notes


def population(pop: pd.DataFrame) -> np.ndarray:
    """Rural hukou, urban residence, at least a year in the city: seed 000's population."""
    return ((pop["q101f"] == 1) & (pop["q105"] == 1) & (months_in_city(pop) >= 12)).to_numpy()


def plant_other_city_inpatients(pop, rows, covariates: pd.DataFrame, rng) -> None:
    """Inpatients who did not go home, kept outside the benefit definition without touching
    the covariates their outcome was drawn on: those without exactly one of NCMS, URBMI and
    UEBMI were treated in the city for illness or injury; singly insured women of 18-45 gave
    birth in the city; the other singly insured were treated in a third place."""
    n = len(rows)
    single = covariates["insurance_programme"].isin(["NCMS", "URBMI", "UEBMI"]).to_numpy()
    mother = single & covariates["female"].to_numpy(dtype=bool) & covariates["age"].between(18, 45).to_numpy()
    place = np.where(single & ~mother, 3, 1)
    reason = np.where(mother, 3, draw_codes(rng, n, [1, 2], [0.85, 0.15]))
    hospitalise(
        pop,
        rows,
        reason,
        place,
        draw_codes(rng, n, [1, 2, 3, 4, 5], [0.25, 0.4, 0.25, 0.08, 0.02]),
        rng.lognormal(np.log(5000), 0.7, n),
    )
    settle_other_reimbursements(pop, rows, rng)


# -- the outcome equation ------------------------------------------------------------------


def published_targets(doc: dict) -> dict:
    """Log odds ratios of NCMS and settlement intention, the rate and n, from medical_return.yaml."""
    ors = {(e["term"], str(e["level"])): e["estimate"] for e in doc["estimates"]}
    quantity = {q["quantity"]: q["value"] for q in doc["sample"]}
    return {
        "medical_insurance=NCMS": np.log(ors[("medical_insurance", "NCMS")]),
        "settle_intention=True": np.log(ors[("settle_intention", "True")]),
        "rate": quantity["medical_return_percent"] / 100,
        "n": quantity["n"],
    }


def probability_limit(frame: pd.DataFrame, expected: np.ndarray, spec: ModelSpec):
    """The study's logit fitted to expected outcomes: what its estimate converges to."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fractional outcomes are the point here
        return fit(spec, frame.assign(**{spec.outcome: expected}))


def solve(frame: pd.DataFrame, planted: np.ndarray, targets: dict, covariates: list, tol: float = 1e-9) -> np.ndarray:
    """DGP coefficients (one per design column) whose probability limit hits the targets."""
    design = Design.from_data(covariates, frame)
    X = design.matrix(frame)
    names = design.column_names()
    absent = [n for n in CALIBRATED if n not in names]
    if absent:
        raise InputError(
            f"config.yaml: studies.{STUDY}.models.covariates: the synthetic survey calibrates "
            f"{', '.join(absent)} to the published numbers; the model has no such column."
        )
    g = np.array([BACKGROUND.get(n, 0.0) for n in names])
    free = [names.index(n) for n in CALIBRATED]
    g[free] = [targets[CALIBRATED[0]], targets[CALIBRATED[1]], np.log(targets["rate"] / (1 - targets["rate"]))]
    state = {"limit": g.copy()}  # the last limit: a warm start for the next one

    def gaps(values):
        trial = g.copy()
        trial[free] = values
        expected = expit(X @ trial) * planted
        state["limit"] = fitted = logit_newton(X, expected, state["limit"], tol=1e-12)
        return [
            fitted[free[0]] - targets[CALIBRATED[0]],
            fitted[free[1]] - targets[CALIBRATED[1]],
            expected.mean() - targets["rate"],
        ]

    g[free] = newton(gaps, g[free], "medical return", tol=tol)
    return g


def draw(frame: pd.DataFrame, planted: np.ndarray, targets: dict, spec: ModelSpec, rng: np.random.Generator):
    """(returned, truth, notes): who returns home among the planted rows, and the truth."""
    g = solve(frame, planted, targets, spec.covariates)
    design = Design.from_data(spec.covariates, frame)
    names, X = design.column_names(), design.matrix(frame)
    k = int(round(len(frame) * targets["rate"]))
    latent = np.where(planted, X @ g + rng.logistic(size=len(frame)), -np.inf)
    returned, threshold = top_k(latent, k)
    g[names.index("_cons")] -= threshold
    truth = truth_rows(probability_limit(frame, expit(X @ g) * planted, spec))
    ors = truth[truth["estimand"] == "odds_ratio"].set_index(["term", "level"])["truth"]
    notes = [
        f"medical return: DGP coefficients NCMS {g[names.index(CALIBRATED[0])]:.4f}, "
        f"settlement {g[names.index(CALIBRATED[1])]:.4f} (log odds) among the planted "
        f"inpatients; {int((~planted).sum())} benefit-study inpatients never return",
        f"medical return: realised threshold {threshold:.4f}; true odds ratios NCMS "
        f"{ors[('medical_insurance', 'NCMS')]:.3f}, settlement {ors[('settle_intention', 'True')]:.3f}; "
        f"{k} of {len(frame)} return ({100 * k / len(frame):.2f}%)",
    ]
    return returned, truth, notes


def truth_rows(limit) -> pd.DataFrame:
    """Coefficients and odds ratios of the probability limit, in the truth file's columns."""
    outcome = limit.spec.outcome
    coefs = limit.tidy(sample=SAMPLE, equation=outcome).assign(estimand="coef")
    ors = odds_ratios(limit, sample=SAMPLE, equation=outcome)
    rows = pd.concat([coefs, ors], ignore_index=True)
    return rows.assign(model=EQUATION, truth=rows["estimate"], kind="limit", study=STUDY)[
        ["model", "sample", "equation", "term", "level", "reference", "estimand", "truth", "kind", "n_obs", "study"]
    ]
