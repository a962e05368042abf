"""The inequality study's health service use in the synthetic CMDS (seed 002), solved from its
summary.

Among the workers (rural hukou, employed, enrolled in NCMS, aged 16-59), ranked by
household income per capita (fractional rank r, unweighted):

* illness in the last two weeks (the need variable): the 10.5% with the largest
  -0.8 (r - 1/2) + c_j + e (e standard logistic, c_j a city effect): poorer workers are
  sicker. Not published; the generator's assumption;
* an outpatient visit in the last two weeks: P = Lambda(a + b (r - 1/2) + 2.2 ill + c_j);
* a hospitalisation in the last 12 months: P = Lambda(a + b (r - 1/2) + 0.8 ill + c_j) for the
  workers free to be hospitalised; the inpatients of the benefit and medical-return samples
  stay inpatients (P = 1) and the rest of the medical-return population stays out (P = 0),
  so that those studies do not change.

City effects are normal with SD CITY_SD (the multilevel models' city variance). For each
use, a and b are solved (draws.newton) so that the expected use has the published rate
and its concentration index (2 cov(P, r) / mean P) is the published one; the published
number of users is then drawn as the largest latent values (their realised threshold, near
0, is noted). The truth is the DGP's: the concentration index of the expected use, which is
the published one; the drawn data depart from it by sampling variation only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from ..stats.conindex import fractional_rank
from .cmds2014_frame import SURVEY_YEAR, canonical, draw_codes, hospitalise, settle_other_reimbursements
from .draws import newton, top_k

STUDY = "inequality"
WORKING_AGE = (16, 59)  # China's minimum legal working age to the survey's upper age
ILLNESS = {"rate": 0.105, "gradient": -0.8, "city_sd": 0.4}
NEED_EFFECT = {"outpatient_2w": 2.2, "inpatient_12m": 0.8}
CITY_SD = {"outpatient_2w": 0.6, "inpatient_12m": 0.5}


def plant(pop: pd.DataFrame, published: dict, rng, book, kept_out: np.ndarray):
    """Illness, outpatient visits and hospitalisations of the NCMS workers, with the
    published rates and concentration indices (published: data/published/inequality.yaml).
    `kept_out` marks respondents who must not become inpatients (the medical-return
    population). Returns the truth and notes.

    Extra inpatients are hospitalised in the hometown or elsewhere, so that neither the
    benefit sample (current city) nor the medical-return sample (its population is kept
    out) changes.
    """
    rows = np.flatnonzero(ncms_workers(pop))
    frame = canonical(pop, rows, book)
    already = (pop.loc[rows, "q303"] == 1).to_numpy()
    ill, visited, inpatient, truth, notes = draw(frame, already, kept_out[rows] & ~already, published, rng)
    # The visit item is asked of everyone (check-ups and follow-ups need no recent illness).
    pop.loc[rows, "q301"] = np.where(ill, 1, 2)
    pop.loc[rows, "q302"] = np.where(visited, 1, 2)
    extra = rows[inpatient & ~already]
    hospitalise(
        pop,
        extra,
        draw_codes(rng, len(extra), [1, 2, 3], [0.75, 0.15, 0.1]),
        draw_codes(rng, len(extra), [2, 3], [0.7, 0.3]),
        draw_codes(rng, len(extra), [1, 2, 3, 4], [0.35, 0.4, 0.2, 0.05]),
        rng.lognormal(np.log(5000), 0.8, len(extra)),
    )
    settle_other_reimbursements(pop, extra, rng)
    return truth, notes


def ncms_workers(pop: pd.DataFrame) -> np.ndarray:
    """Seed 002's population: rural hukou, employed, enrolled in NCMS, of working age."""
    age = SURVEY_YEAR - pop["q101c"]
    return ((pop["q101f"] == 1) & (pop["q102"] == 1) & (pop["q201_ncms"] == 1) & age.between(*WORKING_AGE)).to_numpy()


# -- the use equations -----------------------------------------------------------------------


