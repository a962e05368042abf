"""A synthetic China Migrants Dynamic Survey 2014, calibrated to the published studies.

What is calibrated to what (everything else is a plausible background, not a claim
about the real survey):

* Frame: 200,937 respondents aged 15-59 in 348 cities of 32 provincial units,
  neighbourhood clusters of 20, a sampling weight constant within a city.
* Benefit study (seed 001, Table 1): the respondents hospitalised in the current city
  for illness or injury who hold social health insurance are drawn by quota from the
  NCMS and the URBMI+UEBMI columns of Table 1, so each column's counts are exact by
  construction; ages, incomes, costs, amounts and ratios are rescaled to the printed
  means. The total column follows from the two groups: the printed total of rural hukou
  (1,023) disagrees with its own columns (777 + 267 = 1,044); the synthetic total is 1,044.
  About 15% of the reimbursed have no amount recorded ("don't know"), leaving the 663
  of the GLM columns. Reasons for no reimbursement follow Figure 1's quoted shares, the
  hometown reason weighted 1 : 1.6 : 2.2 by scope so that it rises as in Figure 2 (the
  figure's values are not printed). Reimbursement, amount and ratio follow outcome
  equations solved from Tables 3 and 4: see benefit_truth.py, whose documented truth is
  written beside the release.
* Medical-return study (seed 000): 4,018 rural-hukou respondents living in an urban
  area, in the city for at least a year, hospitalised in the last 12 months with a known
  place of hospitalisation; 15.3% of them in the hometown, by a logistic equation whose
  probability limit has the published odds ratios (medical_return_truth.py).
* Inequality study (seed 002): among rural-hukou, employed NCMS holders of working age,
  6.32% visited an outpatient clinic in the last two weeks and 5.9% were hospitalised in
  12 months, with income gradients solved so that the concentration indices of the
  expected use are the published -0.168 and -0.072 (inequality_truth.py).

Reconciling seeds 000 and 001: 4,018 rural-to-urban inpatients against 1,165 insured
inpatients treated in the city for illness cannot both hold unless most of seed 000's
hospitalisations are of another kind. The generator reads seed 001's sample as excluding
childbirth (its sample is 45.7% female, which childbirth admissions would not allow) and
gives seed 000's remaining current-city inpatients childbirth admissions or no social
health insurance. This is an assumption of the synthetic design, not a finding.

Outcomes with published effects follow equations solved by code: benefit_truth.py,
medical_return_truth.py and inequality_truth.py, each writing its documented truth.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import benefit_truth, inequality_truth, medical_return_truth, quota, release

SURVEY_YEAR, SURVEY_MONTH = 2014, 5
N_PROVINCES, N_CITIES, CLUSTER_SIZE = 32, 348, 20

# Canonical levels of Table 1 -> raw codes of the release, with the mix within a level.
EDUCATION_CODES = {"primary_or_below": ([1, 2], [0.15, 0.85]), "junior_high": ([3], [1.0]),
                   "senior_high": ([4, 5], [0.7, 0.3]), "college_or_above": ([6, 7, 8], [0.6, 0.37, 0.03])}
REASON_CODES = {"job": ([1], [1.0]), "family": ([2], [1.0]), "other": ([3, 4, 5, 6], [0.4, 0.1, 0.1, 0.4])}
SCOPE_CODES = {"within_city": 3, "across_cities": 2, "across_provinces": 1}
FACILITY_CODES = {"primary": 1, "secondary": 2, "tertiary": 3, "private": 4}
DURATION_YEARS = {"0-": (0.0, 1.0), "1-": (1.0, 5.0), "5-": (5.0, 10.0), "10+": (10.0, 20.0)}
NO_REIMBURSEMENT_REASONS = {"go_back_hometown": 1, "unaware_of_process": 2, "policy_coverage": 3}


@dataclass(frozen=True)
class Targets:
    """Calibration targets, read from data/published/*.yaml by `targets_from_published`."""
    table1: dict          # column -> term -> {level: count} or (mean, sd)
    benefit: dict         # data/published/benefit.yaml (Tables 1, 3, 4 for the outcome equations)
    n_glm: int
    no_reimbursement_percent: dict  # level -> percent (Figure 1)
    medical_return: dict  # data/published/medical_return.yaml (odds ratios for the outcome equation)
    medical_return_n: int
    medical_return_percent: float
    inequality: dict      # data/published/inequality.yaml (rates and concentration indices)


def targets_from_published(benefit: dict, medical_return: dict, inequality: dict) -> Targets:
    table1: dict = {"ncms": {}, "urban": {}}
    for row in benefit["table1"]["rows"]:
        for column in table1:
            if column not in row:
                continue
            first, second = row[column]
            if row["stat"] == "mean":
                table1[column][row["term"]] = (first, second)
            else:
                table1[column].setdefault(row["term"], {})[row["level"]] = int(first)
    table1["ncms"]["insurance_programme"] = {"NCMS": benefit["table1"]["n"]["ncms"]}

    def quantity(doc, name):
        return next(q["value"] for q in doc["sample"] if q["quantity"] == name)

    return Targets(
        table1=table1,
        benefit=benefit,
        n_glm=next(s["value"] for s in benefit["samples"] if s["quantity"] == "n_glm"),
        no_reimbursement_percent={s["level"]: s["percent"] for s in benefit["figure1"]["shares"]},
        medical_return=medical_return,
        medical_return_n=quantity(medical_return, "n"),
        medical_return_percent=quantity(medical_return, "medical_return_percent"),
        inequality=inequality,
    )


@dataclass
class Release:
    raw: pd.DataFrame       # one row per respondent, raw codes
    truth: pd.DataFrame     # true effects of the outcome equations (aggregates)
    notes: list


def generate(targets: Targets, seed: int, book, n_respondents: int = 200_937, benefit_scale: int = 1,
             medical_return_scale: int = 1) -> Release:
    """The whole synthetic release and the truth it was generated from.

    `book` is the codebook ingestion will read the release with: outcome equations are
    solved on covariates derived exactly as the pipeline derives them. `benefit_scale`
    and `medical_return_scale` multiply a study's sample (recovery checks at 100 times
    the published n); a scaled release serves that study's recovery check only.
    """
    if benefit_scale > 1 and medical_return_scale > 1:
        raise ValueError("scale one study at a time (benefit_scale or medical_return_scale)")
    rng = np.random.default_rng(seed)
    pop = sampling_frame(n_respondents, rng)
    background_population(pop, rng)
    benefit_rows, truth, notes = plant_benefit_sample(pop, targets, rng, benefit_scale)
    truths = [truth.assign(study="benefit")]
    if benefit_scale == 1:
        mr_truth, mr_notes = plant_medical_return_sample(pop, targets, rng, benefit_rows, book,
                                                         medical_return_scale)
        truths.append(mr_truth)
        notes += mr_notes
    else:
        # The scaled benefit sample fills much of the file: seed 000's and 002's samples
        # cannot be planted beside it.
        notes.append(f"benefit_scale {benefit_scale}: medical-return and inequality samples not planted")
    if benefit_scale == 1 and medical_return_scale == 1:
        ineq_truth, ineq_notes = plant_ncms_worker_use(pop, targets, rng, book)
        truths.append(ineq_truth)
        notes += ineq_notes
    visits_of_everyone_else(pop, rng)
    return Release(pop[list(release.VARIABLES)], pd.concat(truths, ignore_index=True), notes)


# -- frame -----------------------------------------------------------------------------

def sampling_frame(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Provinces, cities, clusters of 20 and a city-level weight (PPS by migrant stock)."""
    city_province = np.concatenate([np.arange(1, N_PROVINCES + 1),
                                    rng.integers(1, N_PROVINCES + 1, N_CITIES - N_PROVINCES)])
    city_province.sort()
    n_clusters = -(-n // CLUSTER_SIZE)
    stock = rng.lognormal(0, 1, N_CITIES)
    clusters_per_city = 1 + quota.largest_remainder(stock, n_clusters - N_CITIES)
    cluster_city = np.repeat(np.arange(1, N_CITIES + 1), clusters_per_city)
    row_cluster = np.repeat(np.arange(1, n_clusters + 1), CLUSTER_SIZE)[:n]
    city = cluster_city[row_cluster - 1]
    # Weight: migrants represented per respondent, i.e. stock over respondents in the city.
    respondents = np.bincount(city, minlength=N_CITIES + 1)[1:]
    weight = (stock / respondents) / (stock.sum() / n)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "prov": city_province[city - 1], "city": city,
        "psu": row_cluster, "wt": np.round(weight[city - 1], 6),
    })


# -- background ------------------------------------------------------------------------

def _codes(rng, n, codes, p):
    return rng.choice(np.asarray(codes), size=n, p=np.asarray(p) / np.sum(p))


def background_population(pop: pd.DataFrame, rng: np.random.Generator) -> None:
    """Plausible marginal distributions for everyone; study samples are planted later."""
    n = len(pop)
    age = np.clip(np.rint(rng.normal(34, 9.5, n)), 15, 59).astype(int)
    pop["q101b"] = _codes(rng, n, [1, 2], [0.52, 0.48])
    pop["q101c"] = SURVEY_YEAR - age
    pop["q101d"] = _codes(rng, n, range(1, 8), [0.93, 0.015, 0.015, 0.01, 0.005, 0.01, 0.015])
    pop["q101e"] = _codes(rng, n, range(1, 9), [0.02, 0.13, 0.52, 0.14, 0.07, 0.07, 0.045, 0.005])
    pop["q101f"] = _codes(rng, n, [1, 2, 3], [0.85, 0.13, 0.02])
    pop["q101g"] = np.where(age < 22, _codes(rng, n, [1, 2], [0.8, 0.2]),
                            _codes(rng, n, range(1, 7), [0.12, 0.8, 0.03, 0.025, 0.01, 0.015]))
    pop["q102"] = _codes(rng, n, [1, 2], [0.83, 0.17])
    size = _codes(rng, n, range(1, 7), [0.15, 0.2, 0.35, 0.2, 0.07, 0.03])
    per_capita = rng.lognormal(np.log(2200), 0.7, n)
    pop["q104"] = size
    pop["q103"] = np.rint(per_capita * size / 100) * 100
    pop["q105"] = _codes(rng, n, [1, 2], [0.65, 0.35])
    pop["q106"] = _codes(rng, n, [1, 2, 3], [0.51, 0.30, 0.19])
    pop["q101h"] = hukou_province(pop["prov"].to_numpy(), pop["q106"].to_numpy(), rng)
    pop["q107"] = _codes(rng, n, range(1, 7), [0.87, 0.08, 0.02, 0.005, 0.005, 0.02])
    duration = np.minimum(rng.gamma(1.3, 3.5, n), age - 14.5)
    set_arrival(pop, np.arange(n), duration)
    pop["q109"] = _codes(rng, n, [1, 2, 3], [0.56, 0.10, 0.34])
    background_insurance(pop, rng)
    pop["q301"] = _codes(rng, n, [1, 2], [0.09, 0.91])
    pop["q302"] = np.where(pop["q301"] == 1, _codes(rng, n, [1, 2], [0.55, 0.45]),
                           release.NOT_APPLICABLE)
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


def background_insurance(pop: pd.DataFrame, rng) -> None:
    n = len(pop)
    rural = pop["q101f"].to_numpy() == 1
    holds = {"ncms": np.where(rural, 0.68, 0.04), "urbmi": np.where(rural, 0.02, 0.22),
             "uebmi": np.where(rural, 0.15, 0.38), "other": np.full(n, 0.05)}
    hometown_share = {"ncms": 0.97, "urbmi": 0.4, "uebmi": 0.15, "other": 0.5}
    for item, p in holds.items():
        held = rng.random(n) < p
        place = np.where(rng.random(n) < hometown_share[item], 2, 1)
        pop[f"q201_{item}"] = held.astype(int)
        pop[f"q202_{item}"] = np.where(held, place, release.NOT_APPLICABLE)


def not_hospitalised(pop: pd.DataFrame, rows) -> None:
    pop.loc[rows, "q303"] = 2
    for item in ["q304", "q305", "q306"]:
        pop.loc[rows, item] = release.NOT_APPLICABLE
    for item in ["q307", "q309"]:
        pop.loc[rows, item] = release.AMOUNT_NOT_APPLICABLE
    for k in release.REIMBURSEMENT_SOURCES:
        pop.loc[rows, f"q308_{k}"] = release.NOT_APPLICABLE
    pop.loc[rows, "q310"] = release.NOT_APPLICABLE


def hospitalise(pop: pd.DataFrame, rows: np.ndarray, reason, place, facility, cost) -> None:
    pop.loc[rows, "q303"] = 1
    pop.loc[rows, "q304"] = reason
    pop.loc[rows, "q305"] = place
    pop.loc[rows, "q306"] = facility
    pop.loc[rows, "q307"] = np.rint(cost)


def record_reimbursement(pop, rows, sources: np.ndarray, amount, no_reason) -> None:
    """`sources` is a (rows x 9) 0/1 matrix of the multiple-response item."""
    for k in release.REIMBURSEMENT_SOURCES:
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


# -- benefit study (seed 001) -----------------------------------------------------------

def plant_benefit_sample(pop: pd.DataFrame, targets: Targets, rng, scale: int):
    """Table 1's NCMS and URBMI+UEBMI columns by quota, then outcomes from Tables 3-4.

    Returns the planted rows, the documented truth of the outcome equations, and notes.
    """
    t1 = targets.table1
    sizes = {c: scale * sum(t1[c]["insurance_programme"].values()) for c in ("ncms", "urban")}
    rows = quota.choose(np.arange(len(pop)), sum(sizes.values()), rng)
    rng.shuffle(rows)
    by_column = {"ncms": np.sort(rows[:sizes["ncms"]]), "urban": np.sort(rows[sizes["ncms"]:])}
    frame = pd.concat([benefit_covariates(pop, col_rows, t1[c], scale, rng).assign(group=c)
                       for c, col_rows in by_column.items()])
    frame["income_quintile"] = benefit_truth.income_quintiles(frame["income_per_capita"])
    frame["age2"] = frame["age"].astype(float) ** 2
    reimbursed_total = sum(scale * t1[c]["reimbursed"]["True"] for c in by_column)
    counts = {}
    for c in by_column:
        reimbursed_n = scale * t1[c]["reimbursed"]["True"]
        counts[c] = {"reimbursed": reimbursed_n,
                     "recorded": int(round(scale * targets.n_glm * reimbursed_n / reimbursed_total))}
    outcomes = benefit_truth.draw(frame, targets.benefit, t1, counts, rng)
    record_benefit_outcomes(pop, frame, outcomes, t1, rng)
    plant_no_reimbursement_reasons(pop, np.sort(frame.index[~outcomes.reimbursed]), targets, rng)
    return np.sort(rows), outcomes.truth, outcomes.notes


def _levels(target: dict, scale: int, n: int, rng) -> np.ndarray:
    """Exact counts of each level (scaled), in random order; binary terms give booleans."""
    counts = {level: scale * c for level, c in target.items()}
    if set(counts) == {"True"}:
        counts["False"] = n - counts["True"]
        return quota.shuffled_levels(list(counts), list(counts.values()), rng) == "True"
    return quota.shuffled_levels(list(counts), list(counts.values()), rng)


def _expand(levels: np.ndarray, code_map: dict, rng) -> np.ndarray:
    """Canonical levels -> raw codes, choosing within a level by its mix."""
    out = np.empty(len(levels), dtype=int)
    for level, (codes, p) in code_map.items():
        at = levels == level
        out[at] = _codes(rng, at.sum(), codes, p)
    return out


def _categorical(levels: np.ndarray, categories) -> pd.Categorical:
    return pd.Categorical(levels, categories=list(categories))


def benefit_covariates(pop, rows, t: dict, scale, rng) -> pd.DataFrame:
    """Draw one Table 1 column's covariates by quota: raw codes into `pop`, and the
    canonical frame the outcome equations are solved on (as ingestion will derive it)."""
    n = len(rows)
    age = np.clip(np.rint(quota.normal_exact(*t["age"], n, rng)), 15, 59).astype(int)
    female = _levels(t["female"], scale, n, rng)
    married = _levels(t["married"], scale, n, rng)
    education = _levels(t["education"], scale, n, rng)
    rural = _levels(t["rural_hukou"], scale, n, rng)
    employed = _levels(t["employed"], scale, n, rng)
    urban_area = _levels(t["urban_area"], scale, n, rng)
    scope = _levels(t["migration_scope"], scale, n, rng)
    reason = _levels(t["migration_reason"], scale, n, rng)
    duration_group = _levels(t["migration_duration"], scale, n, rng)
    programme = _levels(t["insurance_programme"], scale, n, rng)
    facility = _levels(t["facility_level"], scale, n, rng)

    pop.loc[rows, "q101c"] = SURVEY_YEAR - age
    pop.loc[rows, "q101b"] = np.where(female, 2, 1)
    pop.loc[rows, "q101g"] = np.where(married, _codes(rng, n, [2, 3], [0.96, 0.04]),
                                      _codes(rng, n, [1, 4, 5, 6], [0.7, 0.15, 0.1, 0.05]))
    pop.loc[rows, "q101e"] = _expand(education, EDUCATION_CODES, rng)
    pop.loc[rows, "q101f"] = np.where(rural, 1, _codes(rng, n, [2, 3], [0.85, 0.15]))
    pop.loc[rows, "q102"] = np.where(employed, 1, 2)
    size = pop.loc[rows, "q104"].to_numpy()
    household_income = np.rint(quota.lognormal_for(*t["income_per_capita"], n, rng) * size)
    pop.loc[rows, "q103"] = household_income
    pop.loc[rows, "q105"] = np.where(urban_area, 1, 2)
    scope_codes = np.array([SCOPE_CODES[s] for s in scope])
    pop.loc[rows, "q106"] = scope_codes
    pop.loc[rows, "q101h"] = hukou_province(pop.loc[rows, "prov"].to_numpy(), scope_codes, rng)
    pop.loc[rows, "q107"] = _expand(reason, REASON_CODES, rng)
    low, high = np.array([DURATION_YEARS[g] for g in duration_group]).T
    # Within the quota group, and never longer than the respondent's life (age >= 15 > 10).
    high = np.minimum(high, age)
    set_arrival(pop, rows, low + (high - low) * rng.random(n))
    hold_one_programme(pop, rows, programme, rng)
    pop.loc[rows, "q306"] = [FACILITY_CODES[f] for f in facility]
    return pd.DataFrame({
        "insurance_programme": _categorical(programme, ["NCMS", "URBMI", "UEBMI"]),
        "age": age, "female": female, "married": married,
        "education": _categorical(education, EDUCATION_CODES),
        "income_per_capita": household_income / size,
        "employed": employed, "rural_hukou": rural, "urban_area": urban_area,
        "migration_scope": _categorical(scope, SCOPE_CODES),
        "migration_reason": _categorical(reason, REASON_CODES),
        "migration_duration": _categorical(duration_group, DURATION_YEARS),
        "facility_level": _categorical(facility, FACILITY_CODES),
    }, index=rows)


def record_benefit_outcomes(pop, frame: pd.DataFrame, outcomes, t1: dict, rng) -> None:
    """Reimbursement items, amounts and costs of the benefit rows, in raw codes.

    Recorded stays: cost = amount / ratio. The other stays (not reimbursed, or amount not
    known) get lognormal costs scaled so each group's mean cost is Table 1's.
    """
    rows = frame.index.to_numpy()
    n = len(rows)
    recorded = outcomes.recorded
    amount = np.maximum(np.rint(outcomes.amount[recorded]), 10.0)
    cost = np.full(n, np.nan)
    cost[recorded] = np.rint(amount / outcomes.ratio[recorded])
    for column in ("ncms", "urban"):
        mean, sd = t1[column]["total_cost"]
        at = (frame["group"] == column).to_numpy()
        rest = at & ~recorded
        budget = mean * at.sum() - np.nansum(cost[at & recorded])
        if budget <= 0:
            raise ValueError(f"{column}: recorded stays alone exceed Table 1's mean cost; "
                             f"the ratio draws are too small for these amounts")
        draws = quota.lognormal_for(mean, sd, int(rest.sum()), rng)
        cost[rest] = np.rint(draws * budget / draws.sum())
    programme = frame["insurance_programme"].astype(str).to_numpy()
    hospitalise(pop, rows, _codes(rng, n, [1, 2], [0.85, 0.15]), 1, pop.loc[rows, "q306"].to_numpy(), cost)
    raw_amount = np.full(n, float(release.AMOUNT_NOT_APPLICABLE))
    raw_amount[outcomes.reimbursed] = release.AMOUNT_DONT_KNOW
    raw_amount[recorded] = amount
    sources = sources_matrix(n, outcomes.reimbursed, programme, rng)
    record_reimbursement(pop, rows, sources, raw_amount, release.NOT_APPLICABLE)


def hold_one_programme(pop, rows, programme: np.ndarray, rng) -> None:
    """Each benefit respondent holds exactly the one programme Table 1 counts."""
    for item in release.INSURANCE_ITEMS:
        held = programme == item.upper()
        local_share = {"ncms": 0.1, "urbmi": 0.8, "uebmi": 0.9, "other": 0.5}[item]
        place = np.where(rng.random(len(rows)) < local_share, 1, 2)
        pop.loc[rows, f"q201_{item}"] = held.astype(int)
        pop.loc[rows, f"q202_{item}"] = np.where(held, place, release.NOT_APPLICABLE)


def plant_no_reimbursement_reasons(pop, not_reimbursed, targets: Targets, rng) -> None:
    """Figure 1's shares among the not reimbursed; the hometown reason rises with scope."""
    shares = dict(targets.no_reimbursement_percent)
    shares["other"] = 100 - sum(shares.values())
    counts = quota.largest_remainder(list(shares.values()), len(not_reimbursed))
    reason = np.full(len(not_reimbursed), 4)
    left = np.arange(len(not_reimbursed))
    scope = pop.loc[not_reimbursed, "q106"].to_numpy()
    scope_weight = np.select([scope == 3, scope == 2, scope == 1], [1.0, 1.6, 2.2])
    for (level, code), k in zip(NO_REIMBURSEMENT_REASONS.items(), counts):
        weights = scope_weight[left] if level == "go_back_hometown" else None
        picked = quota.choose(left, k, rng, weights)
        reason[picked] = code
        left = np.setdiff1d(left, picked)
    pop.loc[not_reimbursed, "q310"] = reason


# -- medical-return study (seed 000) ----------------------------------------------------

def medical_return_pool(pop: pd.DataFrame) -> np.ndarray:
    """Rural hukou, urban residence, at least a year in the city: seed 000's population."""
    months = (SURVEY_YEAR * 12 + SURVEY_MONTH - 1) - (pop["q108y"] * 12 + pop["q108m"] - 1)
    return ((pop["q101f"] == 1) & (pop["q105"] == 1) & (months >= 12)).to_numpy()


def canonical(pop: pd.DataFrame, rows: np.ndarray, book) -> pd.DataFrame:
    """Rows of the release as ingestion will see them: through the codebook and derive.py."""
    from .. import derive
    from ..io import codebook

    frame, _ = codebook.apply_codebook(pop.loc[rows, book.sources].reset_index(drop=True), book)
    return derive.derive_all(frame, book.survey).set_axis(rows)


def plant_medical_return_sample(pop: pd.DataFrame, targets: Targets, rng, taken: np.ndarray, book,
                                scale: int = 1):
    """Seed 000's inpatients around the benefit respondents already among them, and who of
    them went home for care (medical_return_truth.py). Returns the truth and notes."""
    pool = medical_return_pool(pop)
    free = pool.copy()
    free[taken] = False
    benefit_rows = np.flatnonzero(pool & np.isin(np.arange(len(pop)), taken))
    n_planted = scale * targets.medical_return_n - len(benefit_rows)
    if n_planted < 0:
        raise ValueError("the benefit sample alone exceeds the medical-return sample; "
                         "lower datasets.cmds2014.generator.benefit_scale")
    if n_planted + 30 * scale > free.sum():
        raise ValueError(f"medical_return_scale {scale} needs more respondents: raise "
                         f"datasets.cmds2014.generator.n_respondents")
    planted = quota.choose(np.flatnonzero(free), n_planted, rng)
    free[planted] = False
    unknown = quota.choose(np.flatnonzero(free), 30 * scale, rng)  # place not recorded: excluded
    sample_rows = np.sort(np.concatenate([planted, benefit_rows]))
    frame = canonical(pop, sample_rows, book)
    frame["income_quintile"] = benefit_truth.income_quintiles(frame["income_per_capita"])
    is_planted = np.isin(sample_rows, planted)
    returned, truth, notes = medical_return_truth.draw(frame, is_planted, targets.medical_return, rng)
    returners, stayers = sample_rows[returned], sample_rows[is_planted & ~returned]
    n_return = len(returners)
    hospitalise(pop, returners, _codes(rng, n_return, [1, 2, 3], [0.8, 0.1, 0.1]), 2,
                _codes(rng, n_return, [1, 2, 3, 4], [0.3, 0.45, 0.2, 0.05]),
                rng.lognormal(np.log(6000), 0.8, n_return))
    hospitalise(pop, unknown, 1, release.DONT_KNOW, _codes(rng, len(unknown), [1, 2, 3], [0.3, 0.4, 0.3]),
                rng.lognormal(np.log(8000), 0.8, len(unknown)))
    plant_other_city_inpatients(pop, stayers, frame.loc[stayers], rng)
    settle_other_reimbursements(pop, np.concatenate([returners, unknown]), rng)
    return truth, notes


def plant_other_city_inpatients(pop, rows, covariates: pd.DataFrame, rng) -> None:
    """Inpatients who did not go home, kept outside the benefit definition without touching
    the covariates their outcome was drawn on: those without exactly one of NCMS, URBMI and
    UEBMI were treated in the city for illness or injury; singly insured women of 18-45 gave
    birth in the city; the other singly insured were treated in a third place."""
    n = len(rows)
    single = covariates["insurance_programme"].isin(["NCMS", "URBMI", "UEBMI"]).to_numpy()
    mother = single & covariates["female"].to_numpy(dtype=bool) & covariates["age"].between(18, 45).to_numpy()
    place = np.where(single & ~mother, 3, 1)
    reason = np.where(mother, 3, _codes(rng, n, [1, 2], [0.85, 0.15]))
    hospitalise(pop, rows, reason, place, _codes(rng, n, [1, 2, 3, 4, 5], [0.25, 0.4, 0.25, 0.08, 0.02]),
                rng.lognormal(np.log(5000), 0.7, n))
    settle_other_reimbursements(pop, rows, rng)


def settle_other_reimbursements(pop, rows, rng) -> None:
    """Reimbursement items for inpatients outside the benefit sample (plausible, uncalibrated)."""
    n = len(rows)
    held = pop.loc[rows, [f"q201_{i}" for i in ("uebmi", "urbmi", "ncms")]].to_numpy() == 1
    programme = np.select([held[:, 0], held[:, 1], held[:, 2]], ["UEBMI", "URBMI", "NCMS"], "none")
    reimbursed = (programme != "none") & (rng.random(n) < 0.5)
    sources = sources_matrix(n, reimbursed, programme, rng)
    cost = pop.loc[rows, "q307"].to_numpy()
    amount = np.where(reimbursed, np.rint(cost * rng.uniform(0.2, 0.7, n)), release.AMOUNT_NOT_APPLICABLE)
    no_reason = np.where(reimbursed, release.NOT_APPLICABLE,
                         _codes(rng, n, [1, 2, 3, 4], [0.5, 0.2, 0.2, 0.1]))
    record_reimbursement(pop, rows, sources, amount, no_reason)


# -- inequality study (seed 002) --------------------------------------------------------

WORKING_AGE = (16, 59)   # China's minimum legal working age to the survey's upper age


def ncms_workers(pop: pd.DataFrame) -> np.ndarray:
    """Seed 002's population: rural hukou, employed, enrolled in NCMS, of working age."""
    age = SURVEY_YEAR - pop["q101c"]
    return ((pop["q101f"] == 1) & (pop["q102"] == 1) & (pop["q201_ncms"] == 1)
            & age.between(*WORKING_AGE)).to_numpy()


def plant_ncms_worker_use(pop: pd.DataFrame, targets: Targets, rng, book):
    """Illness, outpatient visits and hospitalisations of the NCMS workers, with the
    published rates and concentration indices (inequality_truth.py). Returns truth, notes.

    Extra inpatients are hospitalised in the hometown or elsewhere, so that neither the
    benefit sample (current city) nor the medical-return sample (its population is kept
    out) changes.
    """
    rows = np.flatnonzero(ncms_workers(pop))
    frame = canonical(pop, rows, book)
    already = (pop.loc[rows, "q303"] == 1).to_numpy()
    kept_out = medical_return_pool(pop)[rows] & ~already
    ill, visited, inpatient, truth, notes = inequality_truth.draw(frame, already, kept_out, targets.inequality, rng)
    # The visit item is asked of everyone (check-ups and follow-ups need no recent illness).
    pop.loc[rows, "q301"] = np.where(ill, 1, 2)
    pop.loc[rows, "q302"] = np.where(visited, 1, 2)
    extra = rows[inpatient & ~already]
    hospitalise(pop, extra, _codes(rng, len(extra), [1, 2, 3], [0.75, 0.15, 0.1]),
                _codes(rng, len(extra), [2, 3], [0.7, 0.3]),
                _codes(rng, len(extra), [1, 2, 3, 4], [0.35, 0.4, 0.2, 0.05]),
                rng.lognormal(np.log(5000), 0.8, len(extra)))
    settle_other_reimbursements(pop, extra, rng)
    return truth, notes


def visits_of_everyone_else(pop: pd.DataFrame, rng) -> None:
    """The visit item for respondents the study plantings left without an answer."""
    unanswered = np.flatnonzero((pop["q302"] == release.NOT_APPLICABLE).to_numpy())
    pop.loc[unanswered, "q302"] = _codes(rng, len(unanswered), [1, 2], [0.015, 0.985])


# -- writing ----------------------------------------------------------------------------

def write_sav(raw: pd.DataFrame, path) -> None:
    """The release as SPSS: variable labels, value labels, special codes as user-missing."""
    import pyreadstat

    labels = {name: label for name, (label, _, _) in release.VARIABLES.items()}
    pyreadstat.write_sav(
        raw.astype("float64"), str(path),
        file_label="Synthetic CMDS 2014 (generated; not the real survey)",
        column_labels=labels, variable_value_labels=release.value_labels(),
        missing_ranges=release.user_missing(), row_compress=True,
    )
