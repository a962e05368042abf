"""The synthetic CMDS 2014's sampling frame, its background population, and the helpers that
record items in raw codes; the study plantings (benefit.py, medical_return.py,
inequality.py) write through them.

* Frame: respondents in 348 cities of 32 provincial units, neighbourhood clusters of 20, a
  sampling weight constant within a city (PPS by a city's migrant stock).
* Background: plausible marginal distributions for everyone, not a claim about the real
  survey; study samples are planted over it.
* `canonical`: planted rows read back as ingestion will read them (the codebook, then
  derive.py), so that outcome equations are solved on the covariates the pipeline sees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import derive
from ..io import codebook
from ..sample import xtile
from . import cmds2014_layout as layout
from .draws import largest_remainder

SURVEY_YEAR, SURVEY_MONTH = 2014, 5
N_PROVINCES, N_CITIES, CLUSTER_SIZE = 32, 348, 20
SCOPE_CODES = {"within_city": 3, "across_cities": 2, "across_provinces": 1}


def draw_codes(rng, n, codes, p) -> np.ndarray:
    """n raw codes drawn with probabilities proportional to `p`."""
    return rng.choice(np.asarray(codes), size=n, p=np.asarray(p) / np.sum(p))


# -- frame -----------------------------------------------------------------------------


def sampling_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Provinces, cities, clusters of 20 and a city-level weight (PPS by migrant stock)."""
    city_province = np.concatenate(
        [np.arange(1, N_PROVINCES + 1), rng.integers(1, N_PROVINCES + 1, N_CITIES - N_PROVINCES)]
    )
    city_province.sort()
    n_clusters = -(-n // CLUSTER_SIZE)
    stock = rng.lognormal(0, 1, N_CITIES)
    clusters_per_city = 1 + largest_remainder(stock, n_clusters - N_CITIES)
    cluster_city = np.repeat(np.arange(1, N_CITIES + 1), clusters_per_city)
    row_cluster = np.repeat(np.arange(1, n_clusters + 1), CLUSTER_SIZE)[:n]
    city = cluster_city[row_cluster - 1]
    # Weight: migrants represented per respondent, i.e. stock over respondents in the city.
    respondents = np.bincount(city, minlength=N_CITIES + 1)[1:]
    weight = (stock / respondents) / (stock.sum() / n)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "prov": city_province[city - 1],
            "city": city,
            "psu": row_cluster,
            "wt": np.round(weight[city - 1], 6),
        }
    )


# -- background ------------------------------------------------------------------------


def background_population(pop: pd.DataFrame, rng: np.random.Generator) -> None:
    """Plausible marginal distributions for everyone; study samples are planted later."""
    n = len(pop)
    age = np.clip(np.rint(rng.normal(34, 9.5, n)), 15, 59).astype(int)
    pop["q101b"] = draw_codes(rng, n, [1, 2], [0.52, 0.48])
    pop["q101c"] = SURVEY_YEAR - age
    pop["q101d"] = draw_codes(rng, n, range(1, 8), [0.93, 0.015, 0.015, 0.01, 0.005, 0.01, 0.015])
    pop["q101e"] = draw_codes(rng, n, range(1, 9), [0.02, 0.13, 0.52, 0.14, 0.07, 0.07, 0.045, 0.005])
    pop["q101f"] = draw_codes(rng, n, [1, 2, 3], [0.85, 0.13, 0.02])
    pop["q101g"] = np.where(
        age < 22,
        draw_codes(rng, n, [1, 2], [0.8, 0.2]),
        draw_codes(rng, n, range(1, 7), [0.12, 0.8, 0.03, 0.025, 0.01, 0.015]),
    )
    pop["q102"] = draw_codes(rng, n, [1, 2], [0.83, 0.17])
    size = draw_codes(rng, n, range(1, 7), [0.15, 0.2, 0.35, 0.2, 0.07, 0.03])
    per_capita = rng.lognormal(np.log(2200), 0.7, n)
    pop["q104"] = size
    pop["q103"] = np.rint(per_capita * size / 100) * 100
    pop["q105"] = draw_codes(rng, n, [1, 2], [0.65, 0.35])
    pop["q106"] = draw_codes(rng, n, [1, 2, 3], [0.51, 0.30, 0.19])
    pop["q101h"] = hukou_province(pop["prov"].to_numpy(), pop["q106"].to_numpy(), rng)
    pop["q107"] = draw_codes(rng, n, range(1, 7), [0.87, 0.08, 0.02, 0.005, 0.005, 0.02])
    duration = np.minimum(rng.gamma(1.3, 3.5, n), age - 14.5)
    set_arrival(pop, np.arange(n), duration)
    pop["q109"] = draw_codes(rng, n, [1, 2, 3], [0.56, 0.10, 0.34])
    background_insurance(pop, rng)
    pop["q301"] = draw_codes(rng, n, [1, 2], [0.09, 0.91])
    pop["q302"] = np.where(pop["q301"] == 1, draw_codes(rng, n, [1, 2], [0.55, 0.45]), layout.NOT_APPLICABLE)
    not_hospitalised(pop, np.arange(n))


