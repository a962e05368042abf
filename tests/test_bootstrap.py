"""The bootstrap as jobs (issue 17, point 3): interval formulas against R's boot.ci, one seed per
replicate (the same results whatever the chunks), cluster and stratified resampling, failures
counted and stopping the run, the fast refits against the full-sample code, config errors."""

import copy
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, load_config

from migrant_health import model_bootstrap
from migrant_health.config import validate_config
from migrant_health.errors import InputError
from migrant_health.io.files import EXACT_FLOAT, write_csv
from migrant_health.stats.bootstrap import (
    Resampler,
    acceleration,
    bca_interval,
    jackknife_influence,
    percentile_interval,
    replicate_rng,
    replicate_seeds,
)

DATA = ROOT / "tests" / "data"
SCHEMA = ROOT / "schemas" / "config.schema.yaml"

# --- interval formulas against R ------------------------------------------------------------
# tests/data/bootstrap_boot_ci.R (R 4.2.2, boot 1.3-28.1) drew the replicates (written to
# tests/data/bootstrap_{aircondit,city}_t.csv) and printed boot.ci's intervals, e.g.
#   air <- boot(aircondit$hours, function(d, i) mean(d[i]), R = 999)   # set.seed(20140501)
#   boot.ci(air, conf = 0.95, type = c("perc", "bca"), L = empinf(air, type = "jack"))
#   cty <- boot(city, function(d, i) sum(d$x[i]) / sum(d$u[i]), R = 1000)   # set.seed(17)
#   boot.ci(cty, conf = 0.95, type = "bca", L = (n - 1) * (mean(jack) - jack))
# We feed the same replicates and the jackknife of the same data to our functions.
R_AIRCONDIT = {  # R = 999: (R + 1) alpha is an integer, the order statistics themselves
    "t0": 108.083333333333,
    "percentile": (47.5833333333333, 195.5),
    "bca": (57.4372299707372, 235.050057736891),
}
R_CITY = {  # R = 1000: boot's norm.inter interpolation between order statistics
    "t0": 1.5203125,
    "percentile": (1.25666116549942, 2.06777663413968),
    # L centred at the jackknife mean (Efron and Tibshirani 14.15, Stata's bca), as we compute it:
    "bca": (1.24995079479527, 2.03843591585372),
    "bca90": (1.2809581551847, 1.94573026114024),  # conf = 0.90, empinf's L (centred at t0)
    "acceleration": -0.0112031939602336,
    # empinf(type = "jack") centres L at t0 instead: a = -0.021439199474279, BCa 1.24793597960161-2.03002598175277
    "acceleration_empinf": -0.021439199474279,
    "bca_empinf": (1.24793597960161, 2.03002598175277),
}


def _replicates(name: str) -> np.ndarray:
    return pd.read_csv(DATA / f"bootstrap_{name}_t.csv")["t"].to_numpy(float)


def test_percentile_and_bca_equal_r_boot_ci_on_aircondit():
    hours = pd.read_csv(DATA / "bootstrap_aircondit.csv")["hours"].to_numpy(float)
    t = _replicates("aircondit")
    assert hours.mean() == pytest.approx(R_AIRCONDIT["t0"], rel=1e-14)
    jack = np.array([np.delete(hours, i).mean() for i in range(len(hours))])
    assert percentile_interval(t) == pytest.approx(R_AIRCONDIT["percentile"], rel=1e-12)
    assert bca_interval(t, hours.mean(), jackknife_influence(jack)) == pytest.approx(R_AIRCONDIT["bca"], rel=1e-12)


