"""The codebook language, one construct at a time, on hand-made rows (issue 15)."""

import numpy as np
import pandas as pd
import pytest
import yaml

from migrant_health import derive, evaluation, sample
from migrant_health.errors import InputError
from migrant_health.io import codebook
from migrant_health.io.files import write_parquet
from migrant_health.stats.variance import cluster_index

HEADER = {"survey": "cmds", "wave": 2014, "interview": {"year": 2014, "month": 5}}


def book(tmp_path, variables, items=None, **header):
    doc = {**HEADER, **header, "variables": variables}
    if items is not None:
        doc["items"] = items
    path = tmp_path / "book.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    return codebook.load_codebook(path)


def apply(tmp_path, variables, raw: dict, items=None, undeclared="error"):
    b = book(tmp_path, variables, items)
    return codebook.apply_codebook(pd.DataFrame(raw), b, undeclared)


def rows(report, variable, status=None):
    r = report[report["variable"] == variable]
    return r if status is None else r[r["status"] == status]


# -- codes: ranges, else, missing ranges ----------------------------------------------------------


def test_code_ranges_form_groups_and_are_counted(tmp_path):
    spec = {
        "source": "edu",
        "type": "categorical",
        "codes": {"1..2": "primary", 3: "junior", "4..7": "higher"},
        "reference": "primary",
    }
    frame, report = apply(tmp_path, {"education": spec}, {"edu": [1.0, 2, 3, 5, 7, 4]})
    assert frame["education"].astype(str).tolist() == ["primary", "primary", "junior", "higher", "higher", "higher"]
    counts = rows(report, "education", "valid").set_index("code")["count"]
    assert counts.to_dict() == {"1..2": 2, "3": 1, "4..7": 3}


def test_else_maps_every_other_code_and_nothing_is_undeclared(tmp_path):
    """57 nationalities in two lines: Han, and everyone else a minority."""
    spec = {"source": "nation", "type": "categorical", "codes": {1: "han"}, "else": "minority", "reference": "han"}
    frame, report = apply(tmp_path, {"ethnicity": spec}, {"nation": [1.0, 8, 57, np.nan, 3]})
    assert frame["ethnicity"].astype(object).tolist()[:3] == ["han", "minority", "minority"]
    assert pd.isna(frame["ethnicity"].iloc[3])
    assert rows(report, "ethnicity", "undeclared").empty
    assert rows(report, "ethnicity", "valid").set_index("code")["count"].to_dict() == {"1": 1, "else": 3}


def test_missing_code_ranges(tmp_path):
    spec = {"source": "inc", "type": "numeric", "missing": {"-9..-1": "refused or not asked"}, "range": {"min": 0}}
    frame, report = apply(tmp_path, {"income": spec}, {"inc": [3000.0, -1, -9, 0]})
    assert frame["income"].isna().tolist() == [False, True, True, False]
    assert rows(report, "income", "missing").set_index("code").loc["-9..-1", "count"] == 2


def test_undeclared_codes_still_stop_without_else(tmp_path):
    spec = {"source": "s", "type": "categorical", "codes": {"1..2": "a"}}
    with pytest.raises(InputError, match=r"(?s)x \(column s\): code 3 x 1.*a range low\.\.high"):
        apply(tmp_path, {"x": spec}, {"s": [1.0, 3]})


# -- text variables and identifiers; substrings ----------------------------------------------------


def test_text_identifier_is_written_and_usable_as_cluster_and_group(tmp_path):
    """A city named in Chinese as the identifier: written to parquet, and clusters/groups by it."""
    variables = {
        "city": {"source": "city_name", "type": "id"},
        "city_name": {"source": "city_name", "type": "text"},
    }
    frame, _ = apply(tmp_path, variables, {"city_name": ["济南市", "青岛市 ", "济南市", ""]})
    assert str(frame["city"].dtype) == "string" and pd.isna(frame["city"].iloc[3])
    assert frame["city_name"].tolist()[:2] == ["济南市", "青岛市"]
    write_parquet(frame, tmp_path / "f.parquet")
    back = pd.read_parquet(tmp_path / "f.parquet")
    codes, groups = cluster_index(back["city"].iloc[:3])
    assert groups == 2 and codes.tolist() == [0, 1, 0]
    assert np.unique(back["city"].iloc[:3].to_numpy(), return_inverse=True)[1].tolist() == [0, 1, 0]


