"""The benefit study's inpatients in the synthetic CMDS (seed 001): Table 1 by quota, and
reimbursement, amount and ratio from outcome equations solved from Tables 1, 3 and 4.

The sample (`plant`): the respondents hospitalised in the current city for illness or injury
who hold social health insurance are drawn by quota from the NCMS and the URBMI+UEBMI columns
of Table 1, so each column's counts are exact by construction; ages, incomes, costs, amounts
and ratios are rescaled to the printed means. The total column follows from the two groups:
the printed total of rural hukou (1,023) disagrees with its own columns (777 + 267 = 1,044);
the synthetic total is 1,044. About 15% of the reimbursed have no amount recorded ("don't
know"), leaving the 663 of the GLM columns. Reasons for no reimbursement follow Figure 1's
quoted shares, the hometown reason weighted 1 : 1.6 : 2.2 by scope so that it rises as in
Figure 2 (the figure's values are not printed).

The data-generating process (DGP), on the covariates drawn for the 1,165:

* participation: P(reimbursed) = Phi(x b) -- a probit;
* amount | reimbursed: Gamma with mean exp(x c) -- Table 3's amount column read as log-scale effects;
* ratio | reimbursed: Beta with mean exp(x d) -- a log-link mean, so the Gamma GLM of the
  paper is correctly specified for it (as a quasi-likelihood), while ratios stay in (0, 1).

x holds the study's covariates (config.yaml: studies.benefit.models.covariates, Table 3's),
with migration scope split by insurance group (scope_ncms, scope_urban) so that each
subsample carries Table 4's scope effects. What is solved:

* participation: every Table 3 AME (all 1,165) except scope and insurance, each subsample's
  Table 4 scope AMEs, each group's reimbursement rate (Table 1), and the URBMI-UEBMI contrast
  within the urban subsample (Table 3's UEBMI minus URBMI): as many equations as unknowns,
  solved by Newton's method on the analytic Jacobian of the AMEs;
* amount: the log-scale effects are the coefficients themselves; each group's draws are
  rescaled to Table 1's mean amount (a shift of its intercept); the Gamma dispersion is
  chosen so that the model-based standard errors match Table 3's on average;
* ratio: as participation, with Table 1's mean ratios; the Beta precision of each group is
  set so that the ratio's SD equals Table 1's.

Reimbursement is drawn as the k largest latent values x b + e within each group, so the
counts of Table 1 hold exactly; the truth uses the realised threshold.

The truth is what the study's three models (config.yaml: studies.benefit.models.equations,
with their family, link, scale and estimand) estimate in the limit. The subsample models are
correctly specified for this DGP, so their truths are the DGP's own effects. The pooled
(total-sample) models are not, by design: Table 4's subsample scope effects cannot all hold
together with Table 3's pooled ones. For them the documented truth is the pooled model's
probability limit (`kind: pooled_limit`), and results/data/cmds2014_synthetic_page.md lists
where it departs from the published pooled numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ..errors import InputError
from ..stats import fit
from ..stats.design import Design, parse_covariate
from ..stats.margins import Part, average_marginal_effects, margins
from . import cmds2014_layout as layout
from . import specs
from .cmds2014_frame import (
    SCOPE_CODES,
    SURVEY_YEAR,
    draw_codes,
    hospitalise,
    hukou_province,
    income_quintiles,
    record_reimbursement,
    set_arrival,
    sources_matrix,
)
from .draws import choose, largest_remainder, lognormal_for, newton, normal_exact, shuffled_levels, top_k

STUDY = "benefit"
# The study's equations the DGP is solved for; Tables 3 and 4 print one column of each.
EQUATIONS = ("participation", "amount", "ratio")
GROUPS = ("ncms", "urban")
SPLIT = {"migration_scope": "scope"}  # the term whose effects differ by insurance group

# Canonical levels of Table 1 -> raw codes of the release, with the mix within a level.
EDUCATION_CODES = {
    "primary_or_below": ([1, 2], [0.15, 0.85]),
    "junior_high": ([3], [1.0]),
    "senior_high": ([4, 5], [0.7, 0.3]),
    "college_or_above": ([6, 7, 8], [0.6, 0.37, 0.03]),
}
REASON_CODES = {"job": ([1], [1.0]), "family": ([2], [1.0]), "other": ([3, 4, 5, 6], [0.4, 0.1, 0.1, 0.4])}
FACILITY_CODES = {"primary": 1, "secondary": 2, "tertiary": 3, "private": 4}
DURATION_YEARS = {"0-": (0.0, 1.0), "1-": (1.0, 5.0), "5-": (5.0, 10.0), "10+": (10.0, 20.0)}
NO_REIMBURSEMENT_REASONS = {"go_back_hometown": 1, "unaware_of_process": 2, "policy_coverage": 3}


def plant(pop: pd.DataFrame, published: dict, studies: dict, rng: np.random.Generator, scale: int = 1):
    """Table 1's NCMS and URBMI+UEBMI columns by quota, then outcomes from Tables 3-4.

    published: data/published/benefit.yaml; studies: config entries (studies.benefit.models is
    read); scale multiplies the sample. Returns the planted rows, the documented truth of the
    outcome equations, and notes.
    """
    models = specs.study_models(studies, STUDY, "CMDS 2014")
    t1 = table1_targets(published)
    sizes = {c: scale * sum(t1[c]["insurance_programme"].values()) for c in GROUPS}
    rows = choose(np.arange(len(pop)), sum(sizes.values()), rng)
    rng.shuffle(rows)
    by_column = {"ncms": np.sort(rows[: sizes["ncms"]]), "urban": np.sort(rows[sizes["ncms"] :])}
    frame = pd.concat(
        [draw_covariates(pop, col_rows, t1[c], scale, rng).assign(group=c) for c, col_rows in by_column.items()]
    )
    frame["income_quintile"] = income_quintiles(frame["income_per_capita"])
    frame["age2"] = frame["age"].astype(float) ** 2
    n_glm = next(s["value"] for s in published["samples"] if s["quantity"] == "n_glm")
    reimbursed_total = sum(scale * t1[c]["reimbursed"]["True"] for c in by_column)
    counts = {}
    for c in by_column:
        reimbursed_n = scale * t1[c]["reimbursed"]["True"]
        counts[c] = {
            "reimbursed": reimbursed_n,
            "recorded": int(round(scale * n_glm * reimbursed_n / reimbursed_total)),
        }
    outcomes = draw_outcomes(frame, models, published, t1, counts, rng)
    record_outcomes(pop, frame, outcomes, t1, rng)
    plant_no_reimbursement_reasons(pop, np.sort(frame.index[~outcomes.reimbursed]), published, rng)
    return np.sort(rows), outcomes.truth, outcomes.notes


# -- the sample, by quota ----------------------------------------------------------------


def table1_targets(published: dict) -> dict:
    """Table 1 as quotas: column (ncms, urban) -> term -> {level: count} or (mean, sd)."""
    table1: dict = {"ncms": {}, "urban": {}}
    for row in published["table1"]["rows"]:
        for column in table1:
            if column not in row:
                continue
            first, second = row[column]
            if row["stat"] == "mean":
                table1[column][row["term"]] = (first, second)
            else:
                table1[column].setdefault(row["term"], {})[row["level"]] = int(first)
    table1["ncms"]["insurance_programme"] = {"NCMS": published["table1"]["n"]["ncms"]}
    return table1


def _levels(target: dict, scale: int, n: int, rng) -> np.ndarray:
    """Exact counts of each level (scaled), in random order; binary terms give booleans."""
    counts = {level: scale * c for level, c in target.items()}
    if set(counts) == {"True"}:
        counts["False"] = n - counts["True"]
        return shuffled_levels(list(counts), list(counts.values()), rng) == "True"
    return shuffled_levels(list(counts), list(counts.values()), rng)


def _expand(levels: np.ndarray, code_map: dict, rng) -> np.ndarray:
    """Canonical levels -> raw codes, choosing within a level by its mix."""
    out = np.empty(len(levels), dtype=int)
    for level, (codes, p) in code_map.items():
        at = levels == level
        out[at] = draw_codes(rng, at.sum(), codes, p)
    return out


def _categorical(levels: np.ndarray, categories) -> pd.Categorical:
    return pd.Categorical(levels, categories=list(categories))


def draw_covariates(pop, rows, t: dict, scale, rng) -> pd.DataFrame:
    """Draw one Table 1 column's covariates by quota: raw codes into `pop`, and the
    canonical frame the outcome equations are solved on (as ingestion will derive it)."""
    n = len(rows)
    age = np.clip(np.rint(normal_exact(*t["age"], n, rng)), 15, 59).astype(int)
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
    pop.loc[rows, "q101g"] = np.where(
        married, draw_codes(rng, n, [2, 3], [0.96, 0.04]), draw_codes(rng, n, [1, 4, 5, 6], [0.7, 0.15, 0.1, 0.05])
    )
    pop.loc[rows, "q101e"] = _expand(education, EDUCATION_CODES, rng)
    pop.loc[rows, "q101f"] = np.where(rural, 1, draw_codes(rng, n, [2, 3], [0.85, 0.15]))
    pop.loc[rows, "q102"] = np.where(employed, 1, 2)
    size = pop.loc[rows, "q104"].to_numpy()
    household_income = np.rint(lognormal_for(*t["income_per_capita"], n, rng) * size)
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
    return pd.DataFrame(
        {
            "insurance_programme": _categorical(programme, ["NCMS", "URBMI", "UEBMI"]),
            "age": age,
            "female": female,
            "married": married,
            "education": _categorical(education, EDUCATION_CODES),
            "income_per_capita": household_income / size,
            "employed": employed,
            "rural_hukou": rural,
            "urban_area": urban_area,
            "migration_scope": _categorical(scope, SCOPE_CODES),
            "migration_reason": _categorical(reason, REASON_CODES),
            "migration_duration": _categorical(duration_group, DURATION_YEARS),
            "facility_level": _categorical(facility, FACILITY_CODES),
        },
        index=rows,
    )


def hold_one_programme(pop, rows, programme: np.ndarray, rng) -> None:
    """Each benefit respondent holds exactly the one programme Table 1 counts."""
    for item in layout.INSURANCE_ITEMS:
        held = programme == item.upper()
        local_share = {"ncms": 0.1, "urbmi": 0.8, "uebmi": 0.9, "other": 0.5}[item]
        place = np.where(rng.random(len(rows)) < local_share, 1, 2)
        pop.loc[rows, f"q201_{item}"] = held.astype(int)
        pop.loc[rows, f"q202_{item}"] = np.where(held, place, layout.NOT_APPLICABLE)


def record_outcomes(pop, frame: pd.DataFrame, outcomes: Outcomes, t1: dict, rng) -> None:
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
    for column in GROUPS:
        mean, sd = t1[column]["total_cost"]
        at = (frame["group"] == column).to_numpy()
        rest = at & ~recorded
        budget = mean * at.sum() - np.nansum(cost[at & recorded])
        if budget <= 0:
            raise ValueError(
                f"{column}: recorded stays alone exceed Table 1's mean cost; "
                f"the ratio draws are too small for these amounts"
            )
        draws = lognormal_for(mean, sd, int(rest.sum()), rng)
        cost[rest] = np.rint(draws * budget / draws.sum())
    programme = frame["insurance_programme"].astype(str).to_numpy()
    hospitalise(pop, rows, draw_codes(rng, n, [1, 2], [0.85, 0.15]), 1, pop.loc[rows, "q306"].to_numpy(), cost)
    raw_amount = np.full(n, float(layout.AMOUNT_NOT_APPLICABLE))
    raw_amount[outcomes.reimbursed] = layout.AMOUNT_DONT_KNOW
    raw_amount[recorded] = amount
    sources = sources_matrix(n, outcomes.reimbursed, programme, rng)
    record_reimbursement(pop, rows, sources, raw_amount, layout.NOT_APPLICABLE)


def plant_no_reimbursement_reasons(pop, not_reimbursed, published: dict, rng) -> None:
    """Figure 1's shares among the not reimbursed; the hometown reason rises with scope."""
    shares = {s["level"]: s["percent"] for s in published["figure1"]["shares"]}
    shares["other"] = 100 - sum(shares.values())
    counts = largest_remainder(list(shares.values()), len(not_reimbursed))
    reason = np.full(len(not_reimbursed), 4)
    left = np.arange(len(not_reimbursed))
    scope = pop.loc[not_reimbursed, "q106"].to_numpy()
    scope_weight = np.select([scope == 3, scope == 2, scope == 1], [1.0, 1.6, 2.2])
    for (level, code), k in zip(NO_REIMBURSEMENT_REASONS.items(), counts):
        weights = scope_weight[left] if level == "go_back_hometown" else None
        picked = choose(left, k, rng, weights)
        reason[picked] = code
        left = np.setdiff1d(left, picked)
    pop.loc[not_reimbursed, "q310"] = reason


