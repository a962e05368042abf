"""Reading raw files through the codebook, and every bad-input message."""

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import yaml
from conftest import CODEBOOK

from migrant_health.errors import InputError
from migrant_health.io import codebook, read


def small_codebook(tmp_path, **extra):
    doc = {
        "survey": "cmds",
        "wave": 2014,
        "interview": {"year": 2014, "month": 5},
        "variables": {
            "sex": {"source": "q101b", "type": "categorical", "codes": {1: "male", 2: "female"}, "reference": "male"},
            "employed": {"source": "q102", "type": "binary", "codes": {1: True, 2: False}},
            "total_cost": {"source": "q307", "type": "numeric", "missing": {999998: "dont_know"}},
            **extra,
        },
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(doc))
    return codebook.load_codebook(path)


def small_raw(tmp_path, suffix=".sav", sex=(1, 2, 2, 7)):
    df = pd.DataFrame({"q101b": sex, "q102": [1, 2, 1, 1], "q307": [100.0, 999998, 250.0, 80.0]}, dtype=float)
    path = tmp_path / f"raw{suffix}"
    (pyreadstat.write_sav if suffix == ".sav" else pyreadstat.write_dta)(df, str(path))
    return path


def test_raw_file_missing(tmp_path):
    with pytest.raises(InputError, match=r"nope.sav: raw data file not found.*datasets.<name>.path"):
        read.read_raw(tmp_path / "nope.sav", ["q101b"])


def test_not_spss_or_stata(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match=r"survey.csv: not an SPSS \(.sav, .zsav\) or Stata \(.dta\) file"):
        read.read_raw(path, ["a"])


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.sav"
    path.write_bytes(b"this is not an SPSS file at all" * 10)
    with pytest.raises(InputError, match=r"broken.sav: cannot be read as .sav"):
        read.read_raw(path, ["q101b"])


def test_codebook_variable_absent_lists_closest_names(tmp_path):
    path = small_raw(tmp_path)
    with pytest.raises(InputError, match=r"does not have: 'q101c'; closest: q101b.*Fix `source:`"):
        read.read_raw(path, ["q101b", "q101c"])


def test_undeclared_code_names_variable_code_and_count(tmp_path):
    book = small_codebook(tmp_path)
    raw = read.read_raw(small_raw(tmp_path), book.sources)
    with pytest.raises(InputError, match=r"sex \(column q101b\): code 7 x 1\n.*undeclared_codes: missing"):
        codebook.apply_codebook(raw, book)


def test_undeclared_code_as_missing_is_counted(tmp_path):
    book = small_codebook(tmp_path)
    raw = read.read_raw(small_raw(tmp_path), book.sources)
    frame, report = codebook.apply_codebook(raw, book, undeclared="missing")
    assert frame["sex"].isna().sum() == 1
    row = report[(report["variable"] == "sex") & (report["status"] == "undeclared")]
    assert row[["code", "count"]].values.tolist() == [["7", 1]]


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_spss_and_stata_read_alike(tmp_path, suffix):
    book = small_codebook(tmp_path)
    frame, report = codebook.apply_codebook(
        read.read_raw(small_raw(tmp_path, suffix, sex=(1, 2, 2, 1)), book.sources), book
    )
    assert frame["sex"].astype(str).tolist() == ["male", "female", "female", "male"]
    assert frame["sex"].cat.categories[0] == "male"
    assert frame["employed"].tolist() == [True, False, True, True]
    assert frame["total_cost"].isna().tolist() == [False, True, False, False]
    dont_know = report[(report["variable"] == "total_cost") & (report["meaning"] == "dont_know")]
    assert dont_know["count"].item() == 1


def test_codebook_reference_must_be_a_level(tmp_path):
    with pytest.raises(InputError, match=r"variables.edu: reference 'none' is not one of its levels"):
        small_codebook(
            tmp_path, edu={"source": "q101e", "type": "categorical", "codes": {1: "low"}, "reference": "none"}
        )


def test_synthetic_release_has_no_undeclared_codes(sav_path):
    book = codebook.load_codebook(CODEBOOK)
    _, report = codebook.apply_codebook(read.read_raw(sav_path, book.sources), book)
    assert not (report["status"] == "undeclared").any()
    # Every declared special code is counted; "don't know" amounts are the unrecorded ones.
    amount = report[(report["variable"] == "reimbursement_amount") & (report["meaning"] == "dont_know")]
    assert amount["count"].item() > 0


def test_only_codebook_columns_are_read(sav_path):
    raw = read.read_raw(sav_path, ["q101b", "q303"])
    assert list(raw.columns) == ["q101b", "q303"]
    assert np.isin(raw["q303"].unique(), [1, 2]).all()
