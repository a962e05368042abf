"""Inequality study (seed 002): the synthetic population's concentration indices, the default
run's indices and rates against the published ones, and the multilevel logit through config."""

import numpy as np
import pandas as pd
import pytest
from conftest import PUBLISHED, analytic_sample, validated_config
from test_concentration import cbpp

from migrant_health import concentration, published
from migrant_health.errors import InputError
from migrant_health.estimation import fit_models

CONFIG = validated_config()
STUDY = CONFIG["studies"]["inequality"]
DOC = published.load(PUBLISHED / "inequality.yaml")
PUBLISHED_INDEX = {e["equation"]: e["estimate"] for e in DOC["estimates"]}
PUBLISHED_RATE = {q["variable"]: q["value"] for q in DOC["sample"]}


@pytest.fixture(scope="module")
def workers(canonical):
    return analytic_sample(canonical, STUDY, "inequality")


def test_synthetic_population_has_the_published_indices(release):
    """The calibration's own target: the concentration index of the expected use."""
    truth = release.truth[release.truth["study"] == "inequality"].set_index("equation")["truth"]
    for outcome, value in PUBLISHED_INDEX.items():
        assert truth[outcome] == pytest.approx(value, abs=1e-8)


def test_default_run_indices_within_3_standard_errors_and_rates_within_half_a_point(workers):
    tidy = concentration.indices(workers, STUDY["concentration"], "inequality")
    standard = tidy[(tidy["estimand"] == "concentration_index") & (tidy["sample"] == "total")].set_index("equation")
    for outcome, value in PUBLISHED_INDEX.items():
        row = standard.loc[outcome]
        assert abs(row["estimate"] - value) <= 3 * row["std_error"], (outcome, row["estimate"], row["std_error"])
        assert abs(100 * workers[outcome].mean() - PUBLISHED_RATE[outcome]) <= 0.5


def test_group_comparison_and_every_index_are_reported(workers):
    tidy = concentration.indices(workers, STUDY["concentration"], "inequality")
    outpatient = tidy[tidy["equation"] == "outpatient_2w"]
    assert set(outpatient["estimand"]) == {"concentration_index", "wagstaff", "erreygers", "generalized", "difference"}
    groups = outpatient[outpatient["sample"].str.startswith("female=")].set_index("sample")
    diff = outpatient[outpatient["estimand"] == "difference"].iloc[0]
    assert diff["estimate"] == pytest.approx(
        groups.loc["female=True", "estimate"] - groups.loc["female=False", "estimate"]
    )
    total = outpatient[(outpatient["sample"] == "total")].set_index("estimand")["estimate"]
    mean = workers["outpatient_2w"].mean()
    assert total["wagstaff"] == pytest.approx(total["concentration_index"] / (1 - mean))
    assert total["erreygers"] == pytest.approx(4 * mean * total["concentration_index"])


def test_decomposition_adds_up_to_the_index(workers, default_estimates):
    dec = concentration.decompositions(workers, STUDY["concentration"], STUDY["models"], default_estimates)
    for outcome in PUBLISHED_INDEX:
        table = dec[dec["outcome"] == outcome].set_index("determinant")
        parts = table.drop(index="total")["contribution"].sum()
        assert parts == pytest.approx(table.loc["total", "contribution"])
        # The income gradient is what the generator planted: income is the main contributor.
        income = table[table["term"] == "income_quintile"]["contribution"].sum()
        assert income < 0 and abs(income) > 0.5 * abs(table.loc["total", "contribution"])


@pytest.fixture(scope="module")
def default_estimates(workers):
    models = {
        **STUDY["models"],
        "equations": {k: v for k, v in STUDY["models"]["equations"].items() if v["kind"] != "melogit"},
    }
    estimates, _, _ = fit_models(workers, models, "inequality")
    return estimates


def test_melogit_outcome_must_be_binary():
    X, y, herd = cbpp()
    data = pd.DataFrame({"y": y * 2, "herd": herd, "x": X[:, 1]})
    models = {
        "covariates": ["x"],
        "vce": "oim",
        "equations": {"m": {"outcome": "y", "kind": "melogit", "group": "herd"}},
    }
    with pytest.raises(InputError, match=r"m: a melogit outcome must be 0/1, but y also takes \[2.0\]"):
        fit_models(data, models, "cbpp")


def test_melogit_equation_through_config_matches_glmer():
    """kind: melogit in a study's models gives lme4's cbpp numbers (Laplace) and the tidy rows."""
    X, y, herd = cbpp()
    data = pd.DataFrame(
        {"y": y, "herd": herd, "period": pd.Categorical((X[:, 1:] @ [2, 3, 4]).astype(int).clip(1).astype(str))}
    )
    models = {
        "covariates": [{"factor": "period", "reference": "1"}],
        "vce": "oim",
        "equations": {"m": {"outcome": "y", "kind": "melogit", "group": "herd", "nagq": 1}},
    }
    estimates, _, _ = fit_models(data, models, "cbpp")
    rows = estimates.set_index(["estimand", "term", "level"])["estimate"]
    assert rows[("variance", "var(_cons[herd])", "")] == pytest.approx(0.41225, abs=2e-5)
    assert rows[("coef", "period", "4")] == pytest.approx(-1.57975, abs=2e-5)
    assert rows[("odds_ratio", "period", "4")] == pytest.approx(np.exp(-1.57975), abs=2e-5)
    assert rows[("icc", "icc", "")] == pytest.approx(0.41225 / (0.41225 + np.pi**2 / 3), abs=2e-5)
    tidy = estimates.set_index(["estimand", "term", "level"])
    assert tidy.loc[("coef", "period", "4"), "std_error"] == pytest.approx(0.42205, abs=1e-5)


def test_melogit_variance_interval_and_lr_test():
    """lme4 1.1-31 on cbpp, one row per animal (tests/data/lme4_cbpp.R): theta 0.642069538672
    with SE sqrt(2 solve(H)[1, 1]) = 0.177404098847 from glmer's own deriv12 Hessian, so the
    variance's delta-method SE is 0.227811535810; anova(glmer, glm) gives the LR statistic
    14.0052661998 (half its chi-square(1) tail: 9.11496701666e-05). The variance's CI is
    Stata melogit's: Wald limits of log(variance), exponentiated."""
    X, y, herd = cbpp()
    data = pd.DataFrame(
        {"y": y, "herd": herd, "period": pd.Categorical((X[:, 1:] @ [2, 3, 4]).astype(int).clip(1).astype(str))}
    )
    models = {
        "covariates": [{"factor": "period", "reference": "1"}],
        "vce": "oim",
        "equations": {"m": {"outcome": "y", "kind": "melogit", "group": "herd"}},
    }
    estimates, _, _ = fit_models(data, models, "cbpp")
    variance = estimates.set_index("estimand").loc["variance"]
    assert variance["std_error"] == pytest.approx(0.227811535810, abs=1e-5)
    half_width = 1.959963984540054 * variance["std_error"] / variance["estimate"]
    assert [variance["conf_low"], variance["conf_high"]] == pytest.approx(
        [variance["estimate"] * np.exp(-half_width), variance["estimate"] * np.exp(half_width)], rel=1e-12
    )
    lr = estimates.set_index("estimand").loc["lr_test"]
    assert lr["estimate"] == pytest.approx(14.0052661998, abs=1e-5)
    assert lr["p_value"] == pytest.approx(9.11496701666e-05, rel=1e-4)