def published_targets(doc: dict) -> dict:
    """outcome -> (rate, concentration index) from inequality.yaml."""
    rates = {q["variable"]: q["value"] / 100 for q in doc["sample"]}
    indices = {e["equation"]: e["estimate"] for e in doc["estimates"]}
    return {outcome: (rates[outcome], indices[outcome]) for outcome in indices}


def concentration(expected: np.ndarray, rank: np.ndarray) -> float:
    return 2 * np.mean((expected - expected.mean()) * (rank - 0.5)) / expected.mean()


def draw_use(rank, ill, city_effect, free, forced, target, rng, label: str):
    """(used, truth): one use among the workers, calibrated to (rate, concentration index).

    `free` rows are drawn; the others keep `forced` (0 or 1)."""
    rate, index = target
    need = NEED_EFFECT[label] * ill + city_effect
    n = len(rank)

    def expected(a, b):
        return np.where(free, expit(a + b * (rank - 0.5) + need), forced)

    def gaps(x):
        e = expected(*x)
        return [e.mean() - rate, concentration(e, rank) - index]

    a, b = newton(gaps, [np.log(rate / (1 - rate)), -1.0], f"inequality {label}")
    latent = np.where(free, a + b * (rank - 0.5) + need + rng.logistic(size=n), -np.inf)
    k = int(round(rate * n)) - int(forced[~free].sum())
    chosen, threshold = top_k(latent, k)
    used = np.where(free, chosen, forced.astype(bool))
    truth = expected(a, b)
    return used, {
        "outcome": label,
        "rate": truth.mean(),
        "concentration_index": concentration(truth, rank),
        "gradient": b,
        "threshold": threshold,
    }


def draw(frame: pd.DataFrame, already_inpatient: np.ndarray, kept_out: np.ndarray, doc: dict, rng: np.random.Generator):
    """(ill, outpatient, inpatient, truth rows, notes) for the workers in `frame`
    (canonical covariates with income_per_capita and city)."""
    targets = published_targets(doc)
    rank = fractional_rank(frame["income_per_capita"].to_numpy())
    city = frame["city"].to_numpy()
    n_cities = int(city.max()) + 1

    def city_effects(sd):
        return rng.normal(0, sd, n_cities)[city]

    ill_latent = ILLNESS["gradient"] * (rank - 0.5) + city_effects(ILLNESS["city_sd"]) + rng.logistic(size=len(rank))
    ill, _ = top_k(ill_latent, int(round(ILLNESS["rate"] * len(rank))))
    everyone = np.ones(len(rank), dtype=bool)
    outpatient, out_truth = draw_use(
        rank,
        ill,
        city_effects(CITY_SD["outpatient_2w"]),
        everyone,
        np.zeros(len(rank)),
        targets["outpatient_2w"],
        rng,
        "outpatient_2w",
    )
    free = ~already_inpatient & ~kept_out
    inpatient, in_truth = draw_use(
        rank,
        ill,
        city_effects(CITY_SD["inpatient_12m"]),
        free,
        already_inpatient.astype(float),
        targets["inpatient_12m"],
        rng,
        "inpatient_12m",
    )
    rows, notes = [], []
    for t in (out_truth, in_truth):
        rows.append(
            {
                "model": "concentration_index",
                "sample": "total",
                "equation": t["outcome"],
                "term": "income_per_capita",
                "level": "",
                "reference": "",
                "estimand": "concentration_index",
                "truth": t["concentration_index"],
                "kind": "dgp",
                "n_obs": len(rank),
                "study": STUDY,
            }
        )
        notes.append(
            f"inequality {t['outcome']}: income gradient {t['gradient']:.4f} (log odds per unit of rank), "
            f"expected rate {100 * t['rate']:.3f}%, concentration index of the expected use "
            f"{t['concentration_index']:.5f}; realised threshold of the draw {t['threshold']:.4f}"
        )
    notes.append(
        f"inequality: {int(already_inpatient.sum())} workers are inpatients of the benefit or "
        f"medical-return samples; {int(kept_out.sum())} others of the medical-return population "
        f"are never hospitalised"
    )
    return ill, outpatient, inpatient, pd.DataFrame(rows), notes
