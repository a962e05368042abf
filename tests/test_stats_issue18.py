"""Interactions, margins options, survey designs and Stata's variance choices, against external
references (issue 18).

* Stata: statsmodels' test suite stores Stata 11's `margins` output for `logit grade gpa tuce psi`
  on the Spector and Mazzeo data (statsmodels/discrete/tests/results/results_discrete.py,
  `margeff_nodummy_*` and `margeff_dummy_*`); quoted to 5e-8 as in test_stats_reference.py.
* R: tests/data/margins_survey_references.R printed the R 4.2.2 / survey 4.1-1 numbers quoted here
  (glm and svyglm on the survey package's api data, tests/data/api*.csv); margins there are formed
  from R's own model.matrix (interactions built by R), central differences and vcov(), as Stata's
  margins differentiates numerically: quoted to rtol 1e-6. tests/data/exact_laplace_cbpp.R printed
  the exact Laplace fit of lme4's cbpp data in base R.
"""

import os

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml

from migrant_health.errors import InputError
from migrant_health.stats import ModelSpec, fit, fit_two_part, margins
from migrant_health.stats.conindex import concentration_index
from migrant_health.stats.mixed import fit_exact_laplace
from migrant_health.stats.survey import DesignRows, SurveyDesign

HERE = os.path.dirname(__file__)
STATA = 5e-8
R = 1e-6
STYPE = {"factor": "stype", "reference": "E"}
STRATIFIED = {"strata": "stype", "weights": "pw", "fpc": "fpc"}  # svydesign(id=~1, strata=~stype, fpc=~fpc)
CLUSTERED = {"psu": "dnum", "weights": "pw", "fpc": "fpc"}  # svydesign(id=~dnum, fpc=~fpc)


def api(name: str) -> pd.DataFrame:
    data = pd.read_csv(os.path.join(HERE, "data", f"api{name}.csv"))
    return data.assign(
        yes=(data["sch.wide"] == "Yes").astype(float),
        award=(data["awards"] == "Yes").astype(float),
        large=np.where(data["enroll"] > 500, "Yes", "No"),
    )


@pytest.fixture(scope="module")
def strat():
    return api("strat")


@pytest.fixture(scope="module")
def clus1():
    return api("clus1")


@pytest.fixture(scope="module")
def spector():
    return sm.datasets.spector.load_pandas().data


@pytest.fixture(scope="module")
def m1(strat):
    """logit yes ~ ell + meals + stype + stype:meals (R's glm; Stata: logit yes ell c.meals##i.stype)."""
    covariates = ["ell", "meals", STYPE, {"interaction": [STYPE, "meals"]}]
    return fit(ModelSpec("yes", covariates, kind="logit"), strat)


# --- 1. interactions ----------------------------------------------------------------------------


def test_factor_by_continuous_interaction_matches_r(m1):
    """R: coefficients and SEs of glm; AMEs of ell, meals (through meals x stype) and stype's
    discrete changes with the other variables as observed."""
    np.testing.assert_allclose(
        m1.params,
        [-0.0250398694067319, 0.0173579022892479, -1.7224729870283242, 1.5600995966254432,
         -0.0159262779479489, -0.0608684605799681, 2.1031710414064984],
        rtol=R,
    )  # fmt: skip
    np.testing.assert_allclose(
        m1.variance.std_errors,
        [0.0158904298223106, 0.0154835428340235, 0.8136563429229103, 1.2649105540435592,
         0.0167022282281016, 0.0216192515297704, 0.6755078371100306],
        rtol=R,
    )  # fmt: skip
    m = margins(m1)
    assert m.labels == [("ell", "", ""), ("meals", "", ""), ("stype", "H", "E"), ("stype", "M", "E")]
    np.testing.assert_allclose(
        m.estimates,
        [-0.003518562005364894, -0.000911400703032833, -0.426485316284080984, -0.217036371829636227],
        rtol=R,
    )
    np.testing.assert_allclose(
        m.std_errors, [0.00219309101395425, 0.00146188562689824, 0.08335022337935961, 0.05629612860657775], rtol=R
    )


