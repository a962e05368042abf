"""Waves as wildcards (issue 17, point 5): a study pooling waves with `models.by_wave: true` also draws
each wave's sample and fits each wave's model units in jobs of their own ({wave} wildcard), gathered in
estimates_by_wave.csv; a wave's estimates are those of a study on that wave alone."""

import copy
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT, load_config
from workflow_helpers import prepare, run_forked

from migrant_health import outputs
from migrant_health.config import validate_config
from migrant_health.errors import InputError
from migrant_health.waves import study_waves, within_wave

SCHEMA = ROOT / "schemas" / "config.schema.yaml"
JINAN_CODEBOOK = ROOT / "data" / "codebooks" / "jinan_mefc.yaml"
# The pooled study's waves (their codebooks' `wave:`) in the order of its `dataset:`, and the study on each alone.
WAVES = {"2020": "jinan_mefc", "2021": "jinan_2021"}
ALONE = {"2020": "mefc", "2021": "mefc_2021"}
# Seeds whose synthetic Jinan surveys are quick to generate (about 4 s each; the default takes twice that).
SEEDS = {"jinan_mefc": 7, "jinan_2021": 8}
WAVE_FACTOR = {"factor": "wave", "reference": "2020"}


def two_wave_config() -> dict:
    """Two waves of the Jinan survey (the second a copy of its codebook with `wave: 2021`, generated
    with another seed) and three studies of the mefc models: mefc on wave 2020 alone (the synthetic
    generator reads its Model 3), mefc_2021 on wave 2021 alone, and mefc_waves pooling both with
    by_wave (its Model 3 also with a wave factor, which the per-wave fits drop)."""
    config = load_config()
    jinan = config["datasets"]["jinan_mefc"]
    jinan["generator"]["seed"] = SEEDS["jinan_mefc"]
    later = copy.deepcopy(jinan)
    later.update(path="data/raw/jinan_2021_synthetic.sav", codebook="data/codebooks/jinan_2021.yaml")
    later["generator"]["seed"] = SEEDS["jinan_2021"]
    mefc = config["studies"]["mefc"]
    alone = {"dataset": "jinan_2021", "sample": mefc["sample"], "models": copy.deepcopy(mefc["models"])}
    pooled = {"dataset": list(WAVES.values()), "sample": mefc["sample"], "models": copy.deepcopy(mefc["models"])}
    pooled["models"]["by_wave"] = True
    pooled["models"]["equations"]["model3"]["covariates"] = [*mefc["models"]["covariates"], WAVE_FACTOR]
    return {
        "datasets": {"jinan_mefc": jinan, "jinan_2021": later},
        "studies": {"mefc": mefc, "mefc_2021": alone, "mefc_waves": pooled},
    }


def write_project(workdir, config: dict):
    prepare(workdir, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    later = JINAN_CODEBOOK.read_text().replace("wave: 2020", "wave: 2021")
    (workdir / "data" / "codebooks" / "jinan_2021.yaml").write_text(later)
    return workdir


def job_counts(output: str) -> dict[str, int]:
    """Rule -> jobs, from the job stats a (dry) run prints."""
    table = output.split("Job stats:")[1].split("\n\n")[0]
    rows = [line.split() for line in table.splitlines()[3:] if line.strip()]
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[0] != "total"}


# -- configuration --------------------------------------------------------------------------------


def pooled_config(**models) -> dict:
    """config.yaml with the mefc study pooling two waves and `models` keys set."""
    config = copy.deepcopy(load_config())
    config["datasets"]["jinan_2021"] = {**config["datasets"]["jinan_mefc"], "codebook": "jinan_2021.yaml"}
    study = config["studies"]["mefc"]
    study["dataset"] = ["jinan_mefc", "jinan_2021"]
    study["models"].update(by_wave=True, **models)
    return config


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda c: c["studies"]["mefc"].update(dataset="jinan_mefc"),
            "config.yaml: studies.mefc.models.by_wave: the study reads one dataset (jinan_mefc); by_wave fits "
            "each wave of pooled datasets apart. Pool waves (dataset: [jinan_mefc, another_wave]) or remove by_wave.",
        ),
        (
            lambda c: c["studies"]["mefc"]["models"].update(by_wave="always"),
            "config.yaml: studies.mefc.models.by_wave: 'always' is not of type 'boolean'",
        ),
        (
            lambda c: c["studies"]["mefc"]["models"].update(samples={"total": None, "early": "wave == '2020'"}),
            "config.yaml: studies.mefc.models.samples.early: uses `wave`, which does not vary within one wave",
        ),
        (
            lambda c: c["studies"]["mefc"]["models"]["equations"]["model3"].update(margins=[{"over": "wave"}]),
            "config.yaml: studies.mefc.models.equations.model3.margins[0]: uses `wave`",
        ),
        (
            lambda c: c["studies"]["mefc"]["models"]["equations"]["model1"].update(keep="wave != '2021'"),
            "config.yaml: studies.mefc.models.equations.model1.keep: uses `wave`",
        ),
    ],
    ids=["one_dataset", "not_a_boolean", "subsample", "margins_over", "equation_keep"],
)
def test_by_wave_is_refused_where_a_wave_alone_cannot_honour_it(edit, expected):
    config = pooled_config()
    edit(config)
    with pytest.raises(InputError) as e:
        validate_config(config, SCHEMA)
    assert expected in str(e.value)


