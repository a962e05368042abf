"""Respondent-level outcomes and covariates that the studies share: one small function per
variable, grouped in derivation sets by survey (the codebook's `survey:`), never by the name
a dataset has in config.yaml.

Each function takes the canonical frame (after the codebook) and the interview date, and
returns one column. A missing input gives a missing result, never a silent default, so that
the sample flow can count the row when a filter needs it.

A derivation declares the canonical variables it reads (`Derivation.inputs`). `plan` says,
for a codebook, which derivations run: one whose output the codebook declares itself is not
run (the codebook's declaration is the variable); one whose inputs the codebook does not
provide cannot run. The workflow checks before any job that every variable a study needs is
declared or derivable (requirements.py); ingestion reports the derivations it could not run.

The registry is read while the workflow is parsed, so this module imports numpy and pandas
inside the functions that need them, never at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import InputError, closest

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
# The item's "no reimbursement" option (false throughout when a release's item has none).
NO_REIMBURSEMENT = "reimb_none"
PROGRAMMES = {"holds_ncms": "NCMS", "holds_urbmi": "URBMI", "holds_uebmi": "UEBMI"}
DURATION_GROUPS = [(0, "0-"), (1, "1-"), (5, "5-"), (10, "10+")]


def _ticked(df, columns):
    """True where each boolean column is true (missing counts as not true)."""
    return df[columns].fillna(False).astype(bool)


def age(df, interview):
    """Age in completed years at the interview year (the release records the birth year only)."""
    return interview["year"] - df["birth_year"]


def age2(df, interview):
    """Age squared as its own column, as seed 001's Table 3 enters it (a separate effect)."""
    return df["age"] ** 2


def female(df, interview):
    return (df["sex"] == "female").astype("boolean").mask(df["sex"].isna())


def married(df, interview):
    """Married (first marriage or remarried) against never married, divorced, widowed, cohabiting."""
    return (df["marital_status"] == "married").astype("boolean").mask(df["marital_status"].isna())


def rural_hukou(df, interview):
    return (df["hukou_type"] == "rural").astype("boolean").mask(df["hukou_type"].isna())


def income_per_capita(df, interview):
    """Monthly household income divided by the household members living in the city."""
    return df["household_income"] / df["household_size"].where(df["household_size"] > 0)


def migration_duration_years(df, interview):
    """Years between the arrival month and the interview month."""
    months = (interview["year"] * 12 + interview["month"]) - (df["arrival_year"] * 12 + df["arrival_month"])
    return months / 12


def migration_duration(df, interview):
    """Seed 001's groups: less than 1 year, 1-, 5-, 10 years and above."""
    import numpy as np
    import pandas as pd

    edges = [lower for lower, _ in DURATION_GROUPS] + [np.inf]
    return pd.cut(df["migration_duration_years"], edges, right=False, labels=[label for _, label in DURATION_GROUPS])


def settle_intention(df, interview):
    """Intends to settle permanently; 'not decided' counts as no intention."""
    return (df["settle_answer"] == "yes").astype("boolean").mask(df["settle_answer"].isna())


def has_social_insurance(df, interview):
    """Holds at least one of NCMS, URBMI, UEBMI."""
    return df[list(PROGRAMMES)].fillna(False).any(axis=1).astype("boolean")


def insurance_programme(df, interview):
    """The single social health insurance programme held; 'multiple' or 'none' otherwise."""
    import numpy as np
    import pandas as pd

    held = _ticked(df, list(PROGRAMMES))
    count = held.sum(axis=1)
    name = held.idxmax(axis=1).map(PROGRAMMES)
    out = np.select([count == 0, count > 1], ["none", "multiple"], name)
    return pd.Categorical(out, categories=["NCMS", "URBMI", "UEBMI", "multiple", "none"])


MEDICAL_INSURANCE = ["local_urban", "NCMS", "urban_elsewhere", "other", "none"]


def medical_insurance(df, interview):
    """Seed 000's insurance type: where the migrant is insured, not only which programme.

    local_urban: UEBMI or URBMI registered in the current city (the paper's reference);
    NCMS: the hometown's rural scheme, without local urban insurance; urban_elsewhere:
    UEBMI/URBMI registered in the hometown or elsewhere; other: only another programme;
    none. A migrant holding several is classed by the first that applies in that order,
    because local insurance is what removes the need to go home for reimbursement.
    """
    import numpy as np
    import pandas as pd

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


