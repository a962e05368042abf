"""Respondent-level derivations on hand-made rows."""

import numpy as np
import pandas as pd

from migrant_health import derive

SURVEY = {"year": 2014, "month": 5}


def sources(**ticked):
    """One respondent's answers to the reimbursement item (the nine sources and "no reimbursement")."""
    cols = derive.SOCIAL_SOURCES + derive.NON_SOCIAL_SOURCES + [derive.NO_REIMBURSEMENT]
    return {c: ticked.get(c, False) for c in cols}


def test_reimbursed_follows_seed_001_rule():
    rows = pd.DataFrame(
        [
            sources(reimb_ncms_allowance=True),  # a social source: yes
            sources(reimb_commercial=True),  # commercial only: no
            sources(reimb_else=True),  # else only: no
            sources(reimb_commercial=True, reimb_else=True),  # both: no
            sources(reimb_commercial=True, reimb_employer=True),  # commercial + employer: yes
            sources(reimb_family_planning_operation=True),  # family planning: yes
            sources(reimb_none=True),  # "no reimbursement" ticked: no
            sources(),  # nothing ticked: not answered
        ]
    ).astype("boolean")
    got = derive.reimbursed(rows, SURVEY)
    assert got.tolist()[:7] == [True, False, False, False, True, True, False]
    assert pd.isna(got.iloc[7])


def test_reimbursed_is_missing_when_not_asked():
    rows = pd.DataFrame([sources()]).astype("boolean")
    rows.iloc[0] = pd.NA
    assert pd.isna(derive.reimbursed(rows, SURVEY).iloc[0])


def test_reimbursement_ratio_is_amount_over_cost():
    rows = pd.DataFrame({"reimbursement_amount": [500.0, np.nan, 100.0], "total_cost": [2000.0, 1000.0, 0.0]})
    got = derive.reimbursement_ratio(rows, SURVEY)
    assert got.iloc[0] == 0.25 and got.iloc[1:].isna().all()
    assert derive.reimbursement_ratio_pct(rows.assign(reimbursement_ratio=got), SURVEY).iloc[0] == 25.0


def test_migration_duration_groups_at_their_edges():
    # Interview May 2014: arrival May 2014 -> 0 months; May 2013 -> exactly 1 year.
    arrivals = [(2014, 5), (2013, 6), (2013, 5), (2009, 6), (2009, 5), (2004, 5), (1990, 1)]
    rows = pd.DataFrame(arrivals, columns=["arrival_year", "arrival_month"])
    rows["migration_duration_years"] = derive.migration_duration_years(rows, SURVEY)
    got = derive.migration_duration(rows, SURVEY).astype(str).tolist()
    assert got == ["0-", "0-", "1-", "1-", "5-", "10+", "10+"]
    assert derive.migration_duration_years(rows, SURVEY).iloc[2] == 1.0


def test_medical_return_is_hospitalisation_in_the_hometown():
    place = pd.Categorical(
        ["hometown", "current_city", "elsewhere", None], categories=["current_city", "hometown", "elsewhere"]
    )
    got = derive.medical_return(pd.DataFrame({"hospitalisation_place": place}), SURVEY)
    assert got.tolist()[:3] == [True, False, False] and pd.isna(got.iloc[3])


def test_insurance_programme_single_multiple_none():
    rows = pd.DataFrame(
        {
            "holds_ncms": [True, False, True, False],
            "holds_urbmi": [False, True, False, False],
            "holds_uebmi": [False, False, True, False],
        }
    ).astype("boolean")
    got = list(derive.insurance_programme(rows, SURVEY))
    assert got == ["NCMS", "URBMI", "multiple", "none"]


def test_medical_insurance_type_of_seed_000():
    """Local urban insurance first, then NCMS, then urban insurance held elsewhere, other, none."""
    t, f = True, False
    rows = pd.DataFrame(
        {
            "holds_ncms": [t, t, f, f, f, f, f],
            "holds_urbmi": [f, t, f, t, f, f, f],
            "holds_uebmi": [f, f, t, f, t, f, f],
            "holds_other_insurance": [f, f, f, f, f, t, f],
            "urbmi_place": [None, "current_city", None, "hometown", None, None, None],
            "uebmi_place": [None, None, "current_city", None, "elsewhere", None, None],
        }
    )
    got = list(derive.medical_insurance(rows, SURVEY))
    assert got == ["NCMS", "local_urban", "local_urban", "urban_elsewhere", "urban_elsewhere", "other", "none"]


def test_age_income_and_binary_covariates():
    rows = pd.DataFrame(
        {
            "birth_year": [1980.0],
            "household_income": [6000.0],
            "household_size": [3.0],
            "sex": pd.Categorical(["female"]),
            "marital_status": pd.Categorical(["married"]),
            "hukou_type": pd.Categorical(["urban"]),
        }
    )
    assert derive.age(rows, SURVEY).iloc[0] == 34
    assert derive.income_per_capita(rows, SURVEY).iloc[0] == 2000
    assert derive.female(rows, SURVEY).iloc[0] and derive.married(rows, SURVEY).iloc[0]
    assert not derive.rural_hukou(rows, SURVEY).iloc[0]