def hukou_province(prov: np.ndarray, scope: np.ndarray, rng) -> np.ndarray:
    """Hukou in another province exactly when the migration crossed provinces."""
    other = 1 + (prov - 1 + rng.integers(1, N_PROVINCES, len(prov))) % N_PROVINCES
    return np.where(scope == SCOPE_CODES["across_provinces"], other, prov)


def set_arrival(pop: pd.DataFrame, rows: np.ndarray, duration_years: np.ndarray) -> None:
    """Year and month of arrival that lie `duration_years` before the interview month."""
    months_ago = np.floor(np.asarray(duration_years) * 12).astype(int)
    index = SURVEY_YEAR * 12 + (SURVEY_MONTH - 1) - months_ago
    pop.loc[rows, "q108y"] = index // 12
    pop.loc[rows, "q108m"] = index % 12 + 1


def months_in_city(pop: pd.DataFrame) -> pd.Series:
    """Whole months between arrival and the interview month."""
    return (SURVEY_YEAR * 12 + SURVEY_MONTH - 1) - (pop["q108y"] * 12 + pop["q108m"] - 1)


def background_insurance(pop: pd.DataFrame, rng) -> None:
    n = len(pop)
    rural = pop["q101f"].to_numpy() == 1
    holds = {
        "ncms": np.where(rural, 0.68, 0.04),
        "urbmi": np.where(rural, 0.02, 0.22),
        "uebmi": np.where(rural, 0.15, 0.38),
        "other": np.full(n, 0.05),
    }
    hometown_share = {"ncms": 0.97, "urbmi": 0.4, "uebmi": 0.15, "other": 0.5}
    for item, p in holds.items():
        held = rng.random(n) < p
        place = np.where(rng.random(n) < hometown_share[item], 2, 1)
        pop[f"q201_{item}"] = held.astype(int)
        pop[f"q202_{item}"] = np.where(held, place, layout.NOT_APPLICABLE)


def visits_of_everyone_else(pop: pd.DataFrame, rng) -> None:
    """The visit item for respondents the study plantings left without an answer."""
    unanswered = np.flatnonzero((pop["q302"] == layout.NOT_APPLICABLE).to_numpy())
    pop.loc[unanswered, "q302"] = draw_codes(rng, len(unanswered), [1, 2], [0.015, 0.985])


# -- recording hospitalisations and reimbursements ---------------------------------------


def not_hospitalised(pop: pd.DataFrame, rows) -> None:
    pop.loc[rows, "q303"] = 2
    for item in ["q304", "q305", "q306"]:
        pop.loc[rows, item] = layout.NOT_APPLICABLE
    for item in ["q307", "q309"]:
        pop.loc[rows, item] = layout.AMOUNT_NOT_APPLICABLE
    for k in layout.REIMBURSEMENT_SOURCES:
        pop.loc[rows, f"q308_{k}"] = layout.NOT_APPLICABLE
    pop.loc[rows, "q310"] = layout.NOT_APPLICABLE