def test_percentile_and_bca_equal_r_boot_ci_on_city():
    city = pd.read_csv(DATA / "bootstrap_city.csv")
    t = _replicates("city")

    def ratio(d):
        return d["x"].sum() / d["u"].sum()

    t0 = ratio(city)
    assert t0 == pytest.approx(R_CITY["t0"], rel=1e-14)
    jack = np.array([ratio(city.drop(i)) for i in range(len(city))])
    influence = jackknife_influence(jack)
    assert acceleration(influence) == pytest.approx(R_CITY["acceleration"], rel=1e-12)
    assert percentile_interval(t) == pytest.approx(R_CITY["percentile"], rel=1e-12)
    assert bca_interval(t, t0, influence) == pytest.approx(R_CITY["bca"], rel=1e-12)
    # R's own influence values (centred at t0) give R's own default intervals: the formula is boot.ci's.
    empinf = (len(city) - 1) * (t0 - jack)
    assert acceleration(empinf) == pytest.approx(R_CITY["acceleration_empinf"], rel=1e-12)
    assert bca_interval(t, t0, empinf) == pytest.approx(R_CITY["bca_empinf"], rel=1e-12)
    assert bca_interval(t, t0, empinf, level=0.90) == pytest.approx(R_CITY["bca90"], rel=1e-12)


def test_bca_without_replicates_below_the_estimate_is_empty_not_a_number_made_up():
    assert np.isnan(bca_interval(np.arange(1.0, 20.0), 0.5, np.array([1.0, -1.0]))).all()


# --- seeds and resampling -------------------------------------------------------------------


def test_each_replicate_has_its_own_stream_whatever_the_chunks():
    whole = [replicate_rng(s, 1).integers(0, 100, 5).tolist() for s in replicate_seeds(7, 30)]
    pieces = [
        replicate_rng(s, 1).integers(0, 100, 5).tolist()
        for start in range(0, 30, 8)
        for s in replicate_seeds(7, 30, start, min(start + 8, 30))
    ]
    assert pieces == whole
    assert len({tuple(w) for w in whole}) == 30  # distinct streams
    assert replicate_rng(replicate_seeds(7, 30)[3], 0).integers(0, 10**9) != replicate_rng(
        replicate_seeds(7, 30)[3], 1
    ).integers(0, 10**9)  # subsamples of a replicate differ


def test_cluster_resampling_draws_whole_clusters_within_strata():
    clusters = np.repeat(np.arange(12), 5)  # 12 clusters of 5 rows
    strata = np.repeat([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], 5)  # 4 clusters in stratum 0, 8 in stratum 1
    resampler = Resampler(len(clusters), clusters, strata)
    assert resampler.units == 12
    for r in range(20):
        rows = resampler.draw(np.random.default_rng(r))
        assert len(rows) == 60
        drawn = clusters[rows].reshape(-1, 5)
        assert (drawn == drawn[:, :1]).all()  # whole clusters, in one piece
        assert (strata[rows] == 0).sum() == 20 and (strata[rows] == 1).sum() == 40  # G_h of G_h per stratum
    assert sorted(set(clusters[resampler.leave_out(3)])) == [c for c in range(12) if c != 3]
    # each draw's identifier (Stata's idcluster()): a cluster drawn twice is two clusters
    rows = resampler.draw(np.random.default_rng(0))
    drawn = resampler.drawn.reshape(-1, 5)
    assert (drawn == drawn[:, :1]).all() and len(np.unique(resampler.drawn)) == 12
    assert len(np.unique(clusters[rows])) < 12  # some cluster was drawn more than once


# --- a unit's bootstrap on a small two-part model --------------------------------------------


