"""A study's multiverse: choices expanded into variants, fitted in chunks, gathered, drawn and
reported (src/migrant_health/multiverse.py, multiverse_fit.py, steps/multiverse_*.py)."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, load_config

from migrant_health import multiverse
from migrant_health.config import validate_config
from migrant_health.errors import InputError
from migrant_health.figures import specification_curve
from migrant_health.report import html

SCHEMA = ROOT / "schemas" / "config.schema.yaml"


def config_with(change) -> dict:
    """config.yaml with `change(benefit study)` applied, validated as the workflow validates it."""
    config = load_config()
    change(config["studies"]["benefit"])
    return validate_config(config, SCHEMA)


def benefit() -> dict:
    return config_with(lambda study: None)["studies"]["benefit"]


def small(study: dict) -> dict:
    """Three of the benefit study's choices (8 variants), for quick fits."""
    study = copy.deepcopy(study)
    choices = study["multiverse"]["choices"]
    study["multiverse"]["choices"] = {k: choices[k] for k in ("childbirth", "variance", "age")}
    return study


def test_variants_are_the_product_of_the_options_in_config_order():
    spec = benefit()["multiverse"]
    found = multiverse.variants(spec)
    assert len(found) == multiverse.n_variants(spec) == 32
    assert [v.number for v in found] == list(range(1, 33))
    assert found[0].options == (
        ("childbirth", "excluded"),
        ("insurance", "one_programme"),
        ("urban_subsample", "urbmi_and_uebmi"),
        ("variance", "oim"),
        ("age", "quadratic"),
    )
    # The last choice varies fastest, the first slowest.
    assert dict(found[1].options)["age"] == "linear" and dict(found[1].options)["variance"] == "oim"
    assert dict(found[16].options)["childbirth"] == "included"
    assert len({v.options for v in found}) == len({v.id for v in found}) == 32


def test_variant_identifiers_do_not_depend_on_the_order_of_the_choices():
    spec = benefit()["multiverse"]
    reordered = {**spec, "choices": dict(reversed(list(spec["choices"].items())))}
    ids = {frozenset(v.options): v.id for v in multiverse.variants(spec)}
    assert {frozenset(v.options): v.id for v in multiverse.variants(reordered)} == ids
    assert multiverse.variants(spec)[0].id == multiverse.variant_id(sorted(multiverse.variants(spec)[0].options))