# -- the outcome equations -----------------------------------------------------------------


@dataclass
class Equation:
    """A DGP equation, shaped like a fitted model so the margins code can evaluate it."""

    design: Design
    params: np.ndarray
    link: object
    data: object = None
    X: object = None
    n_obs: int = 0

    @property
    def cov(self):
        return np.zeros((len(self.params), len(self.params)))


@dataclass
class Outcomes:
    reimbursed: np.ndarray
    recorded: np.ndarray
    amount: np.ndarray  # NaN where not recorded
    ratio: np.ndarray  # NaN where not recorded
    truth: pd.DataFrame
    notes: list


def draw_outcomes(
    frame: pd.DataFrame, models: dict, published: dict, table1: dict, counts: dict, rng: np.random.Generator
) -> Outcomes:
    """Outcomes for the benefit rows in `frame` (canonical covariates and `group`).

    models: studies.benefit.models; published: benefit.yaml (Tables 3 and 4); table1: Table 1's
    quotas (group -> term -> (mean, sd)); counts: per group, 'reimbursed' and 'recorded'.
    """
    table3, table4 = published["table3"], published["table4"]
    frame = with_group_scope(frame)
    design = _dgp_design(models["covariates"], table3, frame)
    group = frame["group"].to_numpy()
    probit, reimbursed = _participation(design, frame, table3, table4, counts, rng)
    recorded = np.zeros(len(frame), dtype=bool)
    for g in GROUPS:
        idx = np.flatnonzero(reimbursed & (group == g))
        recorded[rng.choice(idx, counts[g]["recorded"], replace=False)] = True
    glm_rows = frame[recorded]
    amount_eq, amount_draw, notes = _amount(design, glm_rows, models, table1, table3, table4, rng)
    ratio_eq, ratio_mu, ratio_draw, ratio_notes = _ratio(design, glm_rows, table1, table3, table4, rng)

    amount = np.full(len(frame), np.nan)
    ratio = np.full(len(frame), np.nan)
    amount[recorded], ratio[recorded] = amount_draw, ratio_draw
    X = design.matrix(glm_rows)
    expected = {
        "participation": (frame, probit.link.inverse(design.matrix(frame) @ probit.params)),
        "amount": (glm_rows, np.exp(X @ amount_eq.params)),
        "ratio": (glm_rows, ratio_mu),
    }
    return Outcomes(reimbursed, recorded, amount, ratio, truth_table(expected, models), notes + ratio_notes)