def test_a_wave_covariate_is_allowed_and_the_default_config_has_no_wave_jobs():
    covariates = [*load_config()["studies"]["mefc"]["models"]["covariates"], WAVE_FACTOR]
    config = validate_config(pooled_config(covariates=covariates), SCHEMA)
    assert config["studies"]["mefc"]["models"]["by_wave"] is True
    default = validate_config(load_config(), SCHEMA)
    assert not any(outputs.wave_files(n, s, ["2014"]) for n, s in default["studies"].items())
    assert all("by_wave" not in (s.get("models") or {}) for s in default["studies"].values())


def test_within_a_wave_covariates_naming_wave_are_dropped_with_a_note():
    interaction = {"interaction": [{"factor": "wave", "reference": "2013"}, "age"]}
    models = {
        "covariates": ["age", WAVE_FACTOR],
        "equations": {
            "a": {"outcome": "y", "kind": "logit"},
            "b": {"outcome": "y", "kind": "logit", "covariates": ["age", interaction]},
        },
    }
    kept, notes = within_wave(models)
    assert kept["covariates"] == ["age"] and kept["equations"]["a"] == models["equations"]["a"]
    assert kept["equations"]["b"]["covariates"] == ["age"]
    assert notes == [
        ("a", "{factor: wave, reference: 2020} dropped from the covariates: wave does not vary within one wave"),
        (
            "b",
            "{interaction: [{factor: wave, reference: 2013}, age]} dropped from the covariates: wave does not vary "
            "within one wave",
        ),
    ]
    unchanged = {"covariates": ["age"], "equations": {"a": {"outcome": "y", "kind": "logit"}}}
    assert within_wave(unchanged) == (unchanged, [])


def test_waves_are_the_codebooks_in_dataset_order_and_must_fit_in_a_path(tmp_path):
    config = two_wave_config()
    (tmp_path / "jinan_2021.yaml").write_text(JINAN_CODEBOOK.read_text().replace("wave: 2020", "wave: 2021"))
    config["datasets"]["jinan_mefc"]["codebook"] = str(JINAN_CODEBOOK)
    config["datasets"]["jinan_2021"]["codebook"] = str(tmp_path / "jinan_2021.yaml")
    config["studies"]["mefc_waves"]["dataset"] = ["jinan_2021", "jinan_mefc"]
    assert study_waves(config, "mefc_waves") == {"2021": "jinan_2021", "2020": "jinan_mefc"}
    (tmp_path / "jinan_2021.yaml").write_text(JINAN_CODEBOOK.read_text().replace("wave: 2020", "wave: 2020/21"))
    expected = r"wave: '2020/21' becomes part of file names with config.yaml: studies.mefc_waves.models.by_wave; write"
    with pytest.raises(InputError, match=expected):
        study_waves(config, "mefc_waves")


# -- through the workflow -------------------------------------------------------------------------