def _two_part_data(n: int = 300, seed: int = 3, rare: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    if rare:
        group[:rare] = "d"  # a level on `rare` rows only: resamples often leave it out
    eta = 0.3 + 0.5 * x + (group == "b") * 0.4
    y = (eta + rng.normal(size=n)) > 0
    amount = np.where(y, rng.gamma(2.0, np.exp(5 + 0.2 * x) / 2.0), 0.0)
    return pd.DataFrame(
        {"x": x, "group": group, "y": y, "amount": amount, "psu": np.arange(n) // 6, "stratum": np.arange(n) // 60}
    )


MODELS = {
    "covariates": ["x", {"factor": "group", "reference": "a"}],
    "vce": "oim",
    "samples": {"total": None, "big_x": "x > -0.5"},
    "equations": {
        "part1": {"outcome": "y", "kind": "probit"},
        "part2": {"outcome": "amount", "kind": "glm", "family": "gamma", "link": "log", "scale": "linear"},
    },
    "two_part": {"first": "part1", "second": "part2"},
}


def _run(data, settings, chunk_size, models=MODELS):
    settings = {**settings, "chunk": chunk_size}
    problems = model_bootstrap.problems(data, models, "toy", "two_part", settings)
    chunks = -(-settings["reps"] // chunk_size)
    replicates = [model_bootstrap.chunk(problems, settings, k) for k in range(chunks)]
    jack = [model_bootstrap.jackknife(problems, k, chunks) for k in range(chunks)]
    full = pd.concat([p_fit for p_fit in _full_estimates(data, models)], ignore_index=True)
    return model_bootstrap.gather(
        full, replicates, jack, settings, "config.yaml: studies.toy.models.two_part.bootstrap"
    )


def _full_estimates(data, models):
    from migrant_health.estimation import fit_unit

    yield fit_unit(data, models, "toy", "two_part").estimates


def _bytes(frame, path):
    write_csv(frame, path, float_format=EXACT_FLOAT)
    return path.read_bytes()


def test_gathered_intervals_are_byte_identical_whatever_the_chunk_size(tmp_path):
    data = _two_part_data(n=150)  # the jackknife refits once per row, in each of the three runs
    settings = {"reps": 24, "seed": 11, "cluster": None, "max_failed": 0.5}
    small, _ = _run(data, settings, 5)
    large, _ = _run(data, settings, 24)
    assert _bytes(small, tmp_path / "a.csv") == _bytes(large, tmp_path / "b.csv")
    # and a different seed gives other replicates
    other, _ = _run(data, {**settings, "seed": 12}, 24)
    assert _bytes(other, tmp_path / "c.csv") != _bytes(large, tmp_path / "b.csv")
    # every number of the unit (coefficients, each part's effects, the combined effects) has both intervals
    combined = small[(small["model"] == "two_part") & small["estimand"].str.startswith("ame bootstrap")]
    assert set(combined["estimand"]) == {"ame bootstrap percentile", "ame bootstrap bca"}
    assert set(combined["term"]) == {"x", "group"}
    assert (combined["conf_low"] < combined["estimate"]).all() and (combined["estimate"] < combined["conf_high"]).all()
    counts = small[small["term"] == "_model"].set_index(["sample", "estimand"])["estimate"]
    assert counts[("total", "bootstrap_reps")] == 24
    # replicates that do not match the unit's numbers stop the gather instead of leaving intervals empty
    settings_ = {**settings, "chunk": 24}
    problems = model_bootstrap.problems(data, MODELS, "toy", "two_part", settings_)
    replicates = model_bootstrap.chunk(problems, settings_, 0).drop(columns=["two_part|combined|x|||ame"])
    full = next(_full_estimates(data, MODELS))
    with pytest.raises(InputError, match=re.escape("the replicates hold no 'two_part|combined|x|||ame'")):
        model_bootstrap.gather(full, [replicates], [model_bootstrap.jackknife(problems)], settings_, "config.yaml: x")


INTERACTED = {  # x enters x#z and the group#x products; the levels of group enter group#x
    **MODELS,
    "covariates": [
        "x",
        "z",
        {"factor": "group", "reference": "a"},
        {"interaction": ["x", "z"]},
        {"interaction": [{"factor": "group", "reference": "a"}, "x"]},
    ],
}


ONE_PART_FACTORS = {  # group enters the first part only, band the second only
    **MODELS,
    "covariates": ["x"],
    "equations": {
        "part1": {**MODELS["equations"]["part1"], "covariates": ["x", {"factor": "group", "reference": "a"}]},
        "part2": {**MODELS["equations"]["part2"], "covariates": ["x", {"factor": "band", "reference": "low"}]},
    },
}


@pytest.mark.parametrize(
    "models", [MODELS, INTERACTED, ONE_PART_FACTORS], ids=["main_effects", "interactions", "one_part_factors"]
)
def test_fast_refits_equal_the_full_sample_code(models):
    data = _two_part_data().assign(
        z=lambda d: np.cos(3 * d["x"]) + 0.1 * d["psu"] % 2,
        band=lambda d: np.array(["low", "mid", "high"])[(d["psu"] * 7) % 3],
    )
    problems = model_bootstrap.problems(data, models, "toy", "two_part", {"cluster": None})
    for problem in problems:
        n = problem.resampler.n
        assert np.allclose(problem.statistic(np.arange(n)), problem.estimate, rtol=1e-8, atol=1e-9, equal_nan=True)
        sub = data if problem.sample == "total" else data[data["x"] > -0.5]
        generic = model_bootstrap._generic_statistic(sub, models, "toy", "two_part", problem.sample, problem.keys)
        positions = np.random.default_rng(5).integers(0, n, n)
        assert np.allclose(problem.statistic(positions), generic(positions), rtol=1e-7, atol=1e-8, equal_nan=True)
    assert len(problems[0].keys) > 10  # coefficients, effects of both parts and the combination


def test_fast_refits_keep_the_survey_weights():
    data = _two_part_data().assign(weight=lambda d: 1.0 + (d["psu"] % 3))
    survey = {"psu": "psu", "strata": "stratum", "weights": "weight"}
    models = {**MODELS, "vce": "survey", "samples": {"total": None}}
    from migrant_health.stats.survey import SurveyDesign

    design = SurveyDesign.from_data(data, survey, "toy")
    (problem,) = model_bootstrap.problems(data, models, "toy", "two_part", {"cluster": "survey"}, survey, design)
    n = problem.resampler.n
    assert np.allclose(problem.statistic(np.arange(n)), problem.estimate, rtol=1e-8, atol=1e-9, equal_nan=True)
    generic = model_bootstrap._generic_statistic(data, models, "toy", "two_part", "total", problem.keys, survey)
    positions = problem.resampler.draw(np.random.default_rng(2))
    assert np.allclose(problem.statistic(positions), generic(positions), rtol=1e-7, atol=1e-8, equal_nan=True)
    unweighted = model_bootstrap.problems(data, {**models, "vce": "oim"}, "toy", "two_part", {"cluster": None})[0]
    assert not np.allclose(unweighted.estimate, problem.estimate)  # the weights matter


def test_cluster_bootstrap_resamples_the_survey_design_and_the_jackknife_leaves_clusters_out():
    data = _two_part_data()
    survey = {"psu": "psu", "strata": "stratum"}
    problems = model_bootstrap.problems(data, MODELS, "toy", "two_part", {"cluster": "survey"}, survey)
    assert problems[0].resampler.units == data["psu"].nunique()
    jack = model_bootstrap.jackknife(problems[:1])
    assert len(jack) == data["psu"].nunique()


def test_failed_replicates_are_counted_reported_and_stop_the_run_past_max_failed():
    data = _two_part_data(rare=3)  # level d on 3 rows: resamples often draw none of them, or too few to vary
    settings = {"reps": 40, "seed": 1, "cluster": None, "max_failed": 0.95}
    tidy, messages = _run(data, settings, 40, {**MODELS, "samples": {"total": None}})
    failed = tidy[(tidy["term"] == "_model") & (tidy["estimand"] == "bootstrap_failed")]["estimate"].iloc[0]
    assert 0 < failed < 40
    assert f"{int(failed)} of 40 bootstrap replicates failed" in messages["message"].iloc[0]
    assert "level not drawn" in messages["message"].iloc[0] or "separation" in messages["message"].iloc[0]
    with pytest.raises(InputError) as err:
        _run(data, {**settings, "max_failed": 0.01}, 40, {**MODELS, "samples": {"total": None}})
    assert str(err.value).startswith("config.yaml: studies.toy.models.two_part.bootstrap: ")
    assert "more than max_failed (0.01)" in str(err.value)


def test_an_unknown_cluster_variable_names_the_key():
    with pytest.raises(InputError) as err:
        model_bootstrap.problems(_two_part_data(), MODELS, "toy", "two_part", {"cluster": "neighbourhood"})
    assert "config.yaml: studies.toy.models.two_part.bootstrap.cluster: 'neighbourhood' is not a variable" in str(
        err.value
    )


# --- config ---------------------------------------------------------------------------------


def test_the_shipped_config_bootstraps_the_benefit_two_part_model():
    config = validate_config(load_config(), SCHEMA)
    settings = config["studies"]["benefit"]["models"]["two_part"]["bootstrap"]
    assert settings["reps"] == 1000 and settings["max_failed"] == 0.05 and settings["chunk"] == 250
    assert config["studies"]["benefit"]["effect_tables"]["two_part"]["bootstrap"] == "bca"


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda m, t: m["two_part"]["bootstrap"].pop("reps"),
            "studies.benefit.models.two_part.bootstrap: 'reps' is a required property",
        ),
        (
            lambda m, t: m["two_part"]["bootstrap"].update(reps=5),
            "studies.benefit.models.two_part.bootstrap.reps: 5 is less than the minimum of 10",
        ),
        (
            lambda m, t: m["two_part"]["bootstrap"].update(resamples=3),
            "studies.benefit.models.two_part.bootstrap: Additional properties are not allowed ('resamples'",
        ),
        (
            lambda m, t: m["equations"]["amount"].update(bootstrap={"reps": 100, "seed": 1}),
            "studies.benefit.models.equations.amount.bootstrap: this equation is a part of the two-part model",
        ),
        (
            lambda m, t: t["table3"].update(bootstrap="bca"),
            "studies.benefit.effect_tables.table3.bootstrap: model 'participation' has no bootstrap; declare "
            "config.yaml: studies.benefit.models.equations.participation.bootstrap",
        ),
        (
            lambda m, t: t["two_part"].update(layout="stacked"),
            "studies.benefit.effect_tables.two_part.bootstrap: the bootstrap interval is a column of the side layout",
        ),
        (
            lambda m, t: t["two_part"].update(bootstrap="normal"),
            "studies.benefit.effect_tables.two_part.bootstrap: 'normal' is not allowed; choose one of percentile, bca",
        ),
    ],
)
def test_bad_bootstrap_config_names_the_key(edit, expected):
    config = copy.deepcopy(load_config())
    benefit = config["studies"]["benefit"]
    edit(benefit["models"], benefit["effect_tables"])
    with pytest.raises(InputError) as err:
        validate_config(config, SCHEMA)
    assert expected in str(err.value)