def _participation(design: Design, frame: pd.DataFrame, table3: dict, table4: dict, counts: dict, rng):
    """The probit solved on all rows, then the k largest latent values per group; its
    intercepts moved by the realised thresholds. Returns (equation, reimbursed)."""
    group = frame["group"].to_numpy()
    rates = {g: counts[g]["reimbursed"] / (group == g).sum() for g in GROUPS}
    start = np.zeros(len(design.column_names()))
    start[-1] = sm.families.links.Probit()(np.mean(list(rates.values())))
    probit = Equation(design, start, sm.families.links.Probit())
    probit.params = solve(
        probit, frame, _targets(table3, table4, "participation", design), rates, _contrast(table3, "participation")
    )
    latent = design.matrix(frame) @ probit.params + rng.standard_normal(len(frame))
    reimbursed = np.zeros(len(frame), dtype=bool)
    thresholds = {}
    for g in GROUPS:
        idx = np.flatnonzero(group == g)
        chosen, thresholds[g] = top_k(latent[idx], counts[g]["reimbursed"])
        reimbursed[idx[chosen]] = True
    probit.params = _shift_groups(design, probit.params, {g: -t for g, t in thresholds.items()})
    return probit, reimbursed


def _amount(design: Design, glm_rows: pd.DataFrame, models: dict, table1: dict, table3: dict, table4: dict, rng):
    """Log-scale effects are the coefficients; group means rescaled to Table 1's, then the
    urban group's balanced against Table 3's insurance effects. Returns (equation, draws, notes)."""
    amount_eq = Equation(design, _amount_coefficients(design, table3, table4), sm.families.links.Log())
    X = design.matrix(glm_rows)
    mu = np.exp(X @ amount_eq.params)
    dispersion = _gamma_dispersion(X, table3)
    amount_draw = rng.gamma(1 / dispersion, mu * dispersion)
    shifts = {}
    for g in GROUPS:
        at = glm_rows["group"].to_numpy() == g
        target = table1[g]["reimbursement_amount"][0]
        factor = target / amount_draw[at].mean()
        amount_draw[at] *= factor
        shifts[g] = np.log(factor)
    amount_eq.params = _shift_groups(design, amount_eq.params, shifts)
    delta, scales = _balance_amount_groups(amount_eq, glm_rows, amount_draw, models, table3)
    at_urban = glm_rows["group"].to_numpy() == "urban"
    amount_draw *= np.where(at_urban, scales["urban"], scales["ncms"])
    amount_eq.params = _shift_groups(design, amount_eq.params, {g: np.log(scales[g]) for g in GROUPS})
    notes = [
        f"amount: urban log-mean raised by {delta:.3f} against NCMS (group means x{scales['ncms']:.3f} "
        f"NCMS, x{scales['urban']:.3f} urban of Table 1's) to bring the pooled insurance effects "
        f"toward Table 3's",
        f"amount: Gamma dispersion {dispersion:.3f} (shape {1 / dispersion:.3f}), chosen so the "
        f"model-based standard errors match Table 3's on average",
    ]
    return amount_eq, amount_draw, notes


