"""The synthetic CMDS 2014 in the real release's layout (generator.layout: release), read through
data/codebooks/cmds2014_release.yaml alone, gives the studies what the generator's own layout
gives: the same analytic samples, and estimates.csv byte for byte (issue 15, point 7)."""

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, load_config, validated_config

from migrant_health import outputs, requirements
from migrant_health.io import codebook, read
from migrant_health.steps.analytic_sample import analytic_sample
from migrant_health.steps.fit_models import fit_models
from migrant_health.steps.gather_estimates import gather_estimates
from migrant_health.steps.ingest import ingest
from migrant_health.synth import cmds2014_layout, cmds2014_release
from migrant_health.synth.release import Release

RELEASE_CODEBOOK = ROOT / "data" / "codebooks" / "cmds2014_release.yaml"
CMDS_STUDIES = ("benefit", "medical_return", "inequality")
# Identifiers are text in the release (city and sample-point codes): compared as partitions.
IDENTIFIERS = ("city", "cluster")


@pytest.fixture(scope="module")
def release_sav(raw_release, tmp_path_factory):
    """The default release's respondents written in the release's layout."""
    seed = load_config()["datasets"]["cmds2014"]["generator"]["seed"]
    frame = cmds2014_release.convert(raw_release[list(cmds2014_layout.VARIABLES)], seed)
    release = Release(
        frame,
        pd.DataFrame(),
        [],
        cmds2014_release.FILE_LABEL,
        cmds2014_release.variable_labels(),
        cmds2014_release.value_labels(),
        cmds2014_release.user_missing(),
    )
    path = tmp_path_factory.mktemp("release") / "cmds2014_release_synthetic.sav"
    release.write_sav(path)
    return path


def test_release_layout_has_the_real_item_structure(release_sav):
    meta = read.metadata(release_sav)
    assert {"gender_1", "birt_y_1", "birt_m_1", "gender_10", "inte_code", "city_name", "reimb_10"} <= set(meta.columns)
    assert "age" not in meta.columns and meta.types["city_name"] == "string"
    assert meta.value_labels["flo_rage_1"] == {1: "跨省", 2: "省内跨市", 3: "市内跨县"}
    assert meta.value_labels["ins_ncms"][4] == "没有参加" and meta.value_labels["reimb_10"][1] == "是"
    raw = read.read_raw(release_sav, ["sick_2w", "visit_2w", "edu_stat_1"], meta=meta)
    assert raw.loc[raw["sick_2w"] == 3, "visit_2w"].isna().all()  # the skip pattern
    assert set(raw["edu_stat_1"].unique()) == set(range(1, 8))  # 7 levels in 2014


@pytest.mark.slow
def test_both_layouts_give_the_same_samples_and_estimates(release_sav, finished_project, tmp_path):
    """Ingested under another dataset name through the release's codebook, sampled and fitted by
    the rules' own steps: the analytic samples hold the same values of every variable the studies
    use, and the benefit and medical-return estimates.csv are byte-identical to the default run's.
    (The inequality study's fits read the same values; its city identifiers, text here, are the
    same partition in the same order, so its random-intercept fits group rows alike.)"""
    config = validated_config()
    dataset = {
        **config["datasets"]["cmds2014"],
        "path": str(release_sav),
        "codebook": str(RELEASE_CODEBOOK),
        "generator": {**config["datasets"]["cmds2014"]["generator"], "layout": "release"},
    }
    interim, source = tmp_path / "interim.parquet", tmp_path / "source.json"
    ingest(
        dataset,
        "cmds2014_release",
        ["cmds2014_release"],
        str(release_sav),
        str(interim),
        str(tmp_path / "codebook.csv"),
        str(source),
    )
    report = pd.read_csv(tmp_path / "codebook.csv")
    assert report.loc[report["status"] == "skipped", "variable"].tolist() == ["outpatient_2w"]
    assert set(report.loc[report["status"] == "declared", "variable"]) == {"age", "migration_duration_years"}
    for name in CMDS_STUDIES:
        study = config["studies"][name]
        spec = {k: study.get(k) for k in ("sample", "quantile_groups")}
        analytic, flow = tmp_path / f"{name}.parquet", tmp_path / f"{name}_flow.csv"
        analytic_sample(name, spec, ["cmds2014_release"], [str(interim)], str(analytic), str(flow))
        assert flow.read_bytes() == (finished_project / f"results/{name}/flow.csv").read_bytes(), name
        ours, theirs = pd.read_parquet(analytic), pd.read_parquet(finished_project / f"data/analytic/{name}.parquet")
        used = [v for v in requirements.study_needs(name, study) if v not in IDENTIFIERS]
        used += list(spec["quantile_groups"])
        pd.testing.assert_frame_equal(ours[used], theirs[used], check_like=False)
        for identifier in IDENTIFIERS:
            assert (
                pd.factorize(ours[identifier], sort=True)[0] == pd.factorize(theirs[identifier], sort=True)[0]
            ).all()
        if name == "inequality":
            continue
        units = outputs.model_units(study["models"])
        files = {}
        for unit in units:
            models = {**study["models"], "equations": {e: study["models"]["equations"][e] for e in units[unit]}}
            files[unit] = [tmp_path / f"{name}_{unit}_{kind}.csv" for kind in ("estimates", "flow", "messages")]
            fit_models(name, unit, models, str(analytic), *map(str, files[unit]))
            expected = finished_project / f"results/{name}/fits/{unit}_estimates.csv"
            assert files[unit][0].read_bytes() == expected.read_bytes(), (name, unit)
        gathered = [tmp_path / f"{name}_{kind}" for kind in ("estimates.csv", "model_flow.csv", "messages.txt")]
        order = {
            "samples": study["models"].get("samples"),
            "equations": {e: {} for e in study["models"]["equations"]},
            "two_part": study["models"].get("two_part"),
        }
        # A bootstrapped unit's intervals are a function of the analytic sample, shown identical above:
        # the default run's are gathered with these fits (rerunning 1,000 replications adds nothing here).
        boot = [finished_project / f"results/{name}/bootstrap/{u}" for u in outputs.bootstrapped_units(study["models"])]
        gather_estimates(
            order,
            *([str(f[i]) for f in files.values()] for i in range(3)),
            *map(str, gathered),
            bootstrap_estimates=[f"{b}.csv" for b in boot],
            bootstrap_messages=[f"{b}_messages.csv" for b in boot],
        )
        assert gathered[0].read_bytes() == (finished_project / f"results/{name}/estimates.csv").read_bytes()


def test_release_codebook_uses_the_language_only(tmp_path):
    """No Python for this layout: the survey's derivations and the codebook's own declarations."""
    book = codebook.load_codebook(RELEASE_CODEBOOK)
    origins = {v.origin for v in book.variables.values()}
    assert origins == {"source", "any_of", "count", "first_of", "compute"}
    assert book.variables["outpatient_2w"].skip is not None and book.variables["city"].substring == (1, 4)
    assert (
        book.survey == "cmds"
        and book.wave == 2014
        and np.isin(["reimb_none", "household_size"], list(book.variables)).all()
    )
