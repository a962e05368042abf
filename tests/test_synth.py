"""The synthetic CMDS 2014 release: its frame, its labels, and what it is calibrated to."""

import pandas as pd
import pyreadstat
import pytest
from conftest import CODEBOOK, PUBLISHED, generate, load_config, published_docs, validated_config

from migrant_health import published
from migrant_health.errors import InputError
from migrant_health.io import codebook
from migrant_health.sample import apply_filters
from migrant_health.synth import GENERATORS
from migrant_health.synth import cmds2014_layout as layout
from migrant_health.synth.cmds2014_frame import SURVEY_YEAR
from migrant_health.tables.descriptive import describe

CONFIG = load_config()


def test_frame_looks_like_the_release(raw_release):
    assert len(raw_release) == 200_937
    assert raw_release["prov"].nunique() == 32 and raw_release["city"].nunique() == 348
    sizes = raw_release.groupby("psu").size()
    assert (sizes.iloc[:-1] == 20).all() and sizes.iloc[-1] == 200_937 % 20
    assert raw_release.groupby("psu")["city"].nunique().max() == 1  # clusters nest in cities
    age = SURVEY_YEAR - raw_release["q101c"]
    assert age.between(15, 59).all()
    assert (raw_release.groupby("city")["wt"].nunique() == 1).all() and (raw_release["wt"] > 0).all()


def test_sav_carries_labels_and_user_missing_codes(sav_path):
    _, meta = pyreadstat.read_sav(str(sav_path), metadataonly=True, user_missing=True)
    assert meta.column_names_to_labels["q106"] == "Scope of migration"
    assert meta.variable_value_labels["q106"][3] == "Across counties within a city"
    assert meta.variable_value_labels["q305"][layout.DONT_KNOW] == "Don't know"
    assert meta.missing_ranges["q305"]  # special codes declared as user-missing
    for k in layout.REIMBURSEMENT_SOURCES:  # multiple response: one 0/1 item per answer
        assert set(meta.variable_value_labels[f"q308_{k}"]) >= {0, 1}


@pytest.mark.slow
def test_same_seed_same_release_other_seed_differs(raw_release):
    g = CONFIG["datasets"]["cmds2014"]["generator"]
    again = generate(g["seed"]).raw
    pd.testing.assert_frame_equal(raw_release, again)
    other = generate(g["seed"] + 1).raw
    assert not other["q101c"].equals(raw_release["q101c"])


def benefit_sample(canonical):
    kept, _ = apply_filters(canonical, CONFIG["studies"]["benefit"]["sample"], "benefit")
    return kept


def test_benefit_table1_matches_seed_001_in_all_three_columns(canonical):
    """Every percentage within 3 points and every mean within 10% (issue 2's calibration)."""
    doc = published.load(PUBLISHED / "benefit.yaml")
    ours = describe(benefit_sample(canonical), CONFIG["studies"]["benefit"]["tables"]["table1"], "benefit", "table1")
    printed = published.descriptive_rows(doc, "table1")
    cmp = published.compare_descriptives(ours, printed)
    judged = cmp[cmp["agrees"].notna()]
    assert len(judged) == printed["estimand"].isin(["percent", "mean"]).sum() == 92
    assert judged["estimate"].notna().all()
    bad = judged[~judged["agrees"].astype(bool)]
    assert bad.empty, bad[["column", "term", "level", "estimand", "published", "estimate"]].to_string()


def test_benefit_sample_sizes(canonical):
    sample = benefit_sample(canonical)
    assert len(sample) == 1165
    assert sample["reimbursed"].sum() == 778
    assert sample["reimbursement_amount"].notna().sum() == 663  # the GLM columns' n


def test_no_reimbursement_reasons_follow_figure_1(canonical):
    sample = benefit_sample(canonical)
    reasons = sample.loc[~sample["reimbursed"].astype(bool), "no_reimbursement_reason"]
    shares = reasons.value_counts(normalize=True) * 100
    figure1 = published.load(PUBLISHED / "benefit.yaml")["figure1"]
    for level, pct in {s["level"]: s["percent"] for s in figure1["shares"]}.items():
        assert abs(shares[level] - pct) < 0.5
    home = (reasons == "go_back_hometown").groupby(sample["migration_scope"], observed=True).mean()
    assert home["within_city"] < home["across_cities"] < home["across_provinces"]


def test_medical_return_sample_of_seed_000(canonical):
    pool = canonical[
        canonical["rural_hukou"].fillna(False)
        & canonical["urban_area"].fillna(False)
        & (canonical["migration_duration_years"] >= 1)
        & canonical["inpatient_12m"].fillna(False)
        & canonical["hospitalisation_place"].notna()
    ]
    assert abs(len(pool) - 4018) <= 0.03 * 4018
    assert abs(100 * pool["medical_return"].mean() - 15.3) < 0.5


def test_ncms_worker_rates_of_seed_002(canonical):
    workers = canonical[
        canonical["rural_hukou"].fillna(False)
        & canonical["employed"].fillna(False)
        & canonical["holds_ncms"].fillna(False)
        & canonical["age"].between(16, 59)
    ]
    assert abs(100 * workers["outpatient_2w"].mean() - 6.32) < 0.01
    assert abs(100 * workers["inpatient_12m"].mean() - 5.9) < 0.01
    # The visit item is asked of everyone, and some visits need no recent illness.
    assert canonical["outpatient_2w"].notna().all()
    assert (workers["outpatient_2w"] & ~workers["ill_2w"]).any()


def test_registry_names_published_files_and_studies_of_the_config():
    config = validated_config()
    for survey, generator in GENERATORS.items():
        assert all((PUBLISHED / f"{name}.yaml").exists() for name in generator.published), survey
        assert all(config["studies"][name]["models"] for name in generator.models), survey
    surveys = {d["generator"]["survey"] for d in config["datasets"].values() if d["synthetic"]}
    assert surveys <= set(GENERATORS)


@pytest.mark.parametrize("study", ["benefit", "medical_return"])
def test_generator_needs_the_models_of_the_studies_it_calibrates(study):
    """A study whose outcomes the generator plants must declare the models they are solved for."""
    config = validated_config()
    studies = {name: entry for name, entry in config["studies"].items() if name != study}
    settings = {**config["datasets"]["cmds2014"]["generator"], "n_respondents": 20_000}
    with pytest.raises(InputError, match=rf"config.yaml: studies\.{study}\.models is needed"):
        GENERATORS["cmds2014"].generate(settings, published_docs("cmds2014"), studies, codebook.load_codebook(CODEBOOK))