TARGETS = [
    "results/mefc_waves/estimates_by_wave.csv",
    "results/mefc_waves/estimates.csv",
    "results/mefc/estimates.csv",
    "results/mefc_2021/estimates.csv",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """The two-wave project: what a dry run of `all` plans, then the estimates run (two cores, as make)."""
    workdir = write_project(tmp_path_factory.mktemp("waves"), two_wave_config())
    planned = run_forked(workdir, "--dry-run", "all")
    assert planned.returncode == 0, planned.stderr[-3000:]
    snakemake = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    cmd = [*snakemake, "--cores", "2", "--quiet", "all", "--", *TARGETS]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir, planned.stdout + planned.stderr


@pytest.mark.slow
def test_a_dry_run_lists_a_sample_job_per_wave_and_a_fit_job_per_wave_and_unit(project):
    workdir, planned = project
    counts = job_counts(planned)
    units = len(outputs.model_units(two_wave_config()["studies"]["mefc_waves"]["models"]))
    assert units == 3
    assert counts["analytic_sample_by_wave"] == len(WAVES)
    assert counts["fit_models_by_wave"] == len(WAVES) * units
    assert counts["gather_estimates_by_wave"] == 1
    assert counts["analytic_sample"] == 3 and counts["fit_models"] == 3 * units  # the pooled fits are still there
    for wave in WAVES:
        assert f"Applying the mefc_waves sample filters to wave {wave} alone" in planned
        assert f"data/analytic/mefc_waves/wave_{wave}.parquet" in planned
        assert f"results/mefc_waves/waves/{wave}/flow.csv" in planned
        for unit in ("model1", "model2", "model3"):
            assert planned.count(f"Fitting mefc_waves {unit} within wave {wave}\n") == 1


@pytest.mark.slow
def test_estimates_by_wave_hold_each_waves_rows_in_wave_order(project):
    workdir, _ = project
    by_wave = pd.read_csv(workdir / "results/mefc_waves/estimates_by_wave.csv", dtype={"wave": str})
    assert list(by_wave.columns[:3]) == ["study", "wave", "model"]
    assert list(dict.fromkeys(by_wave["wave"])) == list(WAVES)
    assert by_wave["wave"].is_monotonic_increasing  # the first wave's rows, then the next's
    for wave in WAVES:
        rows = by_wave[by_wave["wave"] == wave]
        assert set(rows["model"]) == {"model1", "model2", "model3"} and (rows["n_obs"] == 627).all()
    pooled = pd.read_csv(workdir / "results/mefc_waves/estimates.csv")
    assert "wave" in set(pooled.loc[pooled["model"] == "model3", "term"])  # the pooled fit has its wave factor
    assert "wave" not in set(by_wave["term"])  # which no wave alone can estimate


@pytest.mark.slow
def test_a_waves_estimates_are_those_of_a_study_on_that_wave_alone(project):
    workdir, _ = project
    by_wave = pd.read_csv(workdir / "results/mefc_waves/estimates_by_wave.csv", dtype=str, keep_default_na=False)
    for wave, study in ALONE.items():
        alone = pd.read_csv(workdir / f"results/{study}/estimates.csv", dtype=str, keep_default_na=False)
        ours = by_wave[by_wave["wave"] == wave].drop(columns=["study", "wave"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(ours, alone.drop(columns=["study"]))  # every printed digit
    first, second = (by_wave[by_wave["wave"] == w]["estimate"].reset_index(drop=True) for w in WAVES)
    assert not first.equals(second)  # two different waves


@pytest.mark.slow
def test_each_waves_flow_counts_every_exclusion_as_the_pooled_flow_does(project):
    workdir, _ = project
    pooled = pd.read_csv(workdir / "results/mefc_waves/flow.csv")
    for wave, study in ALONE.items():
        flow = pd.read_csv(workdir / f"results/mefc_waves/waves/{wave}/flow.csv")
        pd.testing.assert_frame_equal(flow, pd.read_csv(workdir / f"results/{study}/flow.csv"))
        assert flow["n_after"].tolist() == pooled[f"n_after_{wave}"].tolist() == [670, 656, 627, 627]
        assert (flow["n_before"] - flow["n_dropped"] == flow["n_after"]).all()
    model_flow = pd.read_csv(workdir / "results/mefc_waves/model_flow_by_wave.csv", dtype={"wave": str})
    assert model_flow["wave"].tolist() == ["2020"] * 3 + ["2021"] * 3 and (model_flow["n_obs"] == 627).all()


@pytest.mark.slow
def test_the_wave_factor_is_dropped_from_each_waves_fit_with_a_note(project):
    workdir, _ = project
    lines = (workdir / "results/mefc_waves/model_messages_by_wave.txt").read_text().splitlines()
    note = "model3: {factor: wave, reference: 2020} dropped from the covariates: wave does not vary within one wave"
    assert [line for line in lines if "dropped" in line] == [f"wave {wave}: {note}" for wave in WAVES]


@pytest.mark.slow
def test_a_one_dataset_study_with_by_wave_stops_before_any_job(tmp_path):
    config = two_wave_config()
    config["studies"]["mefc_2021"]["models"]["by_wave"] = True
    done = run_forked(write_project(tmp_path, config), "--dry-run", "all")
    assert done.returncode != 0
    assert "Configuration error: config.yaml: studies.mefc_2021.models.by_wave: the study reads one dataset" in (
        done.stderr
    )
    assert not (tmp_path / "data" / "raw").exists()