def hospitalise(pop: pd.DataFrame, rows: np.ndarray, reason, place, facility, cost) -> None:
    pop.loc[rows, "q303"] = 1
    pop.loc[rows, "q304"] = reason
    pop.loc[rows, "q305"] = place
    pop.loc[rows, "q306"] = facility
    pop.loc[rows, "q307"] = np.rint(cost)


def record_reimbursement(pop, rows, sources: np.ndarray, amount, no_reason) -> None:
    """`sources` is a (rows x 9) 0/1 matrix of the multiple-response item."""
    for k in layout.REIMBURSEMENT_SOURCES:
        pop.loc[rows, f"q308_{k}"] = sources[:, k - 1]
    pop.loc[rows, "q309"] = amount
    pop.loc[rows, "q310"] = no_reason


def sources_matrix(n: int, reimbursed: np.ndarray, programme: np.ndarray, rng) -> np.ndarray:
    """Reimbursement sources consistent with seed 001's rule for 'reimbursed by SHI'.

    Reimbursed rows tick a social source of their programme (and sometimes commercial
    insurance too); the others tick only 'commercial insurance' and/or 'else'.
    """
    m = np.zeros((n, 9), dtype=int)
    social = {"NCMS": [1, 4, 5], "URBMI": [2], "UEBMI": [2, 3], "none": [9]}
    pick = rng.random(n)
    for name, sources in social.items():
        at = np.flatnonzero(reimbursed & (programme == name))
        chosen = np.asarray(sources)[(pick[at] * len(sources)).astype(int)]
        m[at, chosen - 1] = 1
    m[reimbursed, 5] = rng.random(int(reimbursed.sum())) < 0.05
    other = rng.choice(3, size=n, p=[0.1, 0.8, 0.1])  # commercial only, else only, both
    m[~reimbursed, 5] = np.isin(other[~reimbursed], (0, 2))
    m[~reimbursed, 8] = np.isin(other[~reimbursed], (1, 2))
    return m


def settle_other_reimbursements(pop, rows, rng) -> None:
    """Reimbursement items for inpatients outside the benefit sample (plausible, uncalibrated)."""
    n = len(rows)
    held = pop.loc[rows, [f"q201_{i}" for i in ("uebmi", "urbmi", "ncms")]].to_numpy() == 1
    programme = np.select([held[:, 0], held[:, 1], held[:, 2]], ["UEBMI", "URBMI", "NCMS"], "none")
    reimbursed = (programme != "none") & (rng.random(n) < 0.5)
    sources = sources_matrix(n, reimbursed, programme, rng)
    cost = pop.loc[rows, "q307"].to_numpy()
    amount = np.where(reimbursed, np.rint(cost * rng.uniform(0.2, 0.7, n)), layout.AMOUNT_NOT_APPLICABLE)
    no_reason = np.where(reimbursed, layout.NOT_APPLICABLE, draw_codes(rng, n, [1, 2, 3, 4], [0.5, 0.2, 0.2, 0.1]))
    record_reimbursement(pop, rows, sources, amount, no_reason)


# -- reading planted rows back -------------------------------------------------------------


def canonical(pop: pd.DataFrame, rows: np.ndarray, book) -> pd.DataFrame:
    """Rows of the release as ingestion will see them: through the codebook and derive.py."""
    frame, _ = codebook.apply_codebook(pop.loc[rows, book.sources].reset_index(drop=True), book)
    return derive.derive_all(frame, book.survey, book.interview).set_axis(rows)


def income_quintiles(income_per_capita: pd.Series) -> pd.Series:
    """A study sample's quintiles, formed as the pipeline forms them (Stata xtile) for the
    benefit and medical-return studies (their config's quantile_groups)."""
    return xtile(income_per_capita, 5)
