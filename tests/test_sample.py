"""Sample filters with flow accounting; Stata-style quantile groups."""

import numpy as np
import pandas as pd
import pytest

from migrant_health.errors import InputError
from migrant_health.sample import add_sample_derivations, apply_filters, xtile

WHERE = "config.yaml: studies.demo.sample"


@pytest.fixture
def people():
    return pd.DataFrame(
        {
            "age": [20, 30, 40, 50, 60, 35],
            "inpatient_12m": pd.array([True, True, False, True, None, True], dtype="boolean"),
            "place": pd.Categorical(["current_city", "hometown", "current_city", None, "current_city", "current_city"]),
        }
    )


def test_flow_counts_every_dropped_row(people):
    steps = [
        {"name": "inpatient", "keep": "inpatient_12m", "reason": "not hospitalised"},
        {"name": "in_city", "keep": "place == 'current_city'", "reason": "elsewhere"},
        {"name": "adult", "keep": "age < 38", "reason": "aged 38+"},
    ]
    kept, flow = apply_filters(people, steps, WHERE)
    assert flow["n_after"].iloc[-1] == len(kept) == 2
    assert flow["n_before"].iloc[0] - flow["n_dropped"].sum() == len(kept)
    # The missing inpatient flag and the missing place are counted as dropped for missing data.
    assert flow.set_index("step").loc["inpatient", "n_dropped_missing"] == 1
    assert flow.set_index("step").loc["in_city", "n_dropped_missing"] == 1


def test_missing_category_is_never_kept_by_not_equal(people):
    # pandas says NaN != 'hometown' is True; the filter must not keep the missing place.
    kept, _ = apply_filters(people, [{"name": "not_home", "keep": "place != 'hometown'", "reason": "r"}], WHERE)
    assert kept["place"].notna().all()


def test_filter_that_does_not_parse(people):
    with pytest.raises(InputError, match=r"studies.demo.sample\[0\] 'bad': filter `age >>= 3` does not parse"):
        apply_filters(people, [{"name": "bad", "keep": "age >>= 3", "reason": "r"}], WHERE)


def test_filter_naming_an_unknown_variable(people):
    with pytest.raises(InputError, match="names unknown variables: 'agee'; closest: age"):
        apply_filters(people, [{"name": "adult", "keep": "agee > 18", "reason": "r"}], WHERE)


def test_filter_leaving_no_rows_names_the_step(people):
    with pytest.raises(InputError, match=r"\[1\] 'old': filter `age > 100` leaves no rows \(of 6 before it\)"):
        apply_filters(
            people,
            [{"name": "any", "keep": "age > 0", "reason": "r"}, {"name": "old", "keep": "age > 100", "reason": "r"}],
            WHERE,
        )


def test_xtile_matches_stata_on_ties():
    # Stata: xtile q = x, nq(5) on 1..10 with ties. Cut points (pctile, default definition):
    # p20: n*p = 2 (whole) -> mean of x(2), x(3) = 2; p40: 4 -> mean(x4, x5) = 3;
    # p60: 6 -> mean(x6, x7) = 5.5; p80: 8 -> mean(x8, x9) = 8.5. x <= cut goes to the lower group.
    x = pd.Series([1, 2, 2, 3, 3, 5, 6, 8, 9, 10], dtype=float)
    assert xtile(x, 5).astype(str).tolist() == ["Q1", "Q1", "Q1", "Q2", "Q2", "Q3", "Q4", "Q4", "Q5", "Q5"]


def test_xtile_keeps_missing_and_forms_equal_groups():
    x = pd.Series(np.r_[np.arange(100.0), np.nan])
    groups = xtile(x, 5)
    assert pd.isna(groups.iloc[-1])
    assert groups.value_counts().tolist() == [20] * 5


def test_sample_derivation_adds_quintiles():
    df = pd.DataFrame({"income": np.arange(10.0)})
    out = add_sample_derivations(df, {"quantile_groups": {"income_q": {"variable": "income", "groups": 5}}})
    assert out["income_q"].cat.categories.tolist() == ["Q1", "Q2", "Q3", "Q4", "Q5"]
