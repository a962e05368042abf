"""The statistical core against published Stata output.

Tolerance: Stata's `margins` differentiates numerically, which moves the 8th decimal of an
effect (e.g. gpa: Stata .36258084688, analytic .3625808303); the references below are
matched to 5e-8, half a unit of the 7th decimal that Stata's output tables print.
"""

import os

import numpy as np
import pandas as pd
import pytest
import statsmodels
import statsmodels.api as sm

from migrant_health.stats import ModelSpec, fit, margins, odds_ratios

HERE = os.path.dirname(__file__)
SM_RESULTS = os.path.dirname(statsmodels.__file__)
TOL = 5e-8


@pytest.fixture(scope="module")
def spector():
    return sm.datasets.spector.load_pandas().data


def test_spector_logit_ames_match_stata(spector):
    """Spector and Mazzeo data, `logit grade gpa tuce psi`, `margins, dydx(*)` (Stata 11,
    stored with statsmodels' test suite: results_discrete.py, margeff_nodummy_dydx)."""
    m = margins(fit(ModelSpec("GRADE", ["GPA", "TUCE", "PSI"], kind="logit"), spector))
    np.testing.assert_allclose(m.estimates, [0.36258085, 0.01220841, 0.30517768], atol=TOL)
    np.testing.assert_allclose(m.std_errors, [0.1094412, 0.0177942, 0.0923796], atol=TOL)


def test_spector_psi_as_factor_matches_stata(spector):
    """`logit grade gpa tuce i.psi`, `margins, dydx(*)`: psi .35751515 (SE .1420034)
    (results_discrete.py, margeff_dummy_dydx)."""
    data = spector.assign(psi=pd.Categorical(spector["PSI"].astype(int)))
    m = margins(fit(ModelSpec("GRADE", ["GPA", "TUCE", {"factor": "psi", "reference": 0}], kind="logit"), data))
    assert m.labels[2] == ("psi", "1", "0")
    np.testing.assert_allclose(m.estimates, [0.36258085, 0.01220841, 0.35751515], atol=TOL)
    np.testing.assert_allclose(m.std_errors, [0.1094412, 0.0177942, 0.1420034], atol=TOL)


def test_spector_effects_at_means_match_stata(spector):
    """`margins, dydx(*) atmeans`: gpa .53385886 (SE .237038) (margeff_nodummy_dydxmean)."""
    m = margins(fit(ModelSpec("GRADE", ["GPA", "TUCE", "PSI"], kind="logit"), spector), at="means")
    np.testing.assert_allclose(m.estimates, [0.53385886, 0.01797549, 0.44933926], atol=TOL)
    np.testing.assert_allclose(m.std_errors, [0.237038, 0.0262369, 0.1967626], atol=TOL)
    assert m.estimand == "mem"


def test_mtcars_logit_ames_match_stata():
    """mtcars (tests/data/mtcars.csv), Stata `logit am cyl hp wt`, `margins, dydx(*)`:
    cyl .0214527 (.0469746), hp .0014339 (.0006182), wt -.4025475 (.1154098)."""
    cars = pd.read_csv(os.path.join(HERE, "data", "mtcars.csv"))
    m = margins(fit(ModelSpec("am", ["cyl", "hp", "wt"], kind="logit"), cars))
    np.testing.assert_allclose(m.estimates, [0.0214527, 0.0014339, -0.4025475], atol=TOL)
    np.testing.assert_allclose(m.std_errors, [0.0469746, 0.0006182, 0.1154098], atol=TOL)


def test_glm_logit_robust_matches_stata(spector):
    """`glm grade gpa tuce psi, family(binomial) vce(robust)`: robust SEs with n/(n-1)
    (statsmodels results_glm_logit_constrained.py, results_noconstraint_robust)."""
    f = fit(ModelSpec("GRADE", ["GPA", "TUCE", "PSI"], kind="logit", vce="robust"), spector)
    np.testing.assert_allclose(
        np.sqrt(np.diag(f.cov)), [1.287827879216, 0.1198091371814, 0.97985082470462, 5.2807513766642], rtol=1e-6
    )


@pytest.fixture(scope="module")
def ships():
    return pd.read_csv(os.path.join(SM_RESULTS, "discrete", "tests", "results", "ships.csv")).dropna()


@pytest.mark.parametrize(
    "vce, expected",
    [
        # `poisson accident yr_con op_75_79, vce(cluster ship)`: 5 clusters, G/(G-1).
        ("cluster", [0.19933709357097, 0.11093628220713, 1.1048569901548]),
        # `poisson accident yr_con op_75_79, vce(robust)`: n/(n-1).
        ("robust", [0.19233713248134, 0.55301404772037, 0.66532523368388]),
    ],
)
def test_poisson_robust_and_cluster_match_stata(ships, vce, expected):
    """Stata references stored with statsmodels (results_count_robust_cluster.py)."""
    f = fit(
        ModelSpec(
            "accident", ["yr_con", "op_75_79"], kind="glm", family="poisson", link="log", vce=vce, cluster="ship"
        ),
        ships,
    )
    np.testing.assert_allclose(f.params, [-0.02172061893549, 0.22148585072024, 2.2697077143215], rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(f.cov)), expected, rtol=1e-6)


def test_odds_ratios_as_stata_reports_them():
    """`logit am cyl hp wt, or`: OR = exp(b), se = OR x se(b), CI = exp(Wald limits of b)."""
    cars = pd.read_csv(os.path.join(HERE, "data", "mtcars.csv"))
    f = fit(ModelSpec("am", ["cyl", "hp", "wt"], kind="logit"), cars)
    ors = odds_ratios(f)
    ref = sm.Logit(cars["am"], sm.add_constant(cars[["cyl", "hp", "wt"]], prepend=False)).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(ors["estimate"], np.exp(ref.params[:3]), rtol=1e-6)
    np.testing.assert_allclose(ors[["conf_low", "conf_high"]], np.exp(ref.conf_int().iloc[:3]), rtol=1e-5)
    np.testing.assert_allclose(ors["std_error"], np.exp(ref.params[:3]) * ref.bse[:3], rtol=1e-5)
    np.testing.assert_allclose(ors["p_value"], ref.pvalues[:3], rtol=1e-5)
    assert set(ors["estimand"]) == {"odds_ratio"} and "_cons" not in ors["term"].values