def test_interaction_rows_are_labelled_as_stata_labels_them(m1, strat):
    tidy = m1.tidy()
    assert list(tidy["term"][4:6]) == ["H.stype#c.meals", "M.stype#c.meals"]
    assert set(tidy["reference"][4:6]) == {"Eb.stype"}
    both = fit(ModelSpec("yes", ["ell", "meals", {"interaction": ["ell", "meals"]}], kind="logit"), strat)
    assert both.names == ["ell", "meals", "ell#meals", "_cons"]


def test_continuous_by_continuous_interaction_matches_r(strat):
    """R: logit yes ~ ell + meals + ell:meals; AMEs through the product column."""
    f = fit(ModelSpec("yes", ["ell", "meals", {"interaction": ["ell", "meals"]}], kind="logit"), strat)
    m = margins(f)
    np.testing.assert_allclose(m.estimates, [-0.002914100594982342, 0.000866328834084174], rtol=R)
    np.testing.assert_allclose(m.std_errors, [0.00275157517475149, 0.00162496277096993], rtol=R)


def test_factor_by_factor_interaction_matches_r(strat):
    """R: probit award ~ meals + stype * large (R's glm prints the expected information, so vce eim;
    the cells of stype x large each their own column)."""
    large = {"factor": "large", "reference": "No"}
    spec = ModelSpec("award", ["meals", STYPE, large, {"interaction": [STYPE, large]}], kind="probit", vce="eim")
    f = fit(spec, strat)
    assert f.names[4:6] == ["H.stype#Yes.large", "M.stype#Yes.large"]
    np.testing.assert_allclose(
        f.variance.std_errors[:6],
        [0.00355355115250305, 0.65365832492500775, 0.49175186445897295, 0.34159416384610458,
         0.74422443173463604, 0.61296410388491707],
        rtol=R,
    )  # fmt: skip
    m = margins(f)
    np.testing.assert_allclose(
        m.estimates, [-0.0017957147206784, -0.5333119204475607, -0.2166725901589312, 0.0320251427059318], rtol=R
    )
    np.testing.assert_allclose(
        m.std_errors, [0.00119115927849455, 0.09660128712017212, 0.08468220971239319, 0.07610332239222650], rtol=R
    )


def test_the_issue_example_logit_am_cyl_hp_wt_hash_hash():
    """Stata's `logit am cyl c.hp##c.wt` as ModelSpec (R: glm am ~ cyl + hp + wt + hp:wt on mtcars)."""
    cars = pd.read_csv(os.path.join(HERE, "data", "mtcars.csv"))
    f = fit(ModelSpec("am", ["cyl", "hp", "wt", {"interaction": ["hp", "wt"]}], kind="logit"), cars)
    np.testing.assert_allclose(
        f.params,
        [0.5156397311834539, 0.2052787758529614, -5.2317708304026720, -0.0477945857658233, 4.67045246929953],
        rtol=1e-5,
    )
    m = margins(f)
    np.testing.assert_allclose(m.estimates, [0.02156333176700488, 0.00266729762270294, -0.51579228420973733], rtol=1e-5)
    np.testing.assert_allclose(m.std_errors, [0.04926761584885755, 0.00230041500181938, 0.26858140637629146], rtol=1e-4)


# --- 2. margins options -------------------------------------------------------------------------


def test_predictive_margins_of_a_factor_match_r(m1):
    """R: margins i.stype, the average prediction with every school at each level."""
    m = margins(m1, predict="stype")
    assert [label[:2] for label in m.labels] == [("stype", "E"), ("stype", "H"), ("stype", "M")]
    assert set(m.estimand) == {"margin"}
    np.testing.assert_allclose(m.estimates, [0.909717726976488, 0.483232410692407, 0.692681355146852], rtol=R)
    np.testing.assert_allclose(m.std_errors, [0.0295070042794740, 0.0779394271106640, 0.0479108203533962], rtol=R)