def test_survey_clusters_need_a_survey_design():
    config = copy.deepcopy(load_config())
    config["studies"]["mefc"]["models"]["equations"]["model3"]["bootstrap"] = {
        "reps": 100,
        "seed": 1,
        "cluster": "survey",
    }
    with pytest.raises(InputError) as err:
        validate_config(config, SCHEMA)
    assert "studies.mefc.models.equations.model3.bootstrap.cluster: survey resamples the survey design's PSUs" in str(
        err.value
    )


# The workflow cutting the replications into other chunks gives the same results to the byte:
# tests/test_workflow.py, test_a_second_run_gives_byte_identical_results_whatever_the_chunks.


# --- concentration indices ------------------------------------------------------------------

CONCENTRATION = {
    "rank": "income",
    "outcomes": {"visit": {"label": "Visit", "decomposition": "unused"}},
    "bounds": [0, 1],
    "vce": "oim",
    "weights": None,
    "compare_by": "female",
}


def _concentration_data(n: int = 240, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8, 0.6, n)
    visit = rng.random(n) < 0.1 + 0.15 * (income < np.median(income))
    return pd.DataFrame({"income": income, "visit": visit, "female": rng.random(n) < 0.5, "city": np.arange(n) // 8})


def test_concentration_indices_are_bootstrapped_with_their_groups_and_difference(tmp_path):
    from migrant_health import concentration as stage
    from migrant_health.stats import conindex

    data = _concentration_data()
    settings = {"reps": 30, "seed": 5, "cluster": "city", "max_failed": 0.05}
    models = {"concentration": CONCENTRATION}
    problems = model_bootstrap.problems(data, models, "toy", "concentration", settings)
    assert [p.sample for p in problems] == ["total", "female=False", "female=True", "female: True - False"]
    full = stage.indices(data, CONCENTRATION, "toy")
    # a replicate recomputes the ranks in the resample: the standard index of the drawn rows
    positions = problems[0].resampler.draw(np.random.default_rng(1))
    drawn = data.iloc[positions]
    expected = conindex.concentration_index(drawn["visit"].astype(float), drawn["income"], index="standard").estimate
    standard = problems[0].keys.index(("concentration_index", "visit", "income", "", "", "concentration_index"))
    assert problems[0].statistic(positions)[standard] == pytest.approx(expected, rel=1e-12)

    def run(chunk_size):
        chunks = -(-30 // chunk_size)
        s = {**settings, "chunk": chunk_size}
        replicates = [model_bootstrap.chunk(problems, s, k) for k in range(chunks)]
        jack = [model_bootstrap.jackknife(problems, k, chunks) for k in range(chunks)]
        return model_bootstrap.gather(full, replicates, jack, s, "config.yaml: studies.toy.concentration.bootstrap")[0]

    once, again = run(30), run(7)
    assert _bytes(once, tmp_path / "a.csv") == _bytes(again, tmp_path / "b.csv")
    # the index table prints the BCa intervals under each outcome, in the CI columns
    from migrant_health.tables.concentration import bootstrap_sentences, index_table

    spec = {**CONCENTRATION, "bootstrap": settings}
    both = pd.concat([full, once], ignore_index=True)
    frame = index_table(both, spec).frame
    assert list(frame["Outcome"]) == ["Visit", "  Bootstrap BCa 95% CI"]
    standard = once[(once["sample"] == "total") & (once["estimand"] == "concentration_index bootstrap bca")].iloc[0]
    assert frame.iloc[1, 3] == f"{standard['conf_low']:.3f} to {standard['conf_high']:.3f}"
    assert "30 replications resampling clusters of city" in bootstrap_sentences(both, spec)[0]
    bca = once[once["estimand"] == "difference bootstrap bca"]
    assert len(bca) == 1 and bca["conf_low"].iloc[0] < bca["conf_high"].iloc[0]
    assert len(model_bootstrap.jackknife(problems[:1])) == data["city"].nunique()  # clusters left out


def test_concentration_bootstrap_config_is_checked_and_planned(tmp_path):
    config = copy.deepcopy(load_config())
    config["studies"]["inequality"]["concentration"]["bootstrap"] = {"reps": 100, "seed": 1, "cluster": "survey"}
    config["studies"]["inequality"].pop("survey", None)
    config["datasets"]["cmds2014"].pop("survey")
    with pytest.raises(InputError) as err:
        validate_config(config, SCHEMA)
    assert "studies.inequality.concentration.bootstrap.cluster: survey resamples the survey design's PSUs" in str(
        err.value
    )


def test_a_random_intercept_refit_on_resampled_clusters_counts_each_draw_as_a_group():
    from migrant_health.estimation import fit_sample

    rng = np.random.default_rng(8)
    n = 400
    data = pd.DataFrame({"x": rng.normal(size=n), "school": np.arange(n) // 10})
    data["y"] = (0.4 * data["x"] + rng.normal(size=40)[data["school"]] + rng.logistic(size=n)) > 0
    models = {
        "covariates": ["x"],
        "vce": "oim",
        "equations": {"re": {"outcome": "y", "kind": "melogit", "group": "school"}},
    }
    (problem,) = model_bootstrap.problems(data, models, "toy", "re", {"cluster": "school"})
    positions = problem.resampler.draw(np.random.default_rng(3))
    relabelled = data.iloc[positions].reset_index(drop=True).assign(school=problem.resampler.drawn)
    assert relabelled["school"].nunique() == 40 > data.iloc[positions]["school"].nunique()
    by_hand = fit_sample(relabelled, {**models, "samples": {"total": None}}, "toy", "re", "total", quiet=True)
    expected = pd.concat(by_hand.estimates)
    expected = expected[expected["term"] != "_model"]["estimate"].to_numpy(float)
    assert np.allclose(problem.statistic(positions), expected, rtol=1e-10, equal_nan=True)