def test_substring_takes_the_city_code_from_the_sample_point_code(tmp_path):
    variables = {
        "city": {"source": "inte_code", "type": "id", "substring": {"start": 1, "length": 4}},
        "point": {"source": "inte_code", "type": "numeric", "substring": {"start": 5, "length": 3}},
    }
    frame, _ = apply(tmp_path, variables, {"inte_code": ["3701012", "3702003", None]})
    assert frame["city"].tolist()[:2] == ["3701", "3702"] and pd.isna(frame["city"].iloc[2])
    assert frame["point"].tolist()[:2] == [12.0, 3.0]


def test_substring_of_a_number_or_text_where_a_number_is_needed_stop(tmp_path):
    with pytest.raises(InputError, match=r"substring applies to text items, but q1 holds numbers"):
        apply(tmp_path, {"x": {"source": "q1", "type": "id", "substring": {"start": 1, "length": 2}}}, {"q1": [1.0]})
    with pytest.raises(InputError, match=r"x \(column c\) is declared numeric, but 1 values are not numbers"):
        apply(
            tmp_path, {"x": {"source": "c", "type": "numeric", "substring": {"start": 1, "length": 2}}}, {"c": ["A1"]}
        )


# -- several items ------------------------------------------------------------------------------


def test_any_of_and_all_of_are_three_valued(tmp_path):
    items = {"a": [1.0, 2, 2, np.nan, 2], "b": [2.0, 2, np.nan, 1, 1]}
    codes = {"1..3": True, 4: False}
    variables = {
        "any": {"any_of": ["a", "b"], "codes": {1: True, 2: False}},
        "all": {"all_of": ["a", "b"], "codes": {1: True, 2: False}},
    }
    frame, _ = apply(tmp_path, variables, items)
    assert frame["any"].tolist() == [True, False, pd.NA, True, True]
    assert frame["all"].tolist() == [False, False, False, pd.NA, False]
    # Codes by place of enrolment: enrolled anywhere.
    enrolled, _ = apply(
        tmp_path, {"other": {"any_of": ["gov", "comm"], "codes": codes}}, {"gov": [4.0, 2], "comm": [3.0, 4]}
    )
    assert enrolled["other"].tolist() == [True, True]


def test_count_of_filled_roster_slots_and_of_ticked_items(tmp_path):
    raw = {f"gender_{k}": [1.0, 2.0, np.nan][:3] if k == 1 else [2.0, np.nan, np.nan] for k in range(1, 11)}
    raw["gender_3"] = [1.0, np.nan, np.nan]
    variables = {
        "household_size": {"count": ["gender_{1..10}"], "range": {"min": 1, "max": 30}},
        "ticked": {"count": ["gender_1", "gender_2"], "codes": {1: True, 2: False}},
    }
    frame, report = apply(tmp_path, variables, raw)
    assert frame["household_size"].tolist()[:2] == [10.0, 1.0] and pd.isna(frame["household_size"].iloc[2])
    assert frame["ticked"].tolist()[:2] == [1.0, 0.0]
    sources = set(rows(report, "household_size", "valid")["source"])
    assert sources == {f"gender_{k}" for k in range(1, 11)}  # each slot's codes counted


def test_first_of_takes_the_first_item_neither_empty_nor_special(tmp_path):
    spec = {
        "first_of": ["gov", "comm"],
        "type": "categorical",
        "codes": {1: "here", 2: "home", 3: "elsewhere"},
        "missing": {4: "not_enrolled", 5: "dont_know"},
    }
    frame, _ = apply(tmp_path, {"place": spec}, {"gov": [1.0, 4, 4, np.nan], "comm": [2.0, 2, 5, 3]})
    assert frame["place"].astype(object).tolist()[:2] == ["here", "home"]
    assert pd.isna(frame["place"].iloc[2]) and frame["place"].iloc[3] == "elsewhere"