def _ratio(design: Design, glm_rows: pd.DataFrame, table1: dict, table3: dict, table4: dict, rng):
    """Log-link mean solved like participation; Beta precision from Table 1's SD.
    Returns (equation, expected ratios, draws, notes)."""
    ratio_eq = Equation(design, np.zeros(len(design.column_names())), sm.families.links.Log())
    ratio_eq.params[-1] = np.log(0.45)
    means = {g: table1[g]["reimbursement_ratio_pct"][0] / 100 for g in GROUPS}
    ratio_eq.params = solve(
        ratio_eq, glm_rows, _targets(table3, table4, "ratio", design), means, _contrast(table3, "ratio")
    )
    mu = np.exp(design.matrix(glm_rows) @ ratio_eq.params)
    notes = []
    if (mu >= 0.97).any():
        notes.append(f"ratio: {int((mu >= 0.97).sum())} expected ratios above 0.97 capped there")
        mu = np.minimum(mu, 0.97)
    ratio_draw = np.empty(len(mu))
    for g in GROUPS:
        at = glm_rows["group"].to_numpy() == g
        sd = table1[g]["reimbursement_ratio_pct"][1] / 100
        precision = max(np.mean(mu[at] * (1 - mu[at])) / (sd**2 - np.var(mu[at])) - 1, 2.0)
        notes.append(f"ratio: Beta precision {precision:.2f} in the {g} group (Table 1 SD {sd:.4f})")
        ratio_draw[at] = rng.beta(mu[at] * precision, (1 - mu[at]) * precision)
    return ratio_eq, mu, ratio_draw, notes


