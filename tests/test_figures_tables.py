"""Figures' statistics and the effect tables' layout."""

import numpy as np
import pandas as pd
import pytest

from migrant_health.errors import InputError
from migrant_health.figures.plots import share_by_group, wilson
from migrant_health.tables.effects import effect_table, stars


def test_wilson_interval_matches_the_textbook_case():
    # 8 successes of 10: the Wilson 95% interval is (0.4902, 0.9433) (Wilson 1927; Newcombe 1998, method 3).
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_share_by_group_uses_every_row_of_the_group_as_denominator():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"], "reason": pd.Categorical(["home", None, "other", "home"])})
    out = share_by_group(df, {"indicator": "reason == 'home'", "by": "g", "levels": {"a": "A", "b": "B"}})
    assert out["n"].tolist() == [3, 1] and out["count"].tolist() == [1, 1]


def test_stars_follow_the_papers_notes():
    assert [stars(p) for p in (0.009, 0.01, 0.049, 0.05)] == ["**", "*", "*", ""]


def test_effect_table_layout():
    rows = pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "scope",
                "level": "far",
                "reference": "near",
                "estimand": "ame",
                "estimate": -0.26,
                "std_error": 0.038,
                "p_value": 1e-6,
                "n_obs": 100,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "female",
                "level": "True",
                "reference": "False",
                "estimand": "ame",
                "estimate": 0.024,
                "std_error": 0.031,
                "p_value": 0.4,
                "n_obs": 100,
                "estimable": True,
            },
        ]
    )
    table = effect_table(
        rows,
        {"samples": ["total"], "models": {"m": "Probit"}},
        {"scope": {"label": "Scope (referred to near)", "levels": {"far": "Far"}}, "female": {"label": "Female"}},
    )
    assert table["Variables"].tolist() == ["Scope (referred to near)", "  Far", "Female", "Observations"]
    assert table["Probit"].tolist() == ["", "-0.260**", "0.024", "100"]
    assert table["Probit SE"].tolist()[1:3] == ["0.038", "0.031"]
    assert np.isfinite(rows["estimate"]).all()


def odds_ratio_estimates() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "insurance",
                "level": "NCMS",
                "reference": "local",
                "estimand": "odds_ratio",
                "estimate": 2.5,
                "conf_low": 1.8,
                "conf_high": 3.4,
                "p_value": 1e-5,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "settle",
                "level": "True",
                "reference": "False",
                "estimand": "odds_ratio",
                "estimate": 0.7,
                "conf_low": 0.5,
                "conf_high": 0.98,
                "p_value": 0.0412,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "settle",
                "level": "True",
                "reference": "False",
                "estimand": "coef",
                "estimate": np.log(0.7),
                "conf_low": -1,
                "conf_high": 0,
                "p_value": 0.0412,
                "n_obs": 50,
                "estimable": True,
            },
        ]
    )


LABELS = {
    "insurance": {"label": "Insurance (referred to local)", "levels": {"NCMS": "NCMS"}},
    "settle": {"label": "Intends to settle"},
}


def test_odds_ratio_table_prints_or_ci_and_p():
    table = effect_table(
        odds_ratio_estimates(), {"samples": ["total"], "models": {"m": "Return"}, "estimand": "odds_ratio"}, LABELS
    )
    assert table["Variables"].tolist() == [
        "Insurance (referred to local)",
        "  NCMS",
        "Intends to settle",
        "Observations",
    ]
    assert table["Return"].tolist()[1:] == ["2.500**", "0.700*", "50"]
    assert table["Return 95% CI"].tolist()[1:3] == ["1.800–3.400", "0.500–0.980"]
    assert table["Return p"].tolist()[1:3] == ["<0.001", "0.041"]


def test_mixed_model_statistics_print_below_the_effects():
    statistics = pd.DataFrame(
        [
            {
                "model": "m",
                "sample": "total",
                "term": "var(_cons[city])",
                "level": "",
                "reference": "",
                "estimand": "variance",
                "estimate": 0.44,
                "std_error": 0.05,
                "conf_low": 0.359,
                "conf_high": 0.54,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "icc",
                "level": "",
                "reference": "",
                "estimand": "icc",
                "estimate": 0.118,
                "n_obs": 50,
                "estimable": True,
            },
            {
                "model": "m",
                "sample": "total",
                "term": "lr_test",
                "level": "",
                "reference": "",
                "estimand": "lr_test",
                "estimate": 14.005,
                "statistic": 14.005,
                "p_value": 9.1e-5,
                "n_obs": 50,
            },
        ]
    )
    labels = {
        **LABELS,
        "var(_cons[city])": {"label": "City variance"},
        "icc": {"label": "ICC"},
        "lr_test": {"label": "LR test"},
    }
    rows = pd.concat([odds_ratio_estimates(), statistics], ignore_index=True)
    odds = effect_table(rows, {"samples": ["total"], "models": {"m": "Use"}, "estimand": "odds_ratio"}, labels)
    assert odds["Variables"].tolist()[-4:] == ["City variance", "ICC", "LR test", "Observations"]
    assert odds["Use"].tolist()[-4:-1] == ["0.440", "0.118", "14.005"]
    assert odds["Use 95% CI"].tolist()[-4:-1] == ["0.359–0.540", "", ""]
    assert odds["Use p"].tolist()[-4:-1] == ["", "", "<0.001"]
    # In a table of coefficients with SEs, the variance shows its SE.
    coefficients = effect_table(
        rows.assign(estimand=rows["estimand"].replace("odds_ratio", "ame")),
        {"samples": ["total"], "models": {"m": "Use"}},
        labels,
    )
    assert coefficients.set_index("Variables").loc["City variance", "Use SE"] == "0.050"
    # Without a single-level fit (separation) the LR test is blank, not "nan".
    no_test = effect_table(
        rows.assign(
            estimate=rows["estimate"].where(rows["estimand"] != "lr_test"),
            p_value=rows["p_value"].where(rows["estimand"] != "lr_test"),
        ),
        {"samples": ["total"], "models": {"m": "Use"}, "estimand": "odds_ratio"},
        labels,
    )
    assert no_test.set_index("Variables").loc["LR test", ["Use", "Use p"]].tolist() == ["", ""]


def test_forest_plot_rows_are_the_models_odds_ratios(tmp_path):
    from migrant_health.figures.plots import forest, odds_ratio_rows

    rows = odds_ratio_rows(odds_ratio_estimates(), {"model": "m"}, LABELS)
    assert rows["label"].tolist() == ["NCMS", "Intends to settle"]
    assert rows["group"].tolist() == ["Insurance (referred to local)", ""]
    assert rows["odds_ratio"].tolist() == [2.5, 0.7]
    written = forest(rows, "Odds ratios", tmp_path / "forest", synthetic=True)
    assert all(p.stat().st_size > 1000 for p in written)
    with pytest.raises(InputError, match="no odds ratios of model 'other'"):
        odds_ratio_rows(odds_ratio_estimates(), {"model": "other"}, LABELS)


def test_flowchart_is_drawn_from_any_flow_table(tmp_path):
    from migrant_health.figures.plots import flowchart

    flow = pd.DataFrame(
        [
            {"step": "start", "n_after": 100, "n_dropped": 0, "reason": "respondents in the file"},
            {"step": "adults", "n_after": 80, "n_dropped": 20, "reason": "under 18"},
            {"step": "insured", "n_after": 60, "n_dropped": 20, "reason": "uninsured"},
        ]
    )
    written = flowchart(flow, "Flow", tmp_path / "flow", synthetic=False)
    assert [p.suffix for p in written] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in written)
