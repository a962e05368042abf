"""Jinan MEFC study (seed 003): the flow of exclusions, every published count and test of
Tables 1-3, and Model 3's odds ratios against the published intervals."""

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from conftest import PUBLISHED, ROOT, validated_config
from scipy import stats

from migrant_health import published, sample
from migrant_health.errors import InputError
from migrant_health.estimation import fit_models
from migrant_health.io import codebook
from migrant_health.synth import GENERATORS
from migrant_health.tables.descriptive import association_tests, describe

CONFIG = validated_config()
STUDY = CONFIG["studies"]["mefc"]
DATASET = CONFIG["datasets"]["jinan_mefc"]
DOC = published.load(PUBLISHED / "mefc.yaml")
BOOK = codebook.load_codebook(ROOT / DATASET["codebook"])


def generate(studies=CONFIG["studies"]):
    return GENERATORS["jinan_mefc"].generate(DATASET["generator"], {"mefc": DOC}, studies, BOOK)


@pytest.fixture(scope="module")
def release():
    return generate()


@pytest.fixture(scope="module")
def analysed(release):
    frame, _ = codebook.apply_codebook(release.raw[BOOK.sources], BOOK)
    kept, flow = sample.apply_filters(frame, STUDY["sample"], "mefc")
    return kept, flow


def test_flow_reproduces_the_papers_exclusions(analysed):
    _, flow = analysed
    assert flow["n_after"].tolist() == [670, 656, 627, 627]
    assert flow["n_dropped"].tolist()[1:3] == [14, 29]


def test_every_count_chi_square_and_p_of_tables_1_to_3(analysed):
    """Counts exact; chi-squares and p-values equal to the three decimals printed (a printed
    0.001 read as p <= 0.001); p as the paper reports it (Pearson, or Fisher two- or one-sided)."""
    data, _ = analysed
    tidy = pd.concat([describe(data, spec, "mefc", name) for name, spec in STUDY["tables"].items()])
    cmp = published.compare(DOC, published.Ours(data, descriptives=tidy), blocks=("crosstabs", "age"))
    n_counts = sum(2 * len(t["levels"]) for t in DOC["crosstabs"])
    n_tests = sum(1 + ("chi2" in t["test"]) for t in DOC["crosstabs"]) + 2  # + age chi-square and p
    assert len(cmp) == n_counts + n_tests and cmp["estimate"].notna().all()
    bad = cmp[~cmp["agrees"].astype(bool)]
    assert bad.empty, bad[["table", "term", "level", "estimand", "published", "estimate"]].to_string()


def test_model_3_odds_ratios_within_the_published_intervals(analysed):
    data, _ = analysed
    estimates, _, _ = fit_models(data, STUDY["models"], "mefc")
    cmp = published.compare_odds_ratios(estimates, published.estimate_rows(DOC).query("estimand == 'odds_ratio'"))
    model3 = cmp[cmp["model"] == "model3"].set_index(["term", "level"])
    for key in [("local_insurance", "False"), ("willing_to_stay", "no")]:
        row = model3.loc[key]
        assert row["published_conf_low"] <= row["estimate"] <= row["published_conf_high"], (key, row["estimate"])
    assert cmp["estimate"].notna().all()


def test_age_has_the_printed_moments(analysed):
    data, _ = analysed
    assert round(data["age"].mean(), 1) == 66.2 and round(data["age"].std(), 1) == 4.6
    assert (data["age"] >= 66).sum() == 320 and data["age"].nunique() == 27


def test_fisher_one_sided_p_is_the_tail_in_the_observed_direction():
    """Headache (Table 2): 29 of 500 non-returners, 2 of 127 returners. The one-sided p sums
    the hypergeometric probabilities of tables at least as extreme in the observed direction."""
    data = pd.DataFrame(
        {"ret": [False] * 500 + [True] * 127, "headache": [True] * 29 + [False] * 471 + [True] * 2 + [False] * 125}
    )
    tests = association_tests(data, "ret", {"term": "headache", "stat": "levels"})
    # Returners with headache: 2 observed, 31 x 127 / 627 = 6.28 expected; P(X <= 2).
    tail = stats.hypergeom(627, 31, 127).cdf(2)
    assert tests["fisher_one_sided"] == pytest.approx(tail)
    assert round(tests["fisher_one_sided"], 3) == 0.032


@pytest.mark.slow
def test_release_is_labelled_spss_and_deterministic(release, tmp_path):
    path = tmp_path / "mefc.sav"
    release.write_sav(path)
    raw, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert len(raw) == 670 and meta.variable_value_labels["c3"][3] == "not_sure"
    assert 99 in meta.variable_value_labels["c1"] and meta.missing_ranges["c1"]
    again = generate()
    pd.testing.assert_frame_equal(release.raw, again.raw)
    assert np.isfinite(release.truth["truth"]).all()


def test_model_3_is_read_from_config(release):
    """The joint distribution is tuned for config's Model 3; without it the generator says so."""
    model3 = STUDY["models"]["equations"]["model3"].get("covariates", STUDY["models"]["covariates"])
    terms = [c["factor"] if isinstance(c, dict) else c for c in model3]
    assert list(dict.fromkeys(release.truth["term"])) == terms
    without = {**CONFIG["studies"], "mefc": {**STUDY, "models": {**STUDY["models"], "equations": {}}}}
    with pytest.raises(InputError, match=r"studies\.mefc\.models\.equations\.model3 is needed"):
        generate(without)