def test_at_values_mean_and_median_match_r(m1):
    """R: AME of ell at(meals=(20 60)); at((mean) meals) for ell and stype H; at((median) ell) for meals."""
    m = margins(m1, variables=["ell"], at={"meals": [20, 60]})
    assert m.estimand == ["ame at(meals=20)", "ame at(meals=60)"]
    np.testing.assert_allclose(m.estimates, [-0.00359764029542555, -0.0038654016206997], rtol=R)
    np.testing.assert_allclose(m.std_errors, [0.00264598422143707, 0.00228783585365118], rtol=R)
    m = margins(m1, variables=["ell", "stype"], at={"meals": "mean"})
    np.testing.assert_allclose(m.estimates[:2], [-0.00376164314336888, -0.42124115984966443], rtol=R)
    np.testing.assert_allclose(m.std_errors[:2], [0.00240753437148147, 0.08479840000284956], rtol=R)
    m = margins(m1, variables=["meals"], at={"ell": "median"})
    np.testing.assert_allclose(m.estimates, [-0.0010745904150601], rtol=R)
    np.testing.assert_allclose(m.std_errors, [0.00139415415437253], rtol=R)


def test_over_groups_and_their_contrast_match_r(m1):
    """R: AMEs of ell and meals within each awards group (each group's own rows), and Yes - No."""
    m = margins(m1, variables=["ell", "meals"], over="awards")
    assert m.estimand == ["ame over(awards=No)"] * 2 + ["ame over(awards=Yes)"] * 2
    np.testing.assert_allclose(
        m.estimates,
        [-0.004290500933510140, -0.001688395825326536, -0.002924237343965021, -0.000313183219497908],
        rtol=R,
    )
    np.testing.assert_allclose(
        m.std_errors, [0.00265752066765661, 0.00176259799285518, 0.00184527220759467, 0.00130995689768523], rtol=R
    )
    c = margins(m1, variables=["ell", "meals"], over="awards", contrast=True)
    assert c.estimand == ["ame contrast(awards=Yes - awards=No)"] * 2
    np.testing.assert_allclose(c.estimates, [0.00136626358954512, 0.00137521260582863], rtol=R)
    np.testing.assert_allclose(c.std_errors, [0.000870742010509358, 0.000864917918030023], rtol=R)


@pytest.mark.parametrize(
    "elasticity, estimates, std_errors",
    [
        ("eyex", [-0.135215294787061, -0.163460217513977], [0.095224779066124, 0.137693443589699]),
        ("dyex", [-0.0735836629975231, -0.0582881799105500], [0.0485401998879196, 0.0628988589481297]),
        ("eydx", [-0.00600956865709933, -0.00231039134578775], [0.00387102747137649, 0.00267734839582947]),
    ],
)
def test_elasticities_with_an_interaction_match_r(m1, elasticity, estimates, std_errors):
    m = margins(m1, variables=["ell", "meals"], elasticity=elasticity)
    np.testing.assert_allclose(m.estimates, estimates, rtol=R)
    np.testing.assert_allclose(m.std_errors, std_errors, rtol=R)


SPECTOR_STATA = {  # results_discrete.py: margeff_nodummy_<name>, <name>_se
    "eyex": ([5.4747106798973, 1.3173389907576, 0.44600395466634], [2.44682, 1.943525, 0.1567618]),
    "dyex": ([1.1774000792198, 0.27896245178384, 0.16960002159996], [0.3616481, 0.4090679, 0.0635583]),
    "eydx": ([1.8546366266779, 0.06244722072812, 1.5610138123033], [0.847903, 0.0930901, 0.7146715]),
}


@pytest.mark.parametrize("elasticity", list(SPECTOR_STATA))
def test_elasticities_match_stata(spector, elasticity):
    """`margins, eyex(*)` (dyex, eydx) after `logit grade gpa tuce psi` (Stata 11)."""
    m = margins(fit(ModelSpec("GRADE", ["GPA", "TUCE", "PSI"], kind="logit"), spector), elasticity=elasticity)
    estimates, std_errors = SPECTOR_STATA[elasticity]
    np.testing.assert_allclose(m.estimates, estimates, rtol=2e-7)  # Stata differentiates numerically
    np.testing.assert_allclose(m.std_errors, std_errors, atol=STATA, rtol=5e-7)
    assert set(m.estimand) == {elasticity}