def test_one_item_feeds_several_variables(tmp_path):
    """Enrolled in NCMS (yes/no) and where, both from the one item coded by place of enrolment."""
    variables = {
        "holds_ncms": {"source": "ins", "type": "binary", "codes": {"1..3": True, 4: False}, "missing": {5: "dk"}},
        "ncms_place": {
            "source": "ins",
            "type": "categorical",
            "codes": {1: "current_city", 2: "hometown", 3: "elsewhere"},
            "missing": {4: "not_enrolled", 5: "dk"},
        },
    }
    frame, report = apply(tmp_path, variables, {"ins": [1.0, 2, 4, 5]})
    assert frame["holds_ncms"].tolist() == [True, True, False, pd.NA]
    assert frame["ncms_place"].astype(object).tolist()[:2] == ["current_city", "hometown"]
    assert frame["ncms_place"].iloc[2:].isna().all()
    assert set(report["variable"]) == {"holds_ncms", "ncms_place"}


def test_items_declare_missing_codes_once_for_every_variable_reading_them(tmp_path):
    items = {"q": {"type": "numeric", "missing": {-1: "not applicable", 98: "dont know"}}}
    variables = {
        "a": {"source": "q", "type": "binary", "codes": {1: True, 2: False}},
        "b": {"source": "q", "type": "categorical", "codes": {1: "x", 2: "y", 98: "unknown"}},
    }
    frame, report = apply(tmp_path, variables, {"q": [1.0, -1, 98]}, items)
    assert frame["a"].tolist() == [True, pd.NA, pd.NA]
    assert frame["b"].astype(object).tolist()[2] == "unknown"  # the variable's own codes come first
    assert rows(report, "a", "missing").set_index("code").loc["-1", "count"] == 1


# -- expressions ----------------------------------------------------------------------------------


def test_compute_age_at_the_interview_and_duration_since_arrival(tmp_path):
    variables = {
        "birth_year": {"source": "by", "type": "numeric"},
        "birth_month": {"source": "bm", "type": "numeric"},
        "age": {"compute": "interview_year - birth_year - (birth_month > interview_month)", "type": "numeric"},
        "arrival_year": {"source": "ay", "type": "numeric"},
        "arrival_month": {"source": "am", "type": "numeric"},
        "years": {
            "compute": "((interview_year * 12 + interview_month) - (arrival_year * 12 + arrival_month)) / 12",
            "type": "numeric",
            "range": {"min": 0},
        },
        "adult": {"compute": "age >= 18", "type": "binary"},
    }
    raw = {"by": [1980.0, 1980, np.nan], "bm": [5.0, 6, 1], "ay": [2013.0, 2014, 2010], "am": [5.0, 5, 11]}
    frame, _ = apply(tmp_path, variables, raw)
    assert frame["age"].tolist()[:2] == [34.0, 33.0] and pd.isna(frame["age"].iloc[2])
    assert frame["years"].tolist() == [1.0, 0.0, 3.5]
    assert frame["adult"].tolist() == [True, True, pd.NA]


def test_compute_errors_name_the_variable_and_the_fix(tmp_path):
    with pytest.raises(InputError, match=r"variables.x reads 'birth_yaer'.*closest: birth_year"):
        book(
            tmp_path,
            {"birth_year": {"source": "b", "type": "numeric"}, "x": {"compute": "birth_yaer + 1", "type": "numeric"}},
        )
    with pytest.raises(InputError, match=r"'age' is derived by survey cmds after the codebook"):
        book(tmp_path, {"x": {"compute": "age * 2", "type": "numeric"}})
    with pytest.raises(InputError, match=r"read one another in a circle: a -> b -> a"):
        book(tmp_path, {"a": {"compute": "b + 1", "type": "numeric"}, "b": {"compute": "a + 1", "type": "numeric"}})
    with pytest.raises(InputError, match=r"uses a call of `open\(...\)`.*which a codebook expression may not"):
        book(tmp_path, {"a": {"compute": "open('x')", "type": "numeric"}})
    with pytest.raises(InputError, match=r"compute gives true/false, but the variable is declared numeric"):
        apply(
            tmp_path,
            {"y": {"source": "q", "type": "numeric"}, "a": {"compute": "y > 1", "type": "numeric"}},
            {"q": [1.0]},
        )


def test_compute_a_constant(tmp_path):
    """A release whose reimbursement item has no 'no reimbursement' option declares it false."""
    frame, _ = apply(tmp_path, {"reimb_none": {"compute": "false", "type": "binary"}}, {"q": [1.0, 2.0]})
    assert frame["reimb_none"].tolist() == [False, False]


