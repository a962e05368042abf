"""The statistical core against its own definitions: finite differences, numerical
Jacobians, hand-computed discrete changes, and Stata's conventions where no printed
reference exists."""

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest
import statsmodels
import statsmodels.api as sm
from scipy.optimize import approx_fprime

from migrant_health.errors import InputError
from migrant_health.stats import ModelSpec, fit, fit_two_part, margins
from migrant_health.stats.inference import TIDY_COLUMNS
from migrant_health.stats.models import LINKS

FAMILY_LINKS = [
    ("binomial", "logit"),
    ("binomial", "probit"),
    ("binomial", "cloglog"),
    ("gamma", "log"),
    ("gamma", "inverse_power"),
    ("gamma", "identity"),
    ("gaussian", "identity"),
    ("gaussian", "log"),
    ("poisson", "log"),
    ("poisson", "sqrt"),
    ("inverse_gaussian", "log"),
    ("inverse_gaussian", "inverse_squared"),
]


def simulated(n=3000, seed=1, family="binomial", link="logit"):
    """Data with a continuous x, a 3-level factor g and an outcome of the family."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = pd.Categorical(rng.choice(["a", "b", "c"], n), categories=["a", "b", "c"])
    z = rng.normal(size=n)
    eta = 0.3 * x + np.select([g == "b", g == "c"], [0.4, -0.5], 0.0) + 0.2 * z
    if family == "binomial":
        y = (rng.random(n) < LINKS[link]().inverse(eta.clip(-3, 3) * 0.7)).astype(float)
    else:
        positive = {
            "identity": 5 + eta,
            "inverse_power": 1 / (0.5 + 0.05 * eta),
            "sqrt": 2 + 0.3 * eta,
            "inverse_squared": 1 / np.sqrt(0.5 + 0.05 * eta),
        }.get(link, np.exp(0.5 + 0.3 * eta))
        y = {
            "gamma": rng.gamma(4, positive / 4),
            "gaussian": positive + rng.normal(0, 0.5, n),
            "poisson": rng.poisson(positive).astype(float),
            "inverse_gaussian": rng.wald(positive, 8),
        }[family]
    return pd.DataFrame(
        {"y": y, "x": x, "g": g, "z": z, "w": rng.uniform(0.5, 2, n), "cluster": rng.integers(0, 60, n)}
    )


def spec(family, link, **kw):
    kind = {"binomial": "glm"}.get(family, "glm")
    return ModelSpec("y", ["x", {"factor": "g", "reference": "a"}, "z"], kind=kind, family=family, link=link, **kw)


def average_prediction(f, data):
    return np.mean(f.link.inverse(f.design.matrix(data) @ f.params))


@pytest.mark.parametrize("family, link", FAMILY_LINKS)
def test_link_derivatives_match_finite_differences(family, link):
    lk = LINKS[link]()
    eta = np.linspace(0.2, 1.5, 7)
    h = 1e-6
    np.testing.assert_allclose(lk.inverse_deriv(eta), (lk.inverse(eta + h) - lk.inverse(eta - h)) / (2 * h), rtol=1e-5)
    np.testing.assert_allclose(
        lk.inverse_deriv2(eta), (lk.inverse_deriv(eta + h) - lk.inverse_deriv(eta - h)) / (2 * h), rtol=1e-4
    )


@pytest.mark.parametrize("family, link", FAMILY_LINKS)
def test_ames_match_finite_differences_and_numerical_jacobian(family, link):
    data = simulated(family=family, link=link)
    f = fit(spec(family, link), data)
    m = margins(f)
    # Continuous x: the derivative of the average prediction.
    h = 1e-5
    up, down = data.assign(x=data["x"] + h), data.assign(x=data["x"] - h)
    assert m.estimates[0] == pytest.approx(
        (average_prediction(f, up) - average_prediction(f, down)) / (2 * h), rel=1e-6
    )
    # Factor level c: every row at c minus every row at the reference a.
    at = {lvl: data.assign(g=pd.Categorical([lvl] * len(data), categories=["a", "b", "c"])) for lvl in "abc"}
    assert m.estimates[2] == pytest.approx(average_prediction(f, at["c"]) - average_prediction(f, at["a"]), rel=1e-9)

    # Delta method: the analytic Jacobian equals a numerical one.
    def ames(params):
        return margins(dataclasses.replace(f, params=params)).estimates

    numerical = np.array([approx_fprime(f.params, lambda p, i=i: ames(p)[i], 1e-7) for i in range(len(m.estimates))])
    np.testing.assert_allclose(m.jacobian, numerical, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m.cov, m.jacobian @ f.cov @ m.jacobian.T)


def test_three_level_factor_is_a_discrete_change_from_base_unlike_get_margeff():
    data = simulated(family="binomial", link="probit", seed=7)
    f = fit(spec("binomial", "probit"), data)
    m = margins(f)
    at = {lvl: data.assign(g=pd.Categorical([lvl] * len(data), categories=["a", "b", "c"])) for lvl in "abc"}
    by_hand = {lvl: average_prediction(f, at[lvl]) - average_prediction(f, at["a"]) for lvl in "bc"}
    assert m.labels[1:3] == [("g", "b", "a"), ("g", "c", "a")]
    np.testing.assert_allclose(m.estimates[1:3], [by_hand["b"], by_hand["c"]], rtol=1e-10)
    # statsmodels flips each dummy column on its own, leaving the other dummy as observed:
    # level b's effect is then averaged partly over rows that are at c, not at the base.
    X = np.column_stack([data["x"], data["g"] == "b", data["g"] == "c", data["z"], np.ones(len(data))]).astype(float)
    ref = sm.Probit(data["y"], X).fit(disp=0, tol=1e-12)
    statsmodels_b = ref.get_margeff(dummy=True).margeff[1]
    assert abs(statsmodels_b - by_hand["b"]) > 1e-3


def test_polynomial_is_one_term_and_a_generated_square_is_its_own():
    data = simulated(seed=3).assign(age=lambda d: 40 + 10 * d["x"])
    data["age2"] = data["age"] ** 2
    poly = fit(ModelSpec("y", [{"polynomial": "age", "degree": 2}, "z"], kind="probit"), data)
    split = fit(ModelSpec("y", ["age", "age2", "z"], kind="probit"), data)
    np.testing.assert_allclose(poly.params, split.params, rtol=1e-6)  # same model
    m_poly, m_split = margins(poly), margins(split)
    assert [lab[0] for lab in m_poly.labels] == ["age", "z"]
    assert [lab[0] for lab in m_split.labels] == ["age", "age2", "z"]
    # The polynomial effect of age includes the squared part: it is the full derivative.
    h = 1e-4
    full = (
        average_prediction(poly, data.assign(age=data["age"] + h))
        - average_prediction(poly, data.assign(age=data["age"] - h))
    ) / (2 * h)
    assert m_poly.estimates[0] == pytest.approx(full, rel=1e-6)
    assert m_split.estimates[0] != pytest.approx(full, rel=1e-2)


def test_weighted_effects_are_weighted_averages_and_need_robust_variance():
    data = simulated(seed=4)
    with pytest.raises(InputError, match="probability weights need vce robust, cluster or survey"):
        fit(spec("binomial", "logit", weights="w"), data)
    f = fit(spec("binomial", "logit", weights="w", vce="robust"), data)
    m = margins(f)
    w = data["w"].to_numpy()
    b = f.params
    X = f.design.matrix(data)
    slope = f.link.inverse_deriv(X @ b) * b[0]
    assert m.estimates[0] == pytest.approx(np.sum(w * slope) / w.sum(), rel=1e-10)
    # Weighted estimating equations: the weighted score is zero at the estimate.
    resid = data["y"] - f.link.inverse(X @ b)
    np.testing.assert_allclose((w * resid) @ X, 0, atol=1e-6)


def test_linear_scale_of_a_log_link_glm_gives_log_effects():
    data = simulated(family="gamma", link="log", seed=5)
    f = fit(spec("gamma", "log"), data)
    m = margins(f, scale="linear")
    np.testing.assert_allclose(m.estimates, f.params[:4], rtol=1e-10)
    np.testing.assert_allclose(m.std_errors, np.sqrt(np.diag(f.cov))[:4], rtol=1e-10)


def test_oim_is_the_observed_information_for_a_non_canonical_link():
    """Stata's glm default (vce oim). Cancer data of Stata's manual, Gamma with log link."""
    path = os.path.join(os.path.dirname(statsmodels.__file__), "genmod", "tests", "results", "stata_cancer_glm.csv")
    cancer = pd.read_csv(path).assign(drug=lambda d: pd.Categorical(d["drug"]))
    f = fit(
        ModelSpec("studytime", ["age", {"factor": "drug", "reference": 1}], kind="glm", family="gamma", link="log"),
        cancer,
    )
    family = sm.families.Gamma(sm.families.links.Log())
    mu = np.exp(f.X @ f.params)
    scale = np.sum((f.y - mu) ** 2 / mu**2) / (len(f.y) - 4)  # Pearson dispersion, Stata's default
    # Gamma-log log-likelihood: sum(-y/mu - log mu)/phi; its second derivative in b is
    # -X' diag(y/mu) X / phi (observed), whose expectation is -X'X / phi (expected).
    observed = -(f.X * (f.y / mu)[:, None]).T @ f.X / scale
    np.testing.assert_allclose(f.cov, np.linalg.inv(-observed), rtol=1e-6)
    eim = sm.GLM(f.y, f.X, family=family).fit().bse
    assert np.max(np.abs(np.sqrt(np.diag(f.cov)) / eim - 1)) > 0.01  # not the expected information


def test_two_part_combined_effects():
    rng = np.random.default_rng(11)
    data = simulated(n=4000, seed=11)
    data["amount"] = np.where(data["y"] > 0, rng.gamma(3, np.exp(1 + 0.4 * data["x"]) / 3), 0.0)
    covs = ["x", {"factor": "g", "reference": "a"}, "z"]
    tp = fit_two_part(
        ModelSpec("y", covs, kind="probit"),
        ModelSpec("amount", covs, kind="glm", family="gamma", link="log"),
        data,
        data["y"] > 0,
    )
    assert tp.second.n_obs == int((data["y"] > 0).sum())
    m = tp.combined_margins()

    def expected_y(params1, params2, frame):
        p = tp.first.link.inverse(tp.first.design.matrix(frame) @ params1)
        mu = np.exp(tp.second.design.matrix(frame) @ params2)
        return np.mean(p * mu)

    b1, b2 = tp.first.params, tp.second.params
    h = 1e-5
    fd = (expected_y(b1, b2, data.assign(x=data["x"] + h)) - expected_y(b1, b2, data.assign(x=data["x"] - h))) / (2 * h)
    assert m.estimates[0] == pytest.approx(fd, rel=1e-6)
    at = {lvl: data.assign(g=pd.Categorical([lvl] * len(data), categories=["a", "b", "c"])) for lvl in "ac"}
    assert m.estimates[2] == pytest.approx(expected_y(b1, b2, at["c"]) - expected_y(b1, b2, at["a"]), rel=1e-9)

    k = len(b1)

    def effects(theta):
        parts = [dataclasses.replace(tp.first, params=theta[:k]), dataclasses.replace(tp.second, params=theta[k:])]
        return type(tp)(parts[0], parts[1], data).combined_margins().estimates

    theta = np.r_[b1, b2]
    numerical = np.array([approx_fprime(theta, lambda t, i=i: effects(t)[i], 1e-7) for i in range(len(m.estimates))])
    np.testing.assert_allclose(m.jacobian, numerical, rtol=1e-4, atol=1e-5)
    V = np.block([[tp.first.cov, np.zeros((k, len(b2)))], [np.zeros((len(b2), k)), tp.second.cov]])
    np.testing.assert_allclose(m.cov, m.jacobian @ V @ m.jacobian.T)
    tidy = tp.tidy(study="demo", sample="all")
    assert list(tidy.columns) == TIDY_COLUMNS
    assert set(tidy["equation"]) == {"first", "second", "combined"}


@pytest.mark.parametrize("kind", ["glm", "logit", "probit"])
def test_perfect_separation_is_reported_not_silent(kind):
    data = simulated(seed=9)
    data.loc[data["g"] == "c", "y"] = 1.0  # everyone at level c has the outcome
    model = dataclasses.replace(
        spec("binomial", "probit" if kind == "probit" else "logit"), kind=kind, name="sep_model"
    )
    with pytest.warns(UserWarning, match=r"sep_model: perfect separation by g=c"):
        f = fit(model, data)
    assert not f.converged
    assert not margins(f).tidy()["converged"].any()


def test_missing_values_are_an_error_naming_the_variable():
    data = simulated(seed=2)
    data.loc[:4, "z"] = np.nan
    with pytest.raises(InputError, match=r"missing values in z \(5\)"):
        fit(spec("binomial", "logit"), data)


def test_linear_regression_hc1_and_cluster_follow_regress():
    data = simulated(family="gaussian", link="identity", seed=6)
    X = sm.add_constant(
        np.column_stack([data["x"], data["g"] == "b", data["g"] == "c", data["z"]]).astype(float), prepend=False
    )
    for vce, kwargs in [
        ("robust", dict(cov_type="HC1")),
        ("cluster", dict(cov_type="cluster", cov_kwds={"groups": data["cluster"]})),
    ]:
        ours = fit(
            ModelSpec("y", ["x", {"factor": "g", "reference": "a"}, "z"], kind="ols", vce=vce, cluster="cluster"), data
        )
        ref = sm.OLS(data["y"], X).fit(**kwargs)
        np.testing.assert_allclose(np.sqrt(np.diag(ours.cov)), ref.bse, rtol=1e-10)
        # t inference after regress: n - k degrees of freedom, G - 1 with vce(cluster) ([R] regress;
        # statsmodels' df_resid_inference says the same)
        expected_df = data["cluster"].nunique() - 1 if vce == "cluster" else len(data) - 5
        assert ours.df_resid == expected_df
        if vce == "cluster":
            assert ref.df_resid_inference == expected_df


def test_tidy_follows_the_contract():
    data = simulated(seed=8)
    f = fit(spec("binomial", "logit"), data)
    for frame in (f.tidy("s", "all"), margins(f).tidy("s", "all")):
        assert list(frame.columns) == TIDY_COLUMNS
    coefs = f.tidy()
    row = coefs[(coefs["term"] == "g") & (coefs["level"] == "b")].iloc[0]
    assert row["reference"] == "a" and row["estimand"] == "coef" and row["n_obs"] == len(data)
