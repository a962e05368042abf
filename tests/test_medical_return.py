"""Medical-return study (seed 000): the CI checks against the published odds ratios, the
recovery of the synthetic truth at 100 times the published n, and the calibration itself."""

import numpy as np
import pandas as pd
import pytest
from conftest import CODEBOOK, PUBLISHED, analytic_sample, generate, validated_config
from scipy import stats

from migrant_health import derive, published
from migrant_health.estimation import fit_models
from migrant_health.io import codebook
from migrant_health.stats.design import Design
from migrant_health.synth import medical_return, specs

CONFIG = validated_config()
STUDY = CONFIG["studies"]["medical_return"]
DOC = published.load(PUBLISHED / "medical_return.yaml")


def analytic(frame: pd.DataFrame) -> pd.DataFrame:
    return analytic_sample(frame, STUDY, "medical_return")


@pytest.fixture(scope="module")
def default_sample(canonical):
    return analytic(canonical)


@pytest.fixture(scope="module")
def default_estimates(default_sample):
    estimates, _, _ = fit_models(default_sample, STUDY["models"], "medical_return")
    return estimates


def test_published_standard_error_is_recovered_from_the_interval():
    rows = published.estimate_rows(DOC).set_index("term")
    # NCMS: (ln 3.30 - ln 1.80) / (2 x 1.959964) = 0.15463
    assert rows.loc["medical_insurance", "published_se"] == pytest.approx(
        (np.log(3.30) - np.log(1.80)) / (2 * stats.norm.ppf(0.975))
    )
    assert rows.loc["medical_insurance", "published_se"] == pytest.approx(0.15463, abs=1e-5)


def test_log_odds_ratios_within_3_published_standard_errors(default_estimates):
    cmp = published.compare_odds_ratios(default_estimates, published.estimate_rows(DOC))
    assert len(cmp) == 2 and cmp["estimate"].notna().all()
    distance = cmp["diff"].abs() / cmp["published_se"]
    assert (distance <= 3).all(), cmp[["term", "published", "estimate", "published_se"]].to_string()


def test_sample_size_and_rate_of_the_default_run(default_sample):
    assert abs(len(default_sample) - 4018) <= 0.03 * 4018
    assert abs(100 * default_sample["medical_return"].mean() - 15.3) <= 1.5


def test_calibration_hits_its_targets(release):
    """The documented truth has the published odds ratios (up to the realised threshold of
    the exact-count draw) and every term of the paper's model."""
    truth = release.truth[release.truth["study"] == "medical_return"]
    ors = truth[truth["estimand"] == "odds_ratio"].set_index(["term", "level"])["truth"]
    assert ors[("medical_insurance", "NCMS")] == pytest.approx(2.44, abs=0.01)
    assert ors[("settle_intention", "True")] == pytest.approx(0.66, abs=0.01)
    assert len(ors) == 23 and (truth["kind"] == "limit").all()


def test_solver_reaches_its_targets_exactly(default_sample):
    """On any frame: the logit fitted to the solved DGP's expected outcomes has the targets."""
    frame = default_sample
    planted = np.random.default_rng(1).random(len(frame)) < 0.85
    targets = {"medical_insurance=NCMS": np.log(2.0), "settle_intention=True": np.log(0.5), "rate": 0.2}
    spec = specs.limit_spec(STUDY["models"], "medical_return", "medical_return")
    g = medical_return.solve(frame, planted, targets, spec.covariates)
    from scipy.special import expit

    X = Design.from_data(spec.covariates, frame).matrix(frame)
    expected = expit(X @ g) * planted
    limit = medical_return.probability_limit(frame, expected, spec)
    names = limit.names
    assert limit.params[names.index("medical_insurance=NCMS")] == pytest.approx(np.log(2.0), abs=1e-8)
    assert limit.params[names.index("settle_intention=True")] == pytest.approx(np.log(0.5), abs=1e-8)
    assert expected.mean() == pytest.approx(0.2, abs=1e-10)


@pytest.mark.slow
def test_recovery_at_100_times_the_published_n():
    """A scaled release (medical_return_scale 100: 401,800 inpatients) recovers every term of
    the documented truth within 4 of its own standard errors."""
    release = generate(
        CONFIG["datasets"]["cmds2014"]["generator"]["seed"] + 100, n_respondents=1_000_000, medical_return_scale=100
    )
    book = codebook.load_codebook(CODEBOOK)
    frame, _ = codebook.apply_codebook(release.raw[book.sources], book)
    data = analytic(derive.derive_all(frame, book.survey, book.interview))
    assert len(data) == 401_800
    estimates, _, _ = fit_models(data, STUDY["models"], "medical_return")
    truth = release.truth[(release.truth["study"] == "medical_return") & (release.truth["estimand"] == "coef")]
    keys = ["model", "sample", "term", "level", "estimand"]
    merged = truth.merge(estimates.assign(level=estimates["level"].fillna("").astype(str)), on=keys, how="left")
    assert merged["estimate"].notna().all() and len(merged) == 24
    z = (merged["estimate"] - merged["truth"]) / merged["std_error"]
    worst = merged.loc[z.abs().idxmax()]
    assert z.abs().max() <= 4, f"worst: {worst[keys].tolist()} z = {z.abs().max():.2f}"


def test_truth_is_that_of_the_config_model(release, default_sample):
    """The generator solves for config's model: the truth has one coefficient per column of it."""
    truth = release.truth[(release.truth["study"] == "medical_return") & (release.truth["estimand"] == "coef")]
    design = Design.from_data(STUDY["models"]["covariates"], default_sample)
    assert list(truth["term"] + "=" + truth["level"]) == [n if "=" in n else f"{n}=" for n in design.column_names()]


def test_characteristics_table_by_a_boolean_outcome(default_sample):
    from migrant_health.tables.descriptive import describe

    tidy = describe(default_sample, STUDY["tables"]["characteristics"], "medical_return", "characteristics")
    counts = tidy[(tidy["term"] == "settle_intention") & (tidy["estimand"] == "count")].set_index("column")
    returned = default_sample["medical_return"].astype(bool)
    assert counts.loc["True", "estimate"] == (default_sample["settle_intention"] & returned).sum()
    assert counts.loc["True", "n_obs"] + counts.loc["False", "n_obs"] == len(default_sample)
    tests = tidy[(tidy["column"] == "test") & (tidy["term"] == "medical_insurance")].set_index("estimand")["estimate"]
    table = pd.crosstab(returned, default_sample["medical_insurance"])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    assert tests["p_value"] == pytest.approx(p) and tests["chi2"] == pytest.approx(chi2) and tests["df"] == dof