# -- skip patterns -----------------------------------------------------------------------------------


SKIP = {
    "health": {"source": "sick", "type": "categorical", "codes": {1: "ill", 2: "unwell", 3: "well"}},
    "outpatient_2w": {
        "source": "visit",
        "type": "binary",
        "codes": {1: True, 2: False},
        "skip": {"when": "health == 'well'", "value": False, "meaning": "not asked: no visit"},
    },
}


def test_skip_pattern_gives_the_not_asked_their_value_counted_apart(tmp_path):
    raw = {"sick": [1.0, 2, 3, 3, np.nan], "visit": [1.0, 2, np.nan, np.nan, np.nan]}
    frame, report = apply(tmp_path, SKIP, raw)
    assert frame["outpatient_2w"].tolist() == [True, False, False, False, pd.NA]
    skipped = rows(report, "outpatient_2w", "skipped")
    assert skipped["count"].item() == 2 and skipped["meaning"].item() == "not asked: no visit: False"
    base = rows(report, "outpatient_2w").iloc[0]
    assert (base["n_valid"], base["n_skipped"], base["n_missing"]) == (2, 2, 1)


def test_an_answer_where_the_skip_says_not_asked_stops_or_is_kept(tmp_path):
    raw = {"sick": [3.0, 3], "visit": [1.0, np.nan]}
    with pytest.raises(InputError, match=r"rows where `health == 'well'` were not asked, but 1 of them hold"):
        apply(tmp_path, SKIP, raw)
    keep = {
        **SKIP,
        "outpatient_2w": {**SKIP["outpatient_2w"], "skip": {**SKIP["outpatient_2w"]["skip"], "answered": "keep"}},
    }
    frame, report = apply(tmp_path, keep, raw)
    assert frame["outpatient_2w"].tolist() == [True, False]
    assert rows(report, "outpatient_2w", "answered_though_skipped")["count"].item() == 1


# -- labels as drafted, against the file's -----------------------------------------------------------


def test_labels_contradicting_the_codebook_stop_with_variable_code_and_both_labels(tmp_path):
    spec = {
        "source": "flo_rage_1",
        "type": "categorical",
        "codes": {1: "across_provinces", 2: "across_cities", 3: "within_city"},
        "labels": {1: "跨省", 2: "省内跨市", 3: "市内跨县"},
    }
    b = book(tmp_path, {"migration_scope": spec})
    codebook.check_labels(b, {"flo_rage_1": {1.0: "跨省", 2.0: "省内跨市", 3.0: " 市内跨县"}}, "f.sav")
    reversed_labels = {"flo_rage_1": {1.0: "市内跨县", 2.0: "省内跨市", 3.0: "跨省"}}
    with pytest.raises(InputError) as e:
        codebook.check_labels(b, reversed_labels, "f.sav")
    message = str(e.value)
    assert (
        "variables.migration_scope (column flo_rage_1): code 1: the file says '市内跨县', the codebook '跨省'"
        in message
    )
    assert "code 3: the file says '跨省'" in message and "labels: ignore" in message
    ignored = book(tmp_path, {"migration_scope": {**spec, "labels": "ignore"}})
    codebook.check_labels(ignored, reversed_labels, "f.sav")


def test_item_labels_are_checked_unless_a_variable_ignores_them(tmp_path):
    items = {"gender_1": {"type": "numeric", "labels": {1: "男", 2: "女"}}}
    variables = {"sex": {"source": "gender_1", "type": "categorical", "codes": {1: "male", 2: "female"}}}
    with pytest.raises(InputError, match=r"items.gender_1 \(column gender_1\): code 1: the file says '女'"):
        codebook.check_labels(book(tmp_path, variables, items), {"gender_1": {1: "女", 2: "男"}}, "f.sav")
    variables["sex"]["labels"] = "ignore"
    codebook.check_labels(book(tmp_path, variables, items), {"gender_1": {1: "女", 2: "男"}}, "f.sav")


# -- the header: survey, wave, interview; drafts ---------------------------------------------------