def _dgp_design(covariates: list, table3: dict, frame: pd.DataFrame) -> Design:
    """The study's covariates, with scope split by group; each must have Table 3 rows."""
    terms = [parse_covariate(c).variable for c in covariates]
    printed = {r["term"] for r in table3["rows"]}
    unprinted = [t for t in terms if t not in printed]
    if unprinted:
        raise InputError(
            f"config.yaml: studies.{STUDY}.models.covariates: {', '.join(unprinted)} "
            f"{'has' if len(unprinted) == 1 else 'have'} no row in Table 3 (data/published/benefit.yaml) "
            f"to calibrate the synthetic outcomes to."
        )
    needed = [t for t in ("insurance_programme", *SPLIT) if t not in terms]
    if needed:
        raise InputError(
            f"config.yaml: studies.{STUDY}.models.covariates must include {', '.join(needed)}: "
            f"the synthetic outcomes differ by insurance group through them."
        )
    split = []
    for c in covariates:
        if isinstance(c, dict) and c.get("factor") in SPLIT:
            split += [{"factor": f"{SPLIT[c['factor']]}_{g}", "reference": c["reference"]} for g in GROUPS]
        else:
            split.append(c)
    return Design.from_data(split, frame, where="synthetic benefit DGP")


def with_group_scope(frame: pd.DataFrame) -> pd.DataFrame:
    """scope_ncms / scope_urban: the row's scope in its own group, the reference elsewhere."""
    out = frame.copy()
    for term, prefix in SPLIT.items():
        reference = "within_city"
        for g in GROUPS:
            values = np.where(out["group"] == g, out[term].astype(object), reference)
            out[f"{prefix}_{g}"] = pd.Categorical(values, categories=list(out[term].cat.categories))
    return out