@pytest.mark.parametrize("size", [1, 3, 8, 31, 32, 100])
def test_chunks_cover_every_variant_once_in_order(size):
    spec = {**benefit()["multiverse"], "chunk": size}
    chunks = [multiverse.chunk_variants(spec, k) for k in range(1, multiverse.n_chunks(spec) + 1)]
    assert multiverse.n_chunks(spec) == -(-32 // size)
    assert [v for chunk in chunks for v in chunk] == multiverse.variants(spec)
    assert all(0 < len(chunk) <= size for chunk in chunks)


def test_a_variant_applies_each_choice_to_the_sample_and_models():
    study = benefit()
    steps, models = multiverse.resolve(study, multiverse.variants(study["multiverse"])[-1])
    names = [s["name"] for s in steps]
    assert "not_childbirth" not in names and names == [
        s["name"] for s in study["sample"] if s["name"] != "not_childbirth"
    ]
    assert [s["keep"] for s in steps if s["name"] == "insured"] == ["has_social_insurance"]
    assert models["samples"]["urban"] == "insurance_programme == 'UEBMI'"
    assert models["vce"] == "robust" and "age2" not in models["covariates"] and "age" in models["covariates"]
    assert study["models"]["vce"] == "oim" and "age2" in study["models"]["covariates"]  # the study's own untouched


def test_only_the_first_variant_is_the_main_specification():
    study = benefit()
    main = [v.number for v in multiverse.variants(study["multiverse"]) if multiverse.is_main(study, v)]
    assert main == [1]


def test_covariate_sets_links_and_a_replaced_step():
    study = benefit()
    study["multiverse"]["choices"] = {
        "link": {"vary": "link", "equation": "amount", "options": {"log": "log", "identity": "identity"}},
        "set": {"vary": "covariates", "options": {"short": ["age", {"factor": "female", "reference": False}]}},
        "adult": {"vary": "sample_step", "step": "inpatient", "options": {"adults": "inpatient_12m and age >= 18"}},
    }
    variants = multiverse.variants(study["multiverse"])
    assert len(variants) == 2
    steps, models = multiverse.resolve(study, variants[1])
    assert models["equations"]["amount"]["link"] == "identity" and models["equations"]["ratio"]["link"] == "log"
    assert models["covariates"] == ["age", {"factor": "female", "reference": False}]
    assert steps[0]["keep"] == "inpatient_12m and age >= 18" and steps[0]["reason"] == study["sample"][0]["reason"]
    assert not any(multiverse.is_main(study, v) for v in variants)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda m: m["choices"]["childbirth"].update(step="not_chilbirth"),
            "choices.childbirth.step: 'not_chilbirth' is not a step of the study's sample; allowed: inpatient, "
            "treated_in_city, not_childbirth, insured, reimbursement_reported; closest: not_childbirth",
        ),
        (
            lambda m: m["choices"]["urban_subsample"].update(subsample="urbn"),
            "choices.urban_subsample.subsample: 'urbn' is not a subsample of the study's models; "
            "allowed: total, ncms, urban; closest: urban",
        ),
        (
            lambda m: m["choices"].update(link={"vary": "link", "equation": "participation", "options": {"a": "log"}}),
            "choices.link.equation: 'participation' is a probit; only kind glm equations take a link.",
        ),
        (
            lambda m: m["choices"].update(link={"vary": "link", "equation": "amount", "options": {"a": "logg"}}),
            "choices.link.options.a: 'logg' is not a link; allowed:",
        ),
        (
            lambda m: m["choices"].update(link={"vary": "link", "equation": "ratio", "options": {"a": "logit"}}),
            "choices.link.options.a: 'logit' is not a link of family gamma; allowed: log, identity, inverse_power",
        ),
        (
            lambda m: m["choices"]["variance"]["options"].update(clustered="cluster"),
            "choices.variance.options.clustered: vce cluster needs models.cluster",
        ),
        (
            lambda m: m["choices"]["variance"]["options"].update(svy="survey_design"),
            "choices.variance.options.svy: 'survey_design' is not a variance type; "
            "allowed: oim, eim, robust, cluster, survey; closest: survey",
        ),
        (
            lambda m: m["choices"]["age"]["options"].update(bad={"drop": ["agee2"]}),
            "choices.age.options.bad.drop: 'agee2' is not a variable of the default covariates",
        ),
        (
            lambda m: m["choices"]["age"]["options"].update(bad={"remove": ["age2"]}),
            "choices.age.options.bad: remove: allowed keys here: drop, add.",
        ),
        (lambda m: m["choices"]["childbirth"].pop("step"), "choices.childbirth: vary sample_step needs `step:`"),
        (
            lambda m: m["choices"]["childbirth"].update(subsample="urban"),
            "choices.childbirth.subsample: belongs to another kind of choice",
        ),
        (lambda m: m["choices"]["childbirth"]["options"].update(odd="age >> 3"), "choices.childbirth.options.odd"),
        (
            lambda m: m["choices"]["insurance"]["options"].update(odd="__import__('os')"),
            "choices.insurance.options.odd",
        ),
        (
            lambda m: m["estimates"][0].update(equation="participaton"),
            "estimates[0].equation: 'participaton' is not a model of the study; "
            "allowed: participation, amount, ratio, two_part; closest: participation",
        ),
        (lambda m: m["estimates"][0].update(sample="rural"), "estimates[0].sample: 'rural' is not a subsample"),
        (
            lambda m: m["conclusions"][0].update(level="URBMI"),
            "conclusions[0]: participation/total/insurance_programme=URBMI is not one of the key estimates",
        ),
        (
            lambda m: m["choices"]["variance"].update(vary="variance"),
            "choices.variance.vary: 'variance' is not allowed; "
            "choose one of sample_step, subsample, covariates, vce, link.",
        ),
        (
            lambda m: m["conclusions"][0].update(sign="up"),
            "conclusions[0].sign: 'up' is not allowed; choose one of positive, negative.",
        ),
        (lambda m: m.update(chunk=0), "multiverse.chunk: 0 is less than the minimum of 1"),
    ],
)
def test_bad_multiverse_config_names_the_key_and_the_closest_names(change, message):
    with pytest.raises(InputError) as e:
        config_with(lambda study: change(study["multiverse"]))
    assert "studies.benefit.multiverse." in str(e.value) and message in str(e.value), str(e.value)