@pytest.mark.parametrize(
    "header, message",
    [
        ({"survey": "cmds2014"}, r"survey: 'cmds2014' is not a known survey; known: cmds, jinan_mefc; closest: cmds"),
        ({"survey": {"year": 2014, "month": 5}}, r"the interview date goes under `interview:`"),
        ({"dataset": "cmds2014"}, r"`dataset:` is no longer read"),
        ({"wave": None}, r"wave: names the wave"),
        ({"interview": {"year": 2014, "month": 13}}, r"interview: the interview date as"),
    ],
)
def test_header_names_survey_wave_and_interview_date(tmp_path, header, message):
    with pytest.raises(InputError, match=message):
        book(tmp_path, {"x": {"source": "q", "type": "numeric"}}, **header)


def test_an_unmapped_draft_entry_says_so(tmp_path):
    with pytest.raises(InputError, match=r"variables.sex: still a draft \(source: 'TODO'\)"):
        book(tmp_path, {"sex": {"source": "TODO"}})


def test_wave_is_the_pipelines_own(tmp_path):
    with pytest.raises(InputError, match=r"variables.wave: `wave` is filled from the codebook's `wave:`"):
        book(tmp_path, {"wave": {"source": "q", "type": "numeric"}})


# -- derivations by survey, pooling -----------------------------------------------------------------


def test_derivations_follow_the_survey_and_a_declared_variable_is_not_derived():
    plan = derive.plan("cmds", ["birth_year", "age", "sex"], "book.yaml")
    run = [d.name for d in plan.run]
    assert "age" not in run and "age2" in run and "female" in run and plan.declared == ("age",)
    assert plan.lacking["income_per_capita"] == ["household_income", "household_size"]
    assert derive.plan("jinan_mefc", ["age"], "b").run == ()
    with pytest.raises(InputError, match=r"survey: 'cmds2013' is not a known survey"):
        derive.plan("cmds2013", [], "b")


def test_pooled_waves_unite_levels_and_count_each_wave():
    def wave(label, levels, values):
        return pd.DataFrame(
            {
                "x": pd.Categorical(values, categories=levels),
                "wave": pd.Categorical([label] * len(values), categories=[label]),
            }
        )

    pooled = sample.pool(
        [wave("2013", ["a", "b"], ["a", "b"]), wave("2014", ["b", "c"], ["c", "c", "b"])], ["d13", "d14"], "w"
    )
    assert list(pooled["x"].cat.categories) == ["a", "b", "c"] and list(pooled["wave"].cat.categories) == [
        "2013",
        "2014",
    ]
    kept, flow = sample.apply_filters(pooled, [{"name": "s", "keep": "x != 'a'", "reason": "r"}], "w", by="wave")
    assert flow[["n_after_2013", "n_after_2014"]].values.tolist() == [[2, 3], [1, 3]]
    numbers = pd.DataFrame({"x": [1.0], "wave": pd.Categorical(["2015"])})
    with pytest.raises(
        InputError, match=r"x is not of one type in the pooled datasets \(d13: categorical, d15: number\)"
    ):
        sample.pool([wave("2013", ["a"], ["a"]), numbers], ["d13", "d15"], "w")


def test_expression_values_keep_missing():
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": pd.array([True, pd.NA], dtype="boolean")})
    assert evaluation.values(frame, "a * 2", "w").tolist()[0] == 2.0
    assert evaluation.values(frame, "b and a > 0", "w").tolist() == [True, pd.NA]


# -- the schema documents the language the parser reads ---------------------------------------------


def test_schema_names_the_keys_the_parser_reads_and_the_codebooks_follow_it():
    import jsonschema
    from conftest import ROOT

    from migrant_health.io import codebook_file

    schema = yaml.safe_load((ROOT / "schemas" / "codebook.schema.yaml").read_text())
    assert set(schema["properties"]) == codebook_file.TOP_KEYS
    assert set(schema["properties"]["variables"]["additionalProperties"]["properties"]) == codebook.VARIABLE_KEYS
    assert set(schema["properties"]["items"]["additionalProperties"]["properties"]) == codebook.ITEM_KEYS
    for path in sorted((ROOT / "data" / "codebooks").glob("*.yaml")):
        jsonschema.Draft7Validator(schema).validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        codebook.load_codebook(path)