def _published(table: dict, equation: str, sample: str | None = None) -> dict:
    """(term, level) -> published estimate of one equation's column."""
    return {
        (r["term"], str(r.get("level", ""))): r[equation][0]
        for r in table["rows"]
        if sample is None or r.get("sample") == sample
    }


# -- moments: what the solver matches ------------------------------------------------------


class _Rows:
    """Rows the solver evaluates at every step, with the design's values and columns there, taken
    once: between steps only the parameters change (at 100 times the published n, rebuilding the
    columns was most of the solver's time)."""

    def __init__(self, design: Design, frame: pd.DataFrame):
        self.values = design.values(frame)
        self.X = design.matrix(self.values, len(frame))

    def part(self, eq: Equation, scale: str) -> Part:
        return Part(eq, self.X, self.values, scale)


def _effects(eq: Equation, rows: _Rows, variables: list, scale: str) -> dict:
    """(variable, level) -> (AME, gradient in the parameters) over `rows`."""
    m = average_marginal_effects([rows.part(eq, scale)], np.ones(len(rows.X)), variables)
    return {(v, lvl): (est, jac) for (v, lvl, _), est, jac in zip(m.labels, m.estimates, m.jacobian)}


def _mean(eq: Equation, rows: _Rows):
    eta = rows.X @ eq.params
    return eq.link.inverse(eta).mean(), (eq.link.inverse_deriv(eta)[:, None] * rows.X).mean(axis=0)