def test_the_multiverse_figure_name_is_reserved():
    def clash(study):
        study["figures"]["specification_curve"] = {"kind": "flowchart", "title": "x"}

    with pytest.raises(InputError, match="figures.specification_curve: the name of the multiverse's figure"):
        config_with(clash)


def test_choice_filters_and_covariates_are_variables_the_codebook_must_provide():
    from migrant_health import requirements

    def extra(study):
        study["multiverse"]["choices"]["age"]["options"]["more"] = {"add": ["made_up_covariate"]}
        study["multiverse"]["choices"]["insurance"]["options"]["odd"] = "made_up_filter_variable == 1"

    needs = requirements.study_needs("benefit", config_with(extra)["studies"]["benefit"])
    assert needs["made_up_covariate"] == ["studies.benefit.multiverse.choices.age.options.more"]
    assert needs["made_up_filter_variable"] == ["studies.benefit.multiverse.choices.insurance.options.odd"]
    assert "has_social_insurance" in requirements.study_needs("benefit", benefit())


def fake_rows(study: dict) -> pd.DataFrame:
    """multiverse.csv's rows for the study's variants, with made-up numbers."""
    from migrant_health.multiverse_fit import columns

    rng = np.random.default_rng(0)
    rows = []
    for v in multiverse.variants(study["multiverse"]):
        for key in multiverse.key_estimates(study):
            estimate = rng.normal(0.2, 0.1)
            rows.append(
                {
                    "variant": v.number,
                    "variant_id": v.id,
                    "main": v.number == 1,
                    **dict(v.options),
                    **key,
                    "estimate": estimate,
                    "std_error": 0.05,
                    "conf_low": estimate - 0.1,
                    "conf_high": estimate + 0.1,
                    "p_value": 0.01 if v.number % 2 else 0.2,
                    "n_obs": 100,
                    "message": "",
                }
            )
    return pd.DataFrame(rows, columns=columns(study))


def test_conclusion_shares_count_sign_and_significance():
    study = benefit()
    frame = fake_rows(study)
    key = multiverse.key_estimates(study)[0]
    mine = (frame[list(key)] == pd.Series(key)).all(axis=1)
    frame.loc[mine & (frame["variant"] <= 4), "estimate"] = -0.3  # wrong sign in variants 1-4
    frame.loc[mine & (frame["variant"] == 5), "estimate"] = np.nan  # not estimated in variant 5
    view = html.multiverse_view(frame, study["multiverse"]["conclusions"], study["models"])
    assert view.variants == 32
    text, where, holds, estimated, share = view.rows[0]
    # Significant: odd variants (16); of them 1 and 3 have the wrong sign and 5 no estimate.
    assert (holds, estimated, share) == (13, 31, "41%")
    assert where == "participation, total: insurance_programme = UEBMI (ame), positive"
    negative = view.rows[1]  # a negative conclusion, every made-up estimate positive
    assert negative[2] == 0 and negative[4] == "0%"