def test_elasticities_at_means_and_of_a_factor_match_stata(spector):
    """margeff_nodummy_eyexmean (`margins, eyex(*) atmeans`) and margeff_dummy_eydx (`logit grade gpa
    tuce i.psi`, `margins, eydx(*)`: a factor's eydx is the average change of ln mu)."""
    f = fit(ModelSpec("GRADE", ["GPA", "TUCE", "PSI"], kind="logit"), spector)
    m = margins(f, at="means", elasticity="eyex")
    np.testing.assert_allclose(m.estimates, [6.5822977203268, 1.5597536538833, 0.77757191612739], rtol=2e-7)
    np.testing.assert_allclose(m.std_errors, [3.354433, 2.372543, 0.3990368], atol=STATA, rtol=5e-7)
    data = spector.assign(psi=pd.Categorical(spector["PSI"].astype(int)))
    f = fit(ModelSpec("GRADE", ["GPA", "TUCE", {"factor": "psi", "reference": 0}], kind="logit"), data)
    m = margins(f, elasticity="eydx")
    np.testing.assert_allclose(m.estimates, [1.8546366266779, 0.06244722072812, 1.5549034398832], rtol=2e-7)
    np.testing.assert_allclose(m.std_errors, [0.847903, 0.0930901, 0.7283702], atol=STATA, rtol=5e-7)


@pytest.mark.parametrize(
    "at, estimates, std_errors",
    [
        # margeff_nodummy_dydxmedian: margins, dydx(*) at((median) _all)
        ({"GPA": "median", "TUCE": "median", "PSI": "median"},
         [0.25009492465091, 0.00842091261329, 0.2105003352955], [0.1546708, 0.0134314, 0.0928183]),
        # margeff_nodummy_atexog1: margins, dydx(*) at(gpa=2 psi=1), tuce as observed
        ({"GPA": 2.0, "PSI": 1}, [0.1456333017086, 0.00490359933927, 0.12257689308426],
         [0.145633, 0.0111226, 0.1777101]),
        # margeff_nodummy_atexog2: margins, dydx(*) at((mean) gpa tuce=21 psi=0)
        ({"GPA": "mean", "TUCE": 21, "PSI": 0}, [0.25105129214546, 0.00845311433473, 0.2113052923675],
         [0.1735778, 0.012017, 0.0971515]),
    ],
)  # fmt: skip
def test_at_scenarios_match_stata(spector, at, estimates, std_errors):
    m = margins(fit(ModelSpec("GRADE", ["GPA", "TUCE", "PSI"], kind="logit"), spector), at=at)
    np.testing.assert_allclose(m.estimates, estimates, atol=1e-7, rtol=1e-7)
    np.testing.assert_allclose(m.std_errors, std_errors, atol=STATA, rtol=5e-7)


def test_margins_requests_are_refused_with_a_reason(m1):
    with pytest.raises(InputError, match="eyex is for continuous variables; 'stype' is a factor"):
        margins(m1, variables=["stype"], elasticity="eyex")
    with pytest.raises(InputError, match="contrast compares the groups of `over`"):
        margins(m1, variables=["ell"], contrast=True)
    with pytest.raises(InputError, match=r"at stype='X' is not one of its levels"):
        margins(m1, variables=["ell"], at={"stype": "X"})
    with pytest.raises(InputError, match="predict 'ell' must be a factor"):
        margins(m1, predict="ell")


# --- 4. expected information --------------------------------------------------------------------


