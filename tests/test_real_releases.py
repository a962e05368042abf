"""What a real release needs (issue 15): the variables each study uses, checked before any job;
the draft command; GBK files; derivations that follow the survey, not the dataset's name."""

import copy
import struct

import pandas as pd
import pyreadstat
import pytest
import yaml
from conftest import ROOT, validated_config

from migrant_health import cli, derive, requirements
from migrant_health.errors import InputError
from migrant_health.io import codebook, read
from migrant_health.stats import ModelSpec, fit

CMDS_CODEBOOK = ROOT / "data" / "codebooks" / "cmds2014.yaml"


def config_with(**datasets) -> dict:
    """The project's config, codebooks as absolute paths, datasets changed or added."""
    config = copy.deepcopy(validated_config())
    for dataset in config["datasets"].values():
        dataset["codebook"] = str(ROOT / dataset["codebook"])
    config["datasets"].update(datasets)
    return config


# -- what each study uses ---------------------------------------------------------------------------


def test_each_study_lists_the_variables_it_uses_and_where():
    config = validated_config()
    benefit = requirements.study_needs("benefit", config["studies"]["benefit"])
    assert benefit["reimbursed"][0] == "studies.benefit.sample[4] 'reimbursement_reported'"
    assert "studies.benefit.models.equations.participation.outcome" in benefit["reimbursed"]
    assert "income_quintile" not in benefit  # formed within the sample
    assert "studies.benefit.figures.figure1.variable" in benefit["no_reimbursement_reason"]
    inequality = requirements.study_needs("inequality", config["studies"]["inequality"])
    assert "studies.inequality.models.equations.outpatient_city.group" in inequality["city"]
    assert "studies.inequality.concentration.cluster" in inequality["city"]


def test_the_project_codebooks_provide_everything_their_studies_use():
    books = requirements.check(config_with())
    assert {name: b.survey for name, b in books.items()} == {"cmds2014": "cmds", "jinan_mefc": "jinan_mefc"}


def test_everything_missing_is_listed_with_where_it_is_used_through_derivations(tmp_path):
    text = CMDS_CODEBOOK.read_text()
    text = text.replace("  household_size: {source: q104, type: numeric, range: {min: 1, max: 30}}\n", "")
    text = text.replace("  sex: {source", "  gender: {source")
    path = tmp_path / "cmds.yaml"
    path.write_text(text)
    config = config_with()
    config["datasets"]["cmds2014"]["codebook"] = str(path)
    with pytest.raises(InputError) as e:
        requirements.check(config)
    message = str(e.value)
    assert "household_size: used by studies.benefit.quantile_groups.income_quintile (via income_per_capita)" in message
    assert "sex: used by studies.benefit.tables.table1.rows[6] 'female' (via female)" in message
    assert message.count("\n  ") == 2  # both, and nothing else


def test_a_renamed_dataset_changes_nothing():
    """Derivations follow the codebook's survey: the same plan whatever the dataset is called."""
    config = config_with()
    config["datasets"]["cmds_real"] = config["datasets"].pop("cmds2014")
    for name in ("benefit", "medical_return", "inequality"):
        config["studies"][name]["dataset"] = "cmds_real"
    books = requirements.check(config)
    declared = codebook.load_codebook(CMDS_CODEBOOK).variables
    plan = derive.plan(books["cmds_real"].survey, declared, "x")
    assert len(plan.run) == len(derive.CMDS) and not plan.lacking


def test_pooled_waves_are_distinct_and_of_one_survey(tmp_path):
    config = config_with()
    config["datasets"]["jinan_again"] = dict(config["datasets"]["jinan_mefc"])
    config["studies"]["mefc"]["dataset"] = ["jinan_mefc", "jinan_again"]
    with pytest.raises(InputError, match=r"studies.mefc.dataset: jinan_mefc and jinan_again are both wave 2020"):
        requirements.check(config)
    later = tmp_path / "jinan_2021.yaml"
    later.write_text((ROOT / "data/codebooks/jinan_mefc.yaml").read_text().replace("wave: 2020", "wave: 2021"))
    config["datasets"]["jinan_again"]["codebook"] = str(later)
    requirements.check(config)


