"""Respondent-level outcomes and covariates: one small function per variable.

Each function takes the canonical frame (after the codebook) and the survey date, and
returns one column. A missing input gives a missing result, never a silent default,
so that the sample flow can count the row when a filter needs it.
"""

import numpy as np
import pandas as pd

# Seed 001's multiple-response item. Ticking only "commercial insurance" and/or "else"
# counts as no reimbursement from social health insurance; any other source counts as yes.
SOCIAL_SOURCES = [
    "reimb_ncms_allowance",
    "reimb_uebmi_allowance",
    "reimb_employer",
    "reimb_ncms_office",
    "reimb_health_centre",
    "reimb_family_planning_allowance",
    "reimb_family_planning_operation",
]
NON_SOCIAL_SOURCES = ["reimb_commercial", "reimb_else"]
PROGRAMMES = {"holds_ncms": "NCMS", "holds_urbmi": "URBMI", "holds_uebmi": "UEBMI"}
DURATION_GROUPS = [(0, "0-"), (1, "1-"), (5, "5-"), (10, "10+")]


def age(df, survey):
    """Age in completed years at the survey year (the release records the birth year only)."""
    return survey["year"] - df["birth_year"]


def age2(df, survey):
    """Age squared as its own column, as seed 001's Table 3 enters it (a separate effect)."""
    return age(df, survey) ** 2


def female(df, survey):
    return (df["sex"] == "female").astype("boolean").mask(df["sex"].isna())


def married(df, survey):
    """Married (first marriage or remarried) against never married, divorced, widowed, cohabiting."""
    return (df["marital_status"] == "married").astype("boolean").mask(df["marital_status"].isna())


def rural_hukou(df, survey):
    return (df["hukou_type"] == "rural").astype("boolean").mask(df["hukou_type"].isna())


def income_per_capita(df, survey):
    """Monthly household income divided by the household members living in the city."""
    return df["household_income"] / df["household_size"].where(df["household_size"] > 0)


def migration_duration_years(df, survey):
    """Years between the arrival month and the interview month."""
    months = (survey["year"] * 12 + survey["month"]) - (df["arrival_year"] * 12 + df["arrival_month"])
    return months / 12


def migration_duration(df, survey):
    """Seed 001's groups: less than 1 year, 1-, 5-, 10 years and above."""
    years = migration_duration_years(df, survey)
    edges = [lower for lower, _ in DURATION_GROUPS] + [np.inf]
    return pd.cut(years, edges, right=False, labels=[label for _, label in DURATION_GROUPS])


def settle_intention(df, survey):
    """Intends to settle permanently; 'not decided' counts as no intention."""
    return (df["settle_answer"] == "yes").astype("boolean").mask(df["settle_answer"].isna())


def has_social_insurance(df, survey):
    """Holds at least one of NCMS, URBMI, UEBMI."""
    return df[list(PROGRAMMES)].fillna(False).any(axis=1).astype("boolean")


def insurance_programme(df, survey):
    """The single social health insurance programme held; 'multiple' or 'none' otherwise."""
    held = df[list(PROGRAMMES)].fillna(False).astype(bool)
    count = held.sum(axis=1)
    name = held.idxmax(axis=1).map(PROGRAMMES)
    out = np.select([count == 0, count > 1], ["none", "multiple"], name)
    return pd.Categorical(out, categories=["NCMS", "URBMI", "UEBMI", "multiple", "none"])


MEDICAL_INSURANCE = ["local_urban", "NCMS", "urban_elsewhere", "other", "none"]


def medical_insurance(df, survey):
    """Seed 000's insurance type: where the migrant is insured, not only which programme.

    local_urban: UEBMI or URBMI registered in the current city (the paper's reference);
    NCMS: the hometown's rural scheme, without local urban insurance; urban_elsewhere:
    UEBMI/URBMI registered in the hometown or elsewhere; other: only another programme;
    none. A migrant holding several is classed by the first that applies in that order,
    because local insurance is what removes the need to go home for reimbursement.
    """

    def held(column):
        return df[column].fillna(False).astype(bool).to_numpy()

    local = (held("holds_urbmi") & (df["urbmi_place"] == "current_city").to_numpy()) | (
        held("holds_uebmi") & (df["uebmi_place"] == "current_city").to_numpy()
    )
    out = np.select(
        [local, held("holds_ncms"), held("holds_urbmi") | held("holds_uebmi"), held("holds_other_insurance")],
        MEDICAL_INSURANCE[:4],
        "none",
    )
    return pd.Categorical(out, categories=MEDICAL_INSURANCE)


def reimbursed(df, survey):
    """Reimbursed by social health insurance for the last hospitalisation (seed 001's rule).

    Missing when no source is ticked at all (the question was not answered or not asked).
    """
    social = df[SOCIAL_SOURCES].fillna(False).astype(bool).any(axis=1)
    answered = df[SOCIAL_SOURCES + NON_SOCIAL_SOURCES].fillna(False).astype(bool).any(axis=1)
    return social.astype("boolean").mask(~answered)


def reimbursement_ratio(df, survey):
    """Amount reimbursed over the total cost of the stay."""
    return df["reimbursement_amount"] / df["total_cost"].where(df["total_cost"] > 0)


def reimbursement_ratio_pct(df, survey):
    return 100 * reimbursement_ratio(df, survey)


def medical_return(df, survey):
    """Last hospitalisation took place in the hometown (seeds 000 and 003's 'medical return')."""
    place = df["hospitalisation_place"]
    return (place == "hometown").astype("boolean").mask(place.isna())


RESPONDENT_DERIVATIONS = [
    age,
    age2,
    female,
    married,
    rural_hukou,
    income_per_capita,
    migration_duration_years,
    migration_duration,
    settle_intention,
    has_social_insurance,
    insurance_programme,
    medical_insurance,
    reimbursed,
    reimbursement_ratio,
    reimbursement_ratio_pct,
    medical_return,
]
# Derivations per survey (the codebook's `dataset`). The Jinan MEFC codebook forms every
# variable its study needs from the items themselves (groups of codes), so it needs none.
DERIVATIONS = {"cmds2014": RESPONDENT_DERIVATIONS, "jinan_mefc": []}


def derive_all(df: pd.DataFrame, survey: dict, dataset: str = "cmds2014") -> pd.DataFrame:
    """The canonical frame with every respondent-level derivation of its survey appended."""
    out = df.copy()
    for derivation in DERIVATIONS.get(dataset, []):
        out[derivation.__name__] = derivation(out, survey)
    return out