def test_eim_is_what_summary_glm_prints(strat):
    """R's summary.glm: probit (expected information differs from the observed for a non-canonical
    link) and Gamma with log link (dispersion = Pearson chi-square / (n - k) = 0.0145682153261986)."""
    probit = fit(ModelSpec("yes", ["ell", "meals", "mobility"], kind="probit", vce="eim"), strat)
    np.testing.assert_allclose(
        probit.variance.std_errors,
        [0.00741003296346201, 0.00532804810056023, 0.01252494419165616, 0.22662215442908848],
        rtol=R,
    )
    oim = fit(ModelSpec("yes", ["ell", "meals", "mobility"], kind="probit"), strat)
    assert np.max(np.abs(oim.variance.std_errors / probit.variance.std_errors - 1)) > 1e-4
    gamma = fit(
        ModelSpec("api00", ["ell", "meals", "mobility"], kind="glm", family="gamma", link="log", vce="eim"), strat
    )
    np.testing.assert_allclose(
        gamma.variance.std_errors,
        [0.000652009725955535, 0.000454632336504548, 0.000730168379466539, 0.018130263877212255],
        rtol=R,
    )
    with pytest.raises(InputError, match="kind ols supports vce oim, robust, cluster, survey, not 'eim'"):
        fit(ModelSpec("api00", ["ell"], kind="ols", vce="eim"), strat)


# --- 3. survey designs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, survey, se",
    [
        ("strat", STRATIFIED, 9.40894),  # svymean(~api00, dstrat)
        ("clus1", CLUSTERED, 23.54224),  # svymean(~api00, dclus1)
        ("clus1", {"psu": "dnum", "weights": "pw"}, 23.77901),  # without fpc
    ],
)
def test_survey_mean_matches_svymean(name, survey, se):
    """The predictive margin of an intercept-only regression is the weighted mean."""
    f = fit(ModelSpec("api00", [], kind="ols", vce="survey", survey=survey), api(name))
    m = margins(f, predict=True)
    assert m.estimates[0] == pytest.approx(662.2873631593 if name == "strat" else 644.1693989071, rel=1e-10)
    assert m.std_errors[0] == pytest.approx(se, abs=5e-6)
    assert f.df_resid == (197 if name == "strat" else 14)  # degf(design): PSUs minus strata


@pytest.mark.parametrize(
    "name, spec, se",
    [
        ("strat", dict(outcome="api00", covariates=["ell", "meals", "mobility"], kind="ols", survey=STRATIFIED),
         [0.391973403222528, 0.283946506416501, 0.393218362022529, 10.077735949885390]),
        ("clus1", dict(outcome="yes", covariates=["ell", "meals", STYPE], kind="logit", survey=CLUSTERED),
         [0.01202216015284267, 0.00864442771971563, 0.57931960794981852, 0.59684075765999411,
          0.49877590223548313]),
        ("clus1", dict(outcome="enroll", covariates=["ell", "meals"], kind="glm", family="poisson", link="log",
                       survey=CLUSTERED), [0.00502849962045986, 0.00175937269405919, 0.15837070197629932]),
        # Non-canonical links: Stata linearises with the observed information, R's svyglm with the
        # expected; the references are svyrecvar of the observed-information influence functions.
        ("strat", dict(outcome="yes", covariates=["ell", "meals"], kind="probit", survey=STRATIFIED),
         [0.00738886169449391, 0.00481857293472516, 0.178482759821183]),
        ("clus1", dict(outcome="api00", covariates=["ell", "meals", "mobility"], kind="glm", family="gamma",
                       link="log", survey={"psu": "dnum", "weights": "pw"}),
         [0.000515377091279773, 0.000379348051110255, 0.000790811823304215, 0.0314241396103696]),
    ],
)  # fmt: skip
def test_survey_glms_match_svyglm(name, spec, se):
    f = fit(ModelSpec(vce="survey", **spec), api(name))
    np.testing.assert_allclose(f.variance.std_errors, se, rtol=R)
    assert f.df_resid == (197 if name == "strat" else 14)
    row = f.tidy().iloc[0]  # t inference on the design degrees of freedom
    assert row["p_value"] == pytest.approx(2 * __import__("scipy").stats.t.sf(abs(row["statistic"]), f.df_resid))