def _moments(eq: Equation, rows: dict, targets: dict, means: dict, contrast: float):
    """Stacked (value - target, gradient) of every calibration equation; `rows`: all rows ("all")
    and each group's."""
    shared = [t for t in dict.fromkeys(v for v, _ in targets["shared"])]
    blocks = [(_effects(eq, rows["all"], shared, "response"), targets["shared"])]
    for g in GROUPS:
        blocks.append(
            (
                _effects(eq, rows[g], [f"scope_{g}"], "response"),
                {(f"scope_{g}", lvl): v for (_, lvl), v in targets[g].items()},
            )
        )
    values, grads = [], []
    for effects, wanted in blocks:
        for key, target in wanted.items():
            values.append(effects[key][0] - target)
            grads.append(effects[key][1])
    for g, target in means.items():
        value, grad = _mean(eq, rows[g])
        values.append(value - target)
        grads.append(grad)
    urban = _effects(eq, rows["urban"], ["insurance_programme"], "response")
    values.append(urban[("insurance_programme", "UEBMI")][0] - urban[("insurance_programme", "URBMI")][0] - contrast)
    grads.append(urban[("insurance_programme", "UEBMI")][1] - urban[("insurance_programme", "URBMI")][1])
    return np.array(values), np.array(grads)


def solve(eq: Equation, frame: pd.DataFrame, targets: dict, means: dict, contrast: float) -> np.ndarray:
    """Parameters whose AMEs, group means and contrast hit the targets (as many equations as
    parameters): damped Newton on the analytic Jacobian of the AMEs."""
    rows = {"all": _Rows(eq.design, frame), **{g: _Rows(eq.design, frame[frame["group"] == g]) for g in GROUPS}}

    def gaps(params):
        return _moments(Equation(eq.design, params, eq.link), rows, targets, means, contrast)

    return newton(gaps, eq.params, "synthetic benefit DGP", analytic=True, damped=True, tol=1e-10)


def _targets(table3: dict, table4: dict, equation: str, design: Design) -> dict:
    """Table 3's effects of the design's shared terms, and Table 4's scope effects per group."""
    t3 = _published(table3, equation)
    shared = {
        k: v for k, v in t3.items() if k[0] in design.variables and k[0] not in SPLIT and k[0] != "insurance_programme"
    }
    return {"shared": shared, **{g: dict(_published(table4, equation, g)) for g in GROUPS}}


def _contrast(table3: dict, equation: str) -> float:
    t3 = _published(table3, equation)
    return t3[("insurance_programme", "UEBMI")] - t3[("insurance_programme", "URBMI")]


def _shift_groups(design: Design, params: np.ndarray, shifts: dict) -> np.ndarray:
    """Add shifts[g] to group g's linear predictor (NCMS: intercept; urban: URBMI and UEBMI)."""
    out = params.copy()
    names = design.column_names()
    out[names.index("_cons")] += shifts["ncms"]
    for level in ("URBMI", "UEBMI"):
        out[names.index(f"insurance_programme={level}")] += shifts["urban"] - shifts["ncms"]
    return out


def _amount_coefficients(design: Design, table3: dict, table4: dict) -> np.ndarray:
    published = _published(table3, "amount")
    by_group = {g: _published(table4, "amount", g) for g in GROUPS}
    params = np.zeros(len(design.column_names()))
    for j, name in enumerate(design.column_names()):
        term, _, level = name.partition("=")
        if term.startswith("scope_"):
            params[j] = by_group[term.split("_")[1]][("migration_scope", level)]
        elif term == "insurance_programme":
            params[j] = 0.0 if level == "URBMI" else _contrast(table3, "amount")
        elif term != "_cons":
            params[j] = published[(term, level)]
    return params