def reimbursed(df, interview):
    """Reimbursed by social health insurance for the last hospitalisation (seed 001's rule).

    Answered: any option ticked, "no reimbursement" included (`reimb_none`; a release whose
    item has no such option declares it false). Missing when nothing is ticked at all (the
    question was not answered, or not asked).
    """
    social = _ticked(df, SOCIAL_SOURCES).any(axis=1)
    answered = _ticked(df, SOCIAL_SOURCES + NON_SOCIAL_SOURCES + [NO_REIMBURSEMENT]).any(axis=1)
    return social.astype("boolean").mask(~answered)


def reimbursement_ratio(df, interview):
    """Amount reimbursed over the total cost of the stay."""
    return df["reimbursement_amount"] / df["total_cost"].where(df["total_cost"] > 0)


def reimbursement_ratio_pct(df, interview):
    return 100 * df["reimbursement_ratio"]


def medical_return(df, interview):
    """Last hospitalisation took place in the hometown (seeds 000 and 003's 'medical return')."""
    place = df["hospitalisation_place"]
    return (place == "hometown").astype("boolean").mask(place.isna())


@dataclass(frozen=True)
class Derivation:
    """A derived variable (named as its function) and the canonical variables it reads."""

    function: Callable
    inputs: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.function.__name__


CMDS = (
    Derivation(age, ("birth_year",)),
    Derivation(age2, ("age",)),
    Derivation(female, ("sex",)),
    Derivation(married, ("marital_status",)),
    Derivation(rural_hukou, ("hukou_type",)),
    Derivation(income_per_capita, ("household_income", "household_size")),
    Derivation(migration_duration_years, ("arrival_year", "arrival_month")),
    Derivation(migration_duration, ("migration_duration_years",)),
    Derivation(settle_intention, ("settle_answer",)),
    Derivation(has_social_insurance, tuple(PROGRAMMES)),
    Derivation(insurance_programme, tuple(PROGRAMMES)),
    Derivation(
        medical_insurance,
        (*PROGRAMMES, "holds_other_insurance", "urbmi_place", "uebmi_place"),
    ),
    Derivation(reimbursed, (*SOCIAL_SOURCES, *NON_SOCIAL_SOURCES, NO_REIMBURSEMENT)),
    Derivation(reimbursement_ratio, ("reimbursement_amount", "total_cost")),
    Derivation(reimbursement_ratio_pct, ("reimbursement_ratio",)),
    Derivation(medical_return, ("hospitalisation_place",)),
)
# Derivation sets by survey (the codebook's `survey:`), whatever the wave. The Jinan MEFC
# codebook forms every variable its study needs from the items themselves, so it needs none.
SURVEYS = {"cmds": CMDS, "jinan_mefc": ()}


def derivations(survey: str, where: str) -> tuple[Derivation, ...]:
    """The derivation set of a survey, or InputError naming the known ones."""
    if survey not in SURVEYS:
        raise InputError(
            f"{where}: survey: '{survey}' is not a known survey; known: {', '.join(SURVEYS)}"
            f"{closest(str(survey), SURVEYS)}. Derivations are looked up by the survey the codebook names "
            f"(a new wave of CMDS is `survey: cmds` with its own `wave:`)."
        )
    return SURVEYS[survey]


@dataclass(frozen=True)
class Plan:
    """Which of a survey's derivations run on a codebook's variables, in order, and which do not:
    declared by the codebook itself, or lacking inputs (name -> the missing inputs)."""

    run: tuple[Derivation, ...]
    declared: tuple[str, ...]
    lacking: dict


def plan(survey: str, declared, where: str) -> Plan:
    available, run, overridden, lacking = set(declared), [], [], {}
    for derivation in derivations(survey, where):
        if derivation.name in available:
            overridden.append(derivation.name)
            continue
        missing = [name for name in derivation.inputs if name not in available]
        if missing:
            lacking[derivation.name] = missing
            continue
        run.append(derivation)
        available.add(derivation.name)
    return Plan(tuple(run), tuple(overridden), lacking)


def derive_all(df, survey: str, interview: dict, where: str = "codebook"):
    """The canonical frame with every derivation of its survey that can run appended."""
    out = df.copy()
    for derivation in plan(survey, df.columns, where).run:
        out[derivation.name] = derivation.function(out, interview)
    return out