def test_subpopulations_keep_the_whole_design(strat, clus1):
    """R: svyglm on subset(design, ...), which keeps every PSU of the design."""
    design = SurveyDesign.from_data(clus1, CLUSTERED)
    sub = clus1[clus1["stype"] == "E"]
    f = fit(ModelSpec("yes", ["ell", "meals"], kind="logit", vce="survey", survey=CLUSTERED), sub, design=design)
    np.testing.assert_allclose(f.params, [0.0337491457019525, -0.0253025840272193, 2.8683101121974062], rtol=1e-7)
    np.testing.assert_allclose(
        f.variance.std_errors, [0.01149899272916690, 0.00727333248760118, 0.57893841483204822], rtol=R
    )
    design = SurveyDesign.from_data(strat, STRATIFIED)
    spec = ModelSpec("api00", ["ell", "meals"], kind="ols", vce="survey", survey=STRATIFIED)
    f = fit(spec, strat[strat["meals"] > 50], design=design)
    np.testing.assert_allclose(
        f.variance.std_errors, [0.482787018669095, 0.712951359022937, 45.712399360569819], rtol=R
    )
    # Dropping the rows instead (a design of the subsample only) gives other standard errors.
    dropped = fit(spec, strat[strat["meals"] > 50])
    assert abs(dropped.variance.std_errors[0] / f.variance.std_errors[0] - 1) > 1e-3


@pytest.mark.parametrize(
    "singleunit, se",
    [  # R's options(survey.lonely.psu = certainty / adjust / average)
        ("certainty", [0.390584838579512, 0.276909905695412, 8.740174568693911]),
        ("centered", [0.393612070892959, 0.280186388561127, 8.941020471981545]),
        ("scaled", [0.451008523390535, 0.319748017189040, 10.092284279999502]),
        ("missing", [np.nan] * 3),
    ],
)
def test_single_psu_strata_as_stata_singleunit(strat, singleunit, se):
    single = strat.assign(str=strat["stype"].astype(str))
    single.loc[single.index[single["stype"] == "E"][0], "str"] = "E1"
    survey = {"strata": "str", "weights": "pw", "singleunit": singleunit}
    f = fit(ModelSpec("api00", ["ell", "meals"], kind="ols", vce="survey", survey=survey), single)
    np.testing.assert_allclose(f.variance.std_errors, se, rtol=R)
    assert any("single PSU (E1)" in message for message in f.messages)


def test_survey_margins_match_r(clus1):
    """R: AMEs and predictive margins after svyglm(yes ~ ell + meals + stype, dclus1), weighted."""
    f = fit(ModelSpec("yes", ["ell", "meals", STYPE], kind="logit", vce="survey", survey=CLUSTERED), clus1)
    m = margins(f, variables=["ell", "stype"])
    np.testing.assert_allclose(m.estimates[:2], [0.00380702741066633, -0.11491623728084825], rtol=R)
    np.testing.assert_allclose(m.std_errors[:2], [0.00114179041965707, 0.07940729619821547], rtol=R)
    p = margins(f, predict="stype")
    np.testing.assert_allclose(p.estimates, [0.916737582116158, 0.801821344835310, 0.675717384679769], rtol=R)
    np.testing.assert_allclose(p.std_errors, [0.0125718842413307, 0.0733629369637342, 0.1088451007944335], rtol=R)
    assert p.tidy()["p_value"].notna().all()


def test_survey_two_part_linearises_both_parts_together(clus1):
    """R: svyrecvar of both parts' influence functions stacked on the schools (the Gamma part's
    from the observed information): the combined AME of ell 2.03074681916162, SE 0.905813176699397."""
    data = clus1.assign(amount=np.where(clus1["yes"] > 0, clus1["api00"], 0.0))
    tp = fit_two_part(
        ModelSpec("yes", ["ell", "meals"], kind="logit", vce="survey", survey=CLUSTERED),
        ModelSpec("amount", ["ell", "meals"], kind="glm", family="gamma", link="log", vce="survey", survey=CLUSTERED),
        data,
        data["yes"] > 0,
    )
    m = tp.combined_margins(["ell"])
    assert m.estimates[0] == pytest.approx(2.03074681916162, rel=1e-6)
    assert m.std_errors[0] == pytest.approx(0.905813176699397, rel=1e-5)


