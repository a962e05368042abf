"""Figures' statistics and the effect tables' layout."""
import numpy as np
import pandas as pd
import pytest

from migrant_health.figures.plots import share_by_group, wilson
from migrant_health.tables.effects import effect_table, stars


def test_wilson_interval_matches_the_textbook_case():
    # 8 successes of 10: the Wilson 95% interval is (0.4902, 0.9433) (Wilson 1927; Newcombe 1998, method 3).
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_share_by_group_uses_every_row_of_the_group_as_denominator():
    df = pd.DataFrame({"g": ["a", "a", "a", "b"],
                       "reason": pd.Categorical(["home", None, "other", "home"])})
    out = share_by_group(df, {"indicator": "reason == 'home'", "by": "g", "levels": {"a": "A", "b": "B"}})
    assert out["n"].tolist() == [3, 1] and out["count"].tolist() == [1, 1]


def test_stars_follow_the_papers_notes():
    assert [stars(p) for p in (0.009, 0.01, 0.049, 0.05)] == ["**", "*", "*", ""]


def test_effect_table_layout():
    rows = pd.DataFrame([
        {"model": "m", "sample": "total", "term": "scope", "level": "far", "reference": "near",
         "estimand": "ame", "estimate": -0.26, "std_error": 0.038, "p_value": 1e-6, "n_obs": 100},
        {"model": "m", "sample": "total", "term": "female", "level": "True", "reference": "False",
         "estimand": "ame", "estimate": 0.024, "std_error": 0.031, "p_value": 0.4, "n_obs": 100},
    ])
    table = effect_table(rows, {"samples": ["total"], "models": {"m": "Probit"}},
                         {"scope": {"label": "Scope (referred to near)", "levels": {"far": "Far"}},
                          "female": {"label": "Female"}})
    assert table["Variables"].tolist() == ["Scope (referred to near)", "  Far", "Female", "Observations"]
    assert table["Probit"].tolist() == ["", "-0.260**", "0.024", "100"]
    assert table["Probit SE"].tolist()[1:3] == ["0.038", "0.031"]
    assert np.isfinite(rows["estimate"]).all()