def test_specification_curve_is_drawn_with_its_caption(tmp_path):
    from migrant_health.steps.multiverse_gather import NOTE

    study = benefit()
    frame = fake_rows(study)
    key = multiverse.key_estimates(study)[1]
    frame.loc[(frame[list(key)] == pd.Series(key)).all(axis=1) & (frame["variant"] == 2), "estimate"] = np.nan
    choices = {name: list(c["options"]) for name, c in study["multiverse"]["choices"].items()}
    stem = tmp_path / "figures" / "specification_curve"
    written = specification_curve.draw(frame, choices, study["labels"], stem, synthetic=True)
    assert [p.suffix for p in written] == [".png", ".pdf"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and written[1].read_bytes()[:5] == b"%PDF-"
    width = int.from_bytes(written[0].read_bytes()[16:20], "big")
    assert width > 5 * 300  # five key estimates side by side
    note = specification_curve.missing_note(frame, study["labels"])
    assert note == ("Variants without an estimate (left out of the curve): participation (ame): Across provinces: 1.")
    again = tmp_path / "again"
    specification_curve.draw(frame, choices, study["labels"], again, synthetic=True)
    assert again.with_suffix(".png").read_bytes() == written[0].read_bytes()  # no dates in the files
    assert NOTE.startswith("Above: each key estimate")


# --- with the data ---------------------------------------------------------------------------


def _key_rows(tidy: pd.DataFrame, row) -> pd.DataFrame:
    """The rows of tidy estimates (levels as text) of a multiverse.csv row's key estimate."""
    return tidy[
        (tidy["model"] == row.equation)
        & (tidy["sample"] == row.sample)
        & (tidy["term"] == row.term)
        & (tidy["level"] == row.level)
        & (tidy["estimand"] == row.estimand)
    ]


@pytest.mark.slow
def test_the_main_variant_reproduces_the_main_estimates_exactly(finished_project):
    """In the workflow's multiverse.csv and, to the last bit, in a fit of the main variant."""
    from migrant_health import multiverse_fit
    from migrant_health.estimation import fit_unit
    from migrant_health.io.files import read_tidy

    results = finished_project / "results" / "benefit"
    mv = pd.read_csv(results / "multiverse.csv", dtype=str, keep_default_na=False)
    estimates = pd.read_csv(results / "estimates.csv", dtype=str, keep_default_na=False)
    main = mv[mv["main"] == "True"]
    assert len(main) == 5 and set(main["variant"]) == {"1"}
    numbers = ["estimate", "std_error", "conf_low", "conf_high", "p_value", "n_obs"]
    for row in main.itertuples():
        own = _key_rows(estimates, row)
        assert len(own) == 1
        assert [getattr(row, c) for c in numbers] == own[numbers].iloc[0].tolist()

    study = benefit()
    data = multiverse_fit.read_data([finished_project / "data/interim/cmds2014.parquet"], ["cmds2014"], "x")
    first = multiverse.variants(study["multiverse"])[0]
    fitted = multiverse_fit.fit_variants(data, study, "benefit", [first])
    analytic = pd.read_parquet(finished_project / "data/analytic/benefit.parquet")
    tidy = pd.concat(
        [fit_unit(analytic, study["models"], "benefit", unit).estimates for unit in ("two_part", "ratio")]
    ).assign(level=lambda f: f["level"].fillna("").astype(str))
    for row in fitted.itertuples():
        own = _key_rows(tidy, row).iloc[0]
        assert (row.estimate, row.std_error, row.p_value, row.n_obs) == (
            own["estimate"],
            own["std_error"],
            own["p_value"],
            own["n_obs"],
        )
    assert read_tidy(results / "estimates.csv") is not None


@pytest.mark.slow
def test_workflow_writes_the_multiverse_its_figure_and_the_report_section(finished_project):
    results = finished_project / "results"
    study = benefit()
    chunks = sorted((results / "benefit" / "multiverse").glob("chunk*.csv"))
    assert len(chunks) == multiverse.n_chunks(study["multiverse"]) == 4
    frame = pd.read_csv(results / "benefit" / "multiverse.csv", keep_default_na=False)
    assert len(frame) == 32 * 5 and frame["variant_id"].nunique() == 32
    assert list(frame.columns[3:8]) == list(study["multiverse"]["choices"])
    for ext in ("png", "pdf", "json"):
        assert (results / "benefit" / "figures" / f"specification_curve.{ext}").is_file()
    caption = json.loads((results / "benefit" / "figures" / "specification_curve.json").read_text())
    assert caption["title"] == study["multiverse"]["title"]
    page = (results / "report.html").read_text()
    assert 'id="benefit-multiverse"' in page and 'id="benefit-figure-specification_curve"' in page
    for conclusion in study["multiverse"]["conclusions"]:
        assert conclusion["text"] in page
    assert "of 32" in page
    assert not (results / "medical_return" / "multiverse.csv").exists()  # only a study declaring one


def test_a_variant_fits_only_what_its_key_estimates_need():
    study = benefit()
    keys = multiverse.key_estimates(study)
    needed = multiverse.fitted_models(study["models"], keys)
    assert list(needed["equations"]) == ["participation", "amount", "ratio"]
    assert list(needed["samples"]) == ["total", "urban"]  # no key estimate in the NCMS subsample
    assert not needed["two_part"]  # the parts alone: the amount has its own `keep`
    assert all(eq["report"] == ["ame"] for eq in needed["equations"].values())
    combined = multiverse.fitted_models(study["models"], [{**keys[0], "equation": "two_part", "estimand": "ame"}])
    assert combined["two_part"] == study["models"]["two_part"] and list(combined["equations"]) == [
        "participation",
        "amount",
    ]
    assert combined["equations"]["amount"]["report"] == ["coef"]  # fitted for the combination only
    coefficients = multiverse.fitted_models(study["models"], [{**keys[3], "estimand": "coef"}])
    assert list(coefficients["equations"]) == ["ratio"] and coefficients["equations"]["ratio"]["report"] == ["coef"]


@pytest.mark.slow
def test_survey_variance_and_link_variants(finished_project):
    """vce survey linearises over the whole file's design (samples as subpopulations, weighted
    estimates); a link choice refits the glm equation only."""
    from migrant_health import multiverse_fit
    from migrant_health.config import study_survey
    from migrant_health.estimation import whole_file_design

    def choices(study):
        study["multiverse"]["choices"] = {
            "variance": {"vary": "vce", "options": {"oim": "oim", "svy": "survey"}},
            "link": {"vary": "link", "equation": "ratio", "options": {"log": "log", "identity": "identity"}},
        }

    config = config_with(choices)
    study = config["studies"]["benefit"]
    survey = study_survey(study, config)
    assert multiverse.uses_survey(study["multiverse"], study["models"]) and survey["psu"] == "cluster"
    interim = [finished_project / "data/interim/cmds2014.parquet"]
    data = multiverse_fit.read_data(interim, ["cmds2014"], "x")
    design = whole_file_design(survey, interim, "x")
    frame = multiverse_fit.fit_variants(
        data, study, "benefit", multiverse.variants(study["multiverse"]), survey, design
    )
    rows = {(r.variance, r.link, r.equation, r.sample, r.term): r for r in frame.itertuples()}
    oim = rows[("oim", "log", "participation", "total", "insurance_programme")]
    svy = rows[("svy", "log", "participation", "total", "insurance_programme")]
    assert oim.main and not svy.main and svy.n_obs == oim.n_obs
    assert svy.estimate != oim.estimate and svy.std_error != oim.std_error  # weighted, linearised
    identity = rows[("oim", "identity", "ratio", "total", "insurance_programme")]
    log = rows[("oim", "log", "ratio", "total", "insurance_programme")]
    assert identity.estimate != log.estimate and abs(identity.estimate - log.estimate) < 0.05  # AMEs on the ratio
    assert rows[("oim", "identity", "participation", "total", "insurance_programme")].estimate == oim.estimate