def test_survey_concentration_index_matches_svyglm_of_the_convenient_regression(clus1):
    """R: svyglm(2 var(r) yes / mean ~ rank, dclus1): slope -0.00474726775956277, SE 0.0137751173326357."""
    rows = DesignRows.of(SurveyDesign.from_data(clus1, CLUSTERED), clus1)
    index = concentration_index(clus1["yes"], clus1["api99"], clus1["pw"], vce="survey", design_rows=rows)
    assert index.estimate == pytest.approx(-0.00474726775956277, rel=1e-9)
    assert index.std_error == pytest.approx(0.0137751173326357, rel=1e-9)
    assert index.df_resid == 14


def test_survey_design_errors_name_the_key(clus1):
    with pytest.raises(InputError, match="vce survey needs `survey:`"):
        fit(ModelSpec("yes", ["ell"], kind="logit", vce="survey"), clus1)
    with pytest.raises(InputError, match="used by vce survey only"):
        fit(ModelSpec("yes", ["ell"], kind="logit", survey=CLUSTERED), clus1)
    with pytest.raises(InputError, match="singleunit: 'drop' is not one of missing, certainty, scaled, centered"):
        fit(ModelSpec("yes", ["ell"], kind="logit", vce="survey", survey={**CLUSTERED, "singleunit": "drop"}), clus1)
    with pytest.raises(InputError, match="appears in more than one stratum; set nest: true"):
        fit(ModelSpec("yes", ["ell"], kind="logit", vce="survey", survey={"strata": "stype", "psu": "dnum"}), clus1)


# --- 4. the random-intercept logit as Stata's melogit -------------------------------------------


def test_exact_laplace_matches_the_exact_approximation_fitted_in_r():
    """tests/data/exact_laplace_cbpp.R (base R optim/optimHess on the exact Laplace log-likelihood):
    glmer's own SEs (0.2312140481, ...) are about 0.5-1.3% below these, as the README says."""
    herds = pd.read_csv(os.path.join(HERE, "data", "cbpp.csv"))
    rows = [(r.herd, r.period, int(k < r.incidence)) for r in herds.itertuples() for k in range(r.size)]
    data = pd.DataFrame(rows, columns=["herd", "period", "y"])
    X = np.column_stack([np.ones(len(data))] + [(data["period"] == p).astype(float) for p in (2, 3, 4)])
    f = fit_exact_laplace(X, data["y"].to_numpy(float), data["herd"].to_numpy())
    assert f.converged
    np.testing.assert_allclose(
        f.params, [-1.398532041598, -0.992332904821, -1.128672259886, -1.580314078244], atol=1e-7
    )
    np.testing.assert_allclose(
        np.sqrt(np.diag(f.cov)), [0.232471978479, 0.306642499608, 0.326637849495, 0.427436573827], rtol=1e-5
    )
    assert f.variance == pytest.approx(0.412499676476, rel=1e-6)
    assert f.variance_se == pytest.approx(0.229367288357, rel=1e-4)
    assert f.loglik == pytest.approx(-277.5019415489, abs=1e-8)


def test_melogit_approximation_is_refused_elsewhere():
    with pytest.raises(InputError, match="`approximation` belongs to kind melogit"):
        fit(
            ModelSpec("y", ["x"], kind="logit", approximation="exact_laplace"), pd.DataFrame({"y": [0, 1], "x": [1, 2]})
        )


# --- config -------------------------------------------------------------------------------------


def _config_with(equation: dict, survey: dict | None = None, models: dict | None = None) -> dict:
    from conftest import load_config

    config = load_config()
    study = config["studies"]["medical_return"]
    study["models"]["equations"]["medical_return"].update(equation)
    study["models"].update(models or {})
    if survey == "none":
        del config["datasets"]["cmds2014"]["survey"]
    elif survey == "eim models":
        study["models"]["vce"] = "eim"
    elif survey is not None:
        study["survey"] = survey
    return config