def _balance_amount_groups(
    eq: Equation, glm_rows: pd.DataFrame, amounts: np.ndarray, models: dict, table3: dict, tolerance: float = 0.08
):
    """Table 1's group mean amounts (log ratio 0.165) and Table 3's insurance effects on the log
    amount (about 0.37 adjusted) cannot both hold. Shifting the urban group's log-mean by
    delta moves the pooled model's URBMI and UEBMI effects by exactly delta (their dummies
    span the urban group); delta is the published-SE-weighted gap, bounded so that each group's
    mean stays within `tolerance` of Table 1's and the overall mean stays Table 1's."""
    spec = specs.limit_spec(models, "amount", STUDY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = fit(spec, glm_rows.assign(**{spec.outcome: np.exp(eq.design.matrix(glm_rows) @ eq.params)}))
    effects = margins(pooled, scale=specs.equation(models, "amount", STUDY).get("scale", "response"))
    limits = {lv: v for (t, lv, _), v in zip(effects.labels, effects.estimates) if t == "insurance_programme"}
    published = {r["level"]: r["amount"] for r in table3["rows"] if r["term"] == "insurance_programme"}
    weights = {lv: 1 / published[lv][1] ** 2 for lv in published}
    wanted = sum(weights[lv] * (published[lv][0] - limits[lv]) for lv in published) / sum(weights.values())
    urban = glm_rows["group"].to_numpy() == "urban"
    totals = {"ncms": amounts[~urban].sum(), "urban": amounts[urban].sum()}

    def scales(delta):
        a = (totals["ncms"] + totals["urban"]) / (totals["ncms"] + np.exp(delta) * totals["urban"])
        return {"ncms": a, "urban": a * np.exp(delta)}

    delta = wanted
    while max(abs(v - 1) for v in scales(delta).values()) > tolerance:
        delta *= 0.99
    return delta, scales(delta)


def _gamma_dispersion(X: np.ndarray, table3: dict) -> float:
    """phi such that sqrt(phi [(X'X)^-1]_kk), the log-link Gamma model SEs, match Table 3's
    at the published n (a scaled-up sample keeps the same dispersion, not the same SEs)."""
    unit = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * len(X) / table3["columns"]["amount"]["n"])
    published_se = np.array([r["amount"][1] for r in table3["rows"]])
    # Column order of the DGP design differs from Table 3 (scope split); match by median.
    return float(np.median(published_se[published_se > 0]) ** 2 / np.median(unit[:-1]) ** 2)


# -- documented truth -----------------------------------------------------------------------


def truth_table(expected: dict, models: dict) -> pd.DataFrame:
    """What each of the study's nine models (three equations, three samples) estimates in the
    limit, on the generated covariates. `expected`: equation -> (rows, expected outcomes).

    The study's model is fitted to the DGP's expected outcomes: its quasi-likelihood
    equations are then those of an infinite sample with these covariates, so the fit is the
    model's probability limit. For the subsample models, which are correctly specified,
    that is the DGP's own effects ("dgp"); for the pooled models, which are not, it is what
    they converge to ("pooled_limit"), the number to set beside the published pooled one.
    """
    rows = []
    for name, (frame, values) in expected.items():
        spec = specs.limit_spec(models, name, STUDY)
        eq = specs.equation(models, name, STUDY)
        data = frame.assign(**{spec.outcome: values})
        for sample in ("total",) + GROUPS:
            sub = data if sample == "total" else data[data["group"] == sample]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = fit(spec, sub)
            m = margins(fitted, scale=eq.get("scale", "response"), estimand=eq.get("estimand"))
            for (term, level, reference), value in zip(m.labels, m.estimates):
                rows.append(
                    {
                        "model": name,
                        "sample": sample,
                        "equation": spec.outcome,
                        "term": term,
                        "level": level,
                        "reference": reference,
                        "estimand": m.estimand,
                        "truth": value,
                        "kind": "pooled_limit" if sample == "total" else "dgp",
                        "n_obs": len(sub),
                    }
                )
    return pd.DataFrame(rows)