def test_wave_is_a_factor_of_a_pooled_model():
    rows = 400
    data = pd.DataFrame(
        {
            "y": [float(i % 3 == 0) for i in range(rows)],
            "x": [float(i % 7) for i in range(rows)],
            "wave": pd.Categorical(["2013", "2014"] * (rows // 2), categories=["2013", "2014"]),
        }
    )
    tidy = fit(ModelSpec("y", ["x", {"factor": "wave", "reference": "2013"}], kind="logit"), data).tidy()
    assert tidy.loc[tidy["term"] == "wave", ["level", "reference"]].values.tolist() == [["2014", "2013"]]


# -- the draft command --------------------------------------------------------------------------------


def gbk_file(tmp_path, suffix: str, version: int = 13):
    """A small release in GBK, as older CMDS files are: Chinese variable and value labels and text
    written by pyreadstat (UTF-8), then re-encoded in place (padded with spaces to their length).
    The SPSS file keeps its encoding record, which now says the wrong thing (UTF-8)."""
    df = pd.DataFrame({"gender_1": [1.0, 2.0, 1.0], "city_name": ["济南市", "青岛市", "济南市"], "age": [30.0, 41, 25]})
    options = dict(
        column_labels={"gender_1": "性别", "city_name": "城市名称", "age": "年龄"},
        variable_value_labels={"gender_1": {1: "男", 2: "女"}},
    )
    path = tmp_path / f"gbk{suffix}"
    if suffix == ".sav":
        pyreadstat.write_sav(df, str(path), missing_ranges={"age": [{"lo": -9, "hi": -1}]}, **options)
    else:
        pyreadstat.write_dta(df, str(path), version=version, **options)
    raw = path.read_bytes()
    for text in ("性别", "城市名称", "年龄", "济南市", "青岛市", "男", "女"):
        utf8, gbk = text.encode("utf-8"), text.encode("gbk")
        raw = raw.replace(utf8, gbk + b" " * (len(utf8) - len(gbk)))
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_gbk_files_read_with_their_encoding_and_stop_without_it(tmp_path, suffix):
    path = gbk_file(tmp_path, suffix)
    with pytest.raises(InputError, match=r"GBK-encoded: set datasets.<name>.encoding: gbk"):
        read.metadata(path)
    meta = read.metadata(path, "gbk")
    assert meta.column_labels["gender_1"] == "性别" and meta.value_labels["gender_1"] == {1: "男", 2: "女"}
    assert read.read_raw(path, ["city_name"], "gbk", meta)["city_name"].str.strip().tolist()[:2] == ["济南市", "青岛市"]


def test_a_gbk_file_without_an_encoding_record_is_not_read_as_latin1(tmp_path):
    """An SPSS file whose header says Windows-1252 (or a Stata 13 file, which says nothing) decodes
    without error into garbled labels: stopped, not read."""
    path = gbk_file(tmp_path, ".sav")
    raw = path.read_bytes()
    raw = raw.replace(struct.pack("<iiii", 7, 20, 1, 5) + b"UTF-8", struct.pack("<iiii", 7, 99, 1, 5) + b"UTF-8")
    at = raw.find(struct.pack("<iiii", 7, 3, 4, 8)) + 16
    machine = list(struct.unpack("<8i", raw[at : at + 32]))
    machine[7] = 1252
    path.write_bytes(raw[:at] + struct.pack("<8i", *machine) + raw[at + 32 :])
    with pytest.raises(InputError, match=r"looks like GBK read as Latin-1.*encoding: gbk"):
        read.metadata(path)
    assert read.metadata(path, "gbk").value_labels["gender_1"][1.0] == "男"


def test_draft_writes_every_item_and_what_the_studies_need(tmp_path, capsys):
    path = gbk_file(tmp_path, ".sav")
    out = tmp_path / "draft.yaml"
    status = cli.main(["codebook", "draft", str(path), "-o", str(out), "--encoding", "gbk", "--survey", "cmds",
                       "--config", str(ROOT / "config.yaml"), "--dataset", "cmds2014"])  # fmt: skip
    assert status == 0
    text = out.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert doc["survey"] == "cmds" and doc["wave"] == "TODO"
    assert doc["items"]["gender_1"] == {"label": "性别", "type": "numeric", "labels": {1: "男", 2: "女"}}
    assert doc["items"]["city_name"] == {"label": "城市名称", "type": "string"}
    assert doc["items"]["age"]["missing"] == {"-9..-1": "user-missing"}
    assert doc["variables"]["household_size"] == {"source": "TODO"} and "age" not in doc["variables"]
    assert "# used by studies.benefit.quantile_groups.income_quintile (via income_per_capita)" in text
    assert "set datasets.<name>.encoding: gbk" in text
    with pytest.raises(InputError, match=r"wave: names the wave"):
        codebook.load_codebook(out)
    assert cli.main(["codebook", "draft", str(path)]) == 2
    assert "GBK-encoded" in capsys.readouterr().err


def test_needs_lists_the_variables_of_a_dataset(capsys):
    assert cli.main(["codebook", "needs", "--config", str(ROOT / "config.yaml"), "--dataset", "jinan_mefc"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Canonical variables used by studies mefc") and "\nmedical_return: studies.mefc" in out


def test_the_console_script_is_declared():
    assert 'migrant-health = "migrant_health.cli:main"' in (ROOT / "pyproject.toml").read_text()


def test_figures_and_tables_of_real_data_name_the_file(tmp_path):
    import json

    from migrant_health.figures import plots
    from migrant_health.io.files import read_provenance
    from migrant_health.tables import render

    source = tmp_path / "cmds.source.json"
    source.write_text(json.dumps({"file": "data/raw/cmds2014.sav", "sha256": "0123456789abcdef" * 4, "rows": 200937}))
    provenance = read_provenance([source])
    assert provenance == ["Data: data/raw/cmds2014.sav (sha256 0123456789ab, 200,937 rows)."]
    caption = json.loads(plots.write_caption(tmp_path / "f", "Figure 1", "", False, provenance).read_text())
    assert caption["notes"] == ["Data: data/raw/cmds2014.sav (sha256 0123456789ab, 200,937 rows)."]
    render.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t", "Table 1", "A note.", False, provenance)
    assert (
        (tmp_path / "t.md")
        .read_text()
        .endswith("A note.  \nData: data/raw/cmds2014.sav (sha256 0123456789ab, 200,937 rows).  \n")
    )