@pytest.mark.parametrize(
    "equation, survey, message",
    [
        ({"vce": "survey"}, "none", "vce survey needs the sampling design"),
        ({"kind": "ols", "vce": "eim"}, None, "vce: .eim. is not allowed; choose one of oim, robust, cluster, survey"),
        ({"kind": "ols"}, "eim models", "kind ols supports vce oim, robust, cluster, survey"),
        ({"margins": [{"over": "female", "contrast": True, "at": "means"}]}, None, "atmeans.*not combined"),
        ({"margins": [{"contrast": True}]}, None, "contrast: contrasts compare the groups of `over`"),
        ({"margins": [{"at": {"age": {"expr": "x"}}}]}, None, "is not a literal"),
        ({"margins": [{"predict": "female", "dydx": ["age"]}]}, None, "predict gives predictive margins"),
        ({"approximation": "exact_laplace"}, None, "approximation"),
        ({}, {"strata": "province", "singleunit": "drop"}, "singleunit"),
    ],
)
def test_config_refuses_what_the_estimators_would_not_honour(equation, survey, message):
    from conftest import ROOT

    from migrant_health.config import validate_config

    with pytest.raises(InputError, match=message):
        validate_config(_config_with(equation, survey), ROOT / "schemas" / "config.schema.yaml")


def test_config_accepts_a_survey_study_with_margins_requests():
    from conftest import ROOT

    from migrant_health.config import validate_config

    request = {
        "vce": "survey",
        "margins": [{"predict": "medical_insurance"}, {"dydx": ["age"], "at": {"age": [30, 40]}}],
    }
    config = validate_config(_config_with(request), ROOT / "schemas" / "config.schema.yaml")
    assert yaml.safe_dump(config["datasets"]["cmds2014"]["survey"])  # the synthetic CMDS carries its design


# --- the study pipeline -------------------------------------------------------------------------


def test_a_study_subsample_is_a_subpopulation_of_the_whole_file(clus1):
    """estimation.fit_unit with vce survey: the subsample `elementary` is fitted within the whole
    file's design (R: svyglm on subset(dclus1, stype == "E"), as in the API test above), and the
    equation's margins requests come out with their estimands."""
    from migrant_health.estimation import fit_unit

    models = {
        "covariates": ["ell", "meals"],
        "vce": "survey",
        "samples": {"elementary": "stype == 'E'"},
        "equations": {
            "award": {
                "outcome": "yes",
                "kind": "logit",
                "report": ["coef"],
                "margins": [{"dydx": ["ell"], "at": {"meals": "mean"}}],
            }
        },
    }
    design = SurveyDesign.from_data(clus1, CLUSTERED)
    result = fit_unit(clus1, models, "demo", "award", CLUSTERED, design).estimates
    coefs = result[result["estimand"] == "coef"]
    np.testing.assert_allclose(
        coefs["std_error"], [0.01149899272916690, 0.00727333248760118, 0.57893841483204822], rtol=R
    )
    # Then the fit's statistics: under svy only the subpopulation's N (Stata's svy stores no ll).
    assert list(result["estimand"][3:]) == ["ame at(meals=mean)", "n_obs"]


def test_effect_tables_print_interaction_rows_with_their_stata_labels(m1):
    from migrant_health.tables.effects import effect_table

    table = effect_table(
        m1.tidy("demo", "total").assign(model="m1"),
        {"models": {"m1": "Model"}, "samples": ["total"], "estimand": "coef"},
        {},
    )
    assert {"H.stype#c.meals", "M.stype#c.meals"} <= set(table["Variables"])


def test_interaction_mistakes_are_named(strat):
    stype_continuous = {"interaction": ["stype", "meals"]}
    with pytest.raises(InputError, match=r"\['stype'\] enter both as a factor and as a continuous variable"):
        fit(ModelSpec("yes", ["meals", STYPE, stype_continuous], kind="logit"), strat)
    with pytest.raises(InputError, match="needs a list of at least two parts"):
        fit(ModelSpec("yes", ["meals", {"interaction": ["meals"]}], kind="logit"), strat)
    with pytest.raises(InputError, match="declared twice"):
        fit(ModelSpec("yes", ["ell", "meals", {"interaction": ["ell", "meals"]}, {"interaction": ["ell", "meals"]}],
                      kind="logit"), strat)  # fmt: skip
