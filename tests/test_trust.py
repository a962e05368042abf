"""Bad input and hostile configuration, tried as a user and a security reviewer would.

Each case changes one thing in a copy of a finished project and runs the workflow's command
line. It asserts the exit status, that the message names the file, key, variable or code
(and the fix), and that no traceback is shown. A case that used to end silently with wrong
numbers either stops now or finishes with the rows counted (the `then` check says how).
"""

import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml
from workflow_helpers import copy_project, run_forked

from migrant_health.io.yamlfile import read_yaml

pytestmark = pytest.mark.slow
ATTACK = "__import__('os').system('touch hacked.txt')"
GLOBALS_ATTACK = "age.__class__.__init__.__globals__.get('sys').modules.get('os').system('touch hacked.txt') == 0"


# -- changing one thing in a project ----------------------------------------------------------


def edit_config(change: Callable[[dict], None]):
    def apply(workdir: Path) -> None:
        path = workdir / "config.yaml"
        config = read_yaml(path)
        change(config)
        path.write_text(yaml.dump(config, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True))

    return apply


def edit_text(file: str, old: str, new: str):
    def apply(workdir: Path) -> None:
        path = workdir / file
        text = path.read_text()
        assert old in text, f"{file} has no {old!r}"
        path.write_text(text.replace(old, new, 1))

    return apply


# Releases as pyreadstat read them, by (name, size, mtime): every case's project is a copy of the
# same finished one (copies keep both), and reading the CMDS file takes seconds.
_RELEASES = {}


def read_release(path: Path):
    """(data, metadata) of a release, read once per file content; the data a copy to change."""
    stat = path.stat()
    key = (path.name, stat.st_size, stat.st_mtime_ns)
    if key not in _RELEASES:
        _RELEASES[key] = pyreadstat.read_sav(str(path), user_missing=True)
    df, meta = _RELEASES[key]
    return df.copy(), meta


def edit_sav(
    file: str, change: Callable[[pd.DataFrame], pd.DataFrame], to: str | None = None, label: str | None = None
):
    """Rewrite a raw release (labels and user-missing codes kept) after `change`, in place or `to`
    another file (with another file label)."""

    def apply(workdir: Path) -> None:
        df, meta = read_release(workdir / file)
        df = change(df)
        pyreadstat.write_sav(
            df,
            str(workdir / (to or file)),
            file_label=label or meta.file_label,
            column_labels=[meta.column_names_to_labels.get(c, c) for c in df.columns],
            variable_value_labels={k: v for k, v in meta.variable_value_labels.items() if k in df},
            missing_ranges={k: v for k, v in (meta.missing_ranges or {}).items() if k in df},
        )

    return apply


def set_rows(column: str, rows: slice, value):
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if isinstance(value, str):
            df[column] = df[column].astype(object).map(lambda v: f"{v:g}")
        df.loc[df.index[rows], column] = value
        return df

    return change


def write_sav(
    workdir: Path,
    file: str,
    change: Callable[[pd.DataFrame], pd.DataFrame],
    to: str,
    label: str,
    labels: dict | None = None,
    rename: dict | None = None,
):
    """A copy of a release (labels and user-missing codes kept, columns renamed, some value labels
    replaced) as another file with another label."""
    df, meta = read_release(workdir / file)
    rename = rename or {}
    df = change(df).rename(columns=rename)
    value_labels = {rename.get(k, k): v for k, v in meta.variable_value_labels.items()}
    value_labels.update(labels or {})
    pyreadstat.write_sav(
        df,
        str(workdir / to),
        file_label=label,
        column_labels=[meta.column_names_to_labels.get(c, c) for c in df.columns],
        variable_value_labels={k: v for k, v in value_labels.items() if k in df},
        missing_ranges={rename.get(k, k): v for k, v in (meta.missing_ranges or {}).items()},
    )


def study(name: str, change: Callable[[dict], None]):
    return edit_config(lambda c: change(c["studies"][name]))


def truncate(file: str):
    def apply(workdir: Path) -> None:
        path = workdir / file
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return apply


MEFC_SAV = "data/raw/jinan_mefc_synthetic.sav"
CMDS_SAV = "data/raw/cmds2014_synthetic.sav"


def add_mefc_sample(name: str, keep: str, table_samples: list[str]):
    def change(s: dict) -> None:
        s["models"]["samples"] = {"total": None, name: keep}
        s["effect_tables"]["odds_ratios"]["samples"] = table_samples

    return study("mefc", change)


def flow_counts_outside_range(workdir: Path) -> None:
    report = pd.read_csv(workdir / "results/data/jinan_mefc_codebook.csv")
    outside = report[(report["variable"] == "age") & (report["status"] == "outside_range")]
    assert outside["count"].item() == 2
    flow = pd.read_csv(workdir / "results/mefc/flow.csv")
    assert flow.loc[flow["step"] == "valid_questionnaire", "n_dropped_missing"].item() >= 2


def separated_term_is_not_estimable(workdir: Path) -> None:
    table = (workdir / "results/mefc/tables/odds_ratios.md").read_text()
    assert "not estimable†" in table and "perfect separation" in table
    estimates = pd.read_csv(workdir / "results/mefc/estimates.csv")
    cancer = estimates[(estimates["sample"] == "separated") & (estimates["term"] == "cancer")]
    assert not cancer["estimable"].any() and cancer["estimate"].isna().all()


def no_file(name: str):
    def check(workdir: Path) -> None:
        assert not (workdir / name).exists() and not (workdir.parent / name).exists()

    return check


# -- real releases (issue 15) ----------------------------------------------------------------------

JINAN_SOURCE = re.compile(r"source: ([abcd]\d+)\b")
TEXT_COMMUNITY = {"community": lambda df: df.assign(community=df["community"].map(lambda c: f"社区{int(c):02d}"))}


def renamed_real_jinan(workdir: Path) -> None:
    """The Jinan dataset renamed and read as a real file (its copy, relabelled): the estimates it
    had, and each table and the report name the file, its sha256 and rows."""
    shutil.copy(workdir / "results/mefc/estimates.csv", workdir / "estimates_before.csv")
    write_sav(workdir, MEFC_SAV, lambda df: df, to="data/raw/jinan_survey.sav", label="Jinan MEFC survey 2020")

    def change(c):
        c["datasets"]["jinan_survey"] = {
            **c["datasets"].pop("jinan_mefc"),
            "synthetic": False,
            "path": "data/raw/jinan_survey.sav",
        }
        c["studies"]["mefc"]["dataset"] = "jinan_survey"

    edit_config(change)(workdir)


def same_estimates_and_provenance(workdir: Path) -> None:
    assert (workdir / "results/mefc/estimates.csv").read_bytes() == (workdir / "estimates_before.csv").read_bytes()
    digest = hashlib.sha256((workdir / "data/raw/jinan_survey.sav").read_bytes()).hexdigest()[:12]
    line = f"Data: data/raw/jinan_survey.sav (sha256 {digest}, 670 rows)."
    for table in ("odds_ratios.md", "diseases.md", "sociodemographics.md"):
        assert line in (workdir / "results/mefc/tables" / table).read_text(), table
    assert line in (workdir / "results/report.html").read_text()
    assert not list((workdir / "results/data").glob("jinan_*_synthetic_*"))  # no stale truth or notes
    assert (workdir / "results/data/cmds2014_synthetic_truth.csv").exists()  # the CMDS dataset's stays


def pooled_jinan_waves(workdir: Path) -> None:
    """Two waves, each its own file and codebook (the second with other item names), pooled into
    the mefc study; communities are text identifiers, the model clusters by them and has wave as a
    factor."""
    write_sav(workdir, MEFC_SAV, TEXT_COMMUNITY["community"], to="data/raw/jinan_2020.sav", label="Jinan 2020")
    columns = pyreadstat.read_sav(str(workdir / MEFC_SAV), metadataonly=True)[1].column_names
    rename = {c: f"w21_{c}" for c in columns if JINAN_SOURCE.fullmatch(f"source: {c}")}
    write_sav(
        workdir, MEFC_SAV, TEXT_COMMUNITY["community"], to="data/raw/jinan_2021.sav", label="Jinan 2021", rename=rename
    )
    book = workdir / "data/codebooks/jinan_mefc.yaml"
    text = book.read_text().replace("wave: 2020", "wave: 2021")
    (workdir / "data/codebooks/jinan_2021.yaml").write_text(JINAN_SOURCE.sub(r"source: w21_\1", text))

    def change(c):
        base = c["datasets"]["jinan_mefc"]
        c["datasets"]["jinan_2020"] = {**base, "synthetic": False, "path": "data/raw/jinan_2020.sav"}
        c["datasets"]["jinan_2021"] = {
            **base,
            "synthetic": False,
            "path": "data/raw/jinan_2021.sav",
            "codebook": "data/codebooks/jinan_2021.yaml",
        }
        mefc = c["studies"]["mefc"]
        mefc["dataset"] = ["jinan_2020", "jinan_2021"]
        mefc["models"]["cluster"] = "community"
        mefc["models"]["equations"]["model3"]["vce"] = "cluster"
        mefc["models"]["equations"]["model3"]["covariates"] = [
            *mefc["models"]["equations"]["model3"]["covariates"],
            {"factor": "wave", "reference": "2020"},
        ]

    edit_config(change)(workdir)


def reversed_scope_labels(workdir: Path) -> None:
    """A file whose migration-range codes run the other way than the codebook, which recorded the
    labels it was drafted from (read as a real file, so that nothing regenerates it)."""
    write_sav(workdir, MEFC_SAV, lambda df: df, to="data/raw/jinan_survey.sav", label="Jinan MEFC survey 2020",
              labels={"a10": {1: "trans_province", 2: "trans_city", 3: "trans_county"}})  # fmt: skip
    codes = "codes: {1: trans_county, 2: trans_city, 3: trans_province}\n"
    text = (workdir / "data/codebooks/jinan_mefc.yaml").read_text()
    assert codes in text
    drafted = text.replace(codes, codes + "    labels: {1: trans_county, 2: trans_city, 3: trans_province}\n")
    (workdir / "data/codebooks/jinan_survey.yaml").write_text(drafted)
    edit_config(
        lambda c: c["datasets"]["jinan_mefc"].update(
            synthetic=False, path="data/raw/jinan_survey.sav", codebook="data/codebooks/jinan_survey.yaml"
        )
    )(workdir)


def counted_per_wave(workdir: Path) -> None:
    flow = pd.read_csv(workdir / "results/mefc/flow.csv")
    assert flow[["n_after", "n_after_2020", "n_after_2021"]].values.tolist()[0] == [1340, 670, 670]
    assert flow[["n_after", "n_after_2020", "n_after_2021"]].values.tolist()[-1] == [1254, 627, 627]
    estimates = pd.read_csv(workdir / "results/mefc/fits/model3_estimates.csv")
    wave = estimates[(estimates["model"] == "model3") & (estimates["term"] == "wave")]
    assert wave["level"].astype(str).unique().tolist() == ["2021"] and (wave["n_obs"] == 1254).all()
    assert abs(wave.loc[wave["estimand"] == "coef", "estimate"].item()) < 1e-6  # the same people twice
    report = pd.read_csv(workdir / "results/data/jinan_2021_codebook.csv")
    assert (report["wave"] == 2021).all() and "w21_a1" in set(report["source"])


@dataclass
class Case:
    id: str
    change: Callable[[Path], None]
    says: list  # fragments the message must contain
    status: int = 1  # expected exit status (0: finishes, with `then` checking the counts)
    then: Callable[[Path], None] | None = None
    args: list = field(default_factory=list)


CASES = [
    # -- security: config is data, not code; names that become paths are checked --------------
    Case(
        "filter_runs_shell_command",
        study("mefc", lambda s: s["sample"][1].update(keep=f"visited_care_12m and {GLOBALS_ATTACK}")),
        ["studies.mefc.sample[1]", "which a filter may not"],
        then=no_file("hacked.txt"),
    ),
    Case(
        "filter_imports_os",
        study("benefit", lambda s: s["sample"][0].update(keep=ATTACK)),
        ["studies.benefit.sample[0]", "which a filter may not"],
        then=no_file("hacked.txt"),
    ),
    Case(
        "filter_writes_rows_out",
        study("mefc", lambda s: s["sample"][1].update(keep="visited_care_12m and age.to_csv('leak.csv') is None")),
        ["studies.mefc.sample[1]", "which a filter may not"],
        then=no_file("leak.csv"),
    ),
    Case(
        "model_sample_lambda",
        study("mefc", lambda s: s["models"].update(samples={"total": "(lambda: True)()"})),
        ["studies.mefc.models.samples.total", "which a filter may not"],
    ),
    Case(
        "table_column_subscript",
        study("benefit", lambda s: s["tables"]["table1"]["columns"][1].update(keep="insurance_programme[0] == 'NCMS'")),
        ["studies.benefit.tables.table1", "which a filter may not"],
    ),
    Case(
        "figure_indicator_attack",
        study("benefit", lambda s: s["figures"]["figure2"].update(indicator=ATTACK)),
        ["studies.benefit.figures.figure2", "which a filter may not"],
        then=no_file("hacked.txt"),
    ),
    Case(
        "study_name_escapes_project",
        edit_config(lambda c: c["studies"].update({"../../../x": c["studies"]["mefc"]})),
        ["studies: '../../../x' cannot be used as a name"],
    ),
    Case(
        "dataset_name_into_results",
        edit_config(lambda c: c["datasets"].update({"../../results/leak": c["datasets"]["jinan_mefc"]})),
        ["datasets: '../../results/leak' cannot be used"],
    ),
    Case(
        "table_name_with_slash",
        study("mefc", lambda s: s["tables"].update({"a/b": s["tables"]["diseases"]})),
        ["studies.mefc.tables: 'a/b' cannot be used as a name"],
    ),
    Case(
        "equation_name_with_dots",
        study("mefc", lambda s: s["models"]["equations"].update({"..": s["models"]["equations"]["model3"]})),
        ["studies.mefc.models.equations: '..' cannot be used"],
    ),
    # -- no silent wrong output -----------------------------------------------------------------
    Case(
        "real_file_absent",
        edit_config(
            lambda c: c["datasets"]["jinan_mefc"].update(synthetic=False, path="data/raw/our_jinan_survey.sav")
        ),
        ["datasets.jinan_mefc.path: data/raw/our_jinan_survey.sav does not exist", "synthetic: true"],
    ),
    Case(
        "synthetic_file_read_as_real",
        edit_config(lambda c: c["datasets"]["jinan_mefc"].update(synthetic=False)),
        ["jinan_mefc_synthetic.sav: this file was generated by the pipeline", "synthetic: false"],
    ),
    Case(
        "impossible_ages",
        edit_sav(MEFC_SAV, set_rows("a2", slice(0, 2), 999.0)),
        ["age (column a2): 2 values not >= 0 and <= 120 (e.g. 999)", "invalid: missing"],
    ),
    # A user's own file (not synthetic) with two impossible ages, which the codebook counts as missing.
    Case(
        "impossible_ages_counted",
        lambda w: (
            edit_sav(
                MEFC_SAV,
                set_rows("a2", slice(0, 2), -9.0),
                to="data/raw/jinan_survey.sav",
                label="Jinan MEFC survey 2020",
            )(w),
            edit_config(
                lambda c: c["datasets"]["jinan_mefc"].update(synthetic=False, path="data/raw/jinan_survey.sav")
            )(w),
            edit_text(
                "data/codebooks/jinan_mefc.yaml",
                "range: {min: 0, max: 120}",
                "range: {min: 0, max: 120}, invalid: missing",
            )(w),
        ),
        [],
        status=0,
        then=flow_counts_outside_range,
    ),
    Case(
        "duplicated_questionnaires",
        edit_sav(MEFC_SAV, lambda df: pd.concat([df, df.head(40)], ignore_index=True)),
        ["respondent_id (column id) is declared unique, but 40 values repeat on 80 rows"],
    ),
    Case(
        "negative_amounts",
        edit_sav(CMDS_SAV, lambda df: df.assign(q309=df["q309"].where(df["q309"] > 5e5, -50.0))),
        ["reimbursement_amount (column q309)", "not >= 0", "(e.g. -50)"],
    ),
    Case(
        "amount_above_cost",
        edit_sav(CMDS_SAV, lambda df: df.assign(q309=df["q309"].where(df["q309"] > 5e5, df["q307"] * 2))),
        ["derived values outside", "reimbursement_ratio", "not >= 0 and <= 1"],
    ),
    Case(
        "zero_weights", edit_sav(CMDS_SAV, set_rows("wt", slice(0, 10), 0.0)), ["weight (column wt): 10 values not > 0"]
    ),
    Case(
        "effect_table_names_no_model",
        study("mefc", lambda s: s["effect_tables"]["odds_ratios"]["models"].update(model4="Model 4")),
        ["studies.mefc.effect_tables.odds_ratios.models: 'model4' is not a model", "model3"],
    ),
    Case(
        "effect_table_names_no_sample",
        study("benefit", lambda s: s["effect_tables"]["table4"].update(samples=["ncms", "urbn"])),
        ["effect_tables.table4.samples: 'urbn'", "closest: urban"],
    ),
    Case(
        "table_level_not_a_level",
        study("benefit", lambda s: s["tables"]["table1"]["rows"][13]["levels"].update(Female="Female")),
        ["studies.benefit.tables.table1.rows[13] 'migration_scope'", "'Female' is not a level"],
    ),
    Case(
        "figure_indicator_unknown_variable",
        study(
            "benefit",
            lambda s: s["figures"]["figure2"].update(indicator="no_reimbursment_reason == 'go_back_hometown'"),
        ),
        ["studies.benefit.figures.figure2", "no_reimbursment_reason", "closest: no_reimbursement_reason"],
    ),
    Case(
        # Model 1, not Model 3: the synthetic MEFC generator solves Model 3 and would stop first.
        "covariate_absent",
        study("mefc", lambda s: s["models"]["equations"]["model3"]["covariates"].append("incme")),
        ["studies.mefc.models.equations.model3", "incme: used by", "; closest: ", "income_quartile"],
    ),
    Case(
        "two_part_unknown_equation",
        study("benefit", lambda s: s["models"]["two_part"].update(second="amout")),
        ["studies.benefit.models.two_part.second: 'amout' is not an equation", "closest: amount"],
    ),
    Case(
        "melogit_clustered",
        study("inequality", lambda s: s["models"].update(vce="cluster", cluster="city")),
        ["studies.inequality.models.equations.outpatient_city: kind melogit supports vce oim"],
    ),
    Case(
        "separated_term",
        add_mefc_sample("separated", "not (cancer == False and medical_return)", ["separated"]),
        [],
        status=0,
        then=separated_term_is_not_estimable,
    ),
    Case(
        # The inequality study: the synthetic CMDS generator solves the benefit models, and refuses a
        # covariate it has no published effect for before any fit could name the collinearity.
        "collinear_covariate",
        study(
            "inequality",
            lambda s: s["models"]["covariates"].insert(s["models"]["covariates"].index("age") + 1, "birth_year"),
        ),
        ["studies.inequality.models.equations.", "age and birth_year are collinear", "Remove one of them"],
    ),
    Case(
        "subsample_too_small",
        study("mefc", lambda s: s["models"].update(samples={"total": None, "oldest": "age >= 85"})),
        ["(subsample oldest, n = ", "rows for", "parameters", "too small"],
    ),
    # -- clear errors ------------------------------------------------------------------------
    Case(
        "config_yaml_syntax",
        edit_text("config.yaml", "  jinan_mefc:\n", "  jinan_mefc\n"),
        ["config.yaml: line", "column", "not valid YAML"],
    ),
    Case(
        "codebook_yaml_syntax",
        edit_text("data/codebooks/jinan_mefc.yaml", "variables:\n", "variables\n  - x: [\n"),
        ["data/codebooks/jinan_mefc.yaml: line", "not valid YAML"],
    ),
    Case(
        "no_equations",
        study("mefc", lambda s: s["models"].update(equations={})),
        ["studies.mefc.models.equations: no equations"],
    ),
    Case(
        "table_row_typo",
        study("mefc", lambda s: s["tables"]["diseases"]["rows"][0].update(term="hypertention")),
        ["studies.mefc.tables.diseases.rows[0] 'hypertention'", "closest: hypertension"],
    ),
    Case(
        "figure_term_typo",
        study(
            "medical_return", lambda s: s["figures"]["figure2"].update(terms=["medical_insurance", "settle_intension"])
        ),
        ["figures.figure2.terms: 'settle_intension'", "closest: settle_intention"],
    ),
    Case("truncated_release", truncate(MEFC_SAV), ["jinan_mefc_synthetic.sav", "truncated"]),
    Case(
        "text_in_numeric_variable",
        edit_sav(MEFC_SAV, set_rows("a2", slice(0, 3), "65 years")),
        ["age (column a2) is declared numeric", "not numbers (e.g. '65 years')"],
    ),
    Case(
        "all_missing_variable_in_model",
        lambda w: (
            edit_text(
                "data/codebooks/jinan_mefc.yaml",
                "  age: {",
                "  age_unknown: {source: a2, type: numeric, range: {above: 1000}, invalid: missing}\n  age: {",
            )(w),
            study("mefc", lambda s: s["models"]["equations"]["model1"]["covariates"].append("age_unknown"))(w),
        ),
        ["studies.mefc.models.equations.model1", "age_unknown missing for all 627 rows"],
    ),
    Case(
        "fractional_identifier",
        edit_sav(MEFC_SAV, lambda df: df.assign(id=df["id"] + 0.5)),
        ["respondent_id (column id) is an identifier, but 670 values are fractional (e.g. 1.5"],
    ),
    Case(
        "command_line_number_override",
        lambda w: None,
        ["seed: 'abc' is not of type 'integer'", "config.yaml with --config overrides"],
        args=["--config", 'datasets={"jinan_mefc": {"generator": {"seed": "abc"}}}'],
    ),
    Case(
        "codebook_key_typo",
        edit_text("data/codebooks/jinan_mefc.yaml", "range: {min: 0, max: 120}", "rnage: {min: 0, max: 120}"),
        ["variables.age: unknown keys ['rnage']"],
    ),
    Case(
        "figure_level_not_a_level",
        study("benefit", lambda s: s["figures"]["figure2"]["levels"].update(across_countries="Across countries")),
        ["figures.figure2.levels: 'across_countries' is not a level"],
    ),
    Case(
        "decomposition_without_effects",
        study(
            "inequality",
            lambda s: s["concentration"]["outcomes"]["outpatient_2w"].update(decomposition="outpatient_city"),
        ),
        ["concentration.outcomes.outpatient_2w.decomposition: equation 'outpatient_city' reports no marginal"],
    ),
    Case(
        "forest_without_odds_ratios",
        study("medical_return", lambda s: s["models"]["equations"]["medical_return"].update(report=["coef"])),
        ["figures.figure2.model: equation 'medical_return' reports no odds"],
    ),
    Case(
        "glm_without_family",
        study("benefit", lambda s: s["models"]["equations"]["ratio"].pop("family")),
        ["models.equations.ratio: kind glm needs `family` and `link`"],
    ),
    Case(
        "group_on_a_logit",
        study("mefc", lambda s: s["models"]["equations"]["model1"].update(group="district")),
        ["equations.model1: `group`/`nagq` belong to kind melogit"],
    ),
    Case(
        "undeclared_code",
        edit_sav(MEFC_SAV, set_rows("a1", slice(0, 3), 7.0)),
        ["sex (column a1): code 7 x 3", "undeclared_codes: missing"],
    ),
    # -- real releases: what went wrong when a real release was tried (issue 15) -------------------
    Case(
        "renamed_dataset_read_as_real_file",
        renamed_real_jinan,
        [],
        status=0,
        then=same_estimates_and_provenance,
    ),
    Case(
        "two_waves_pooled",
        pooled_jinan_waves,
        [],
        status=0,
        then=counted_per_wave,
        args=[
            "results/mefc/flow.csv",
            "results/mefc/fits/model3_estimates.csv",
            "results/data/jinan_2021_codebook.csv",
        ],
    ),
    Case(
        "labels_contradict_the_codebook",
        reversed_scope_labels,
        [
            "variables.migration_range (column a10): code 1: the file says 'trans_province', the codebook "
            "'trans_county'",
            "code 3: the file says 'trans_county'",
            "labels: ignore",
        ],
    ),  # fmt: skip
    Case(
        "codebook_lacks_what_derivations_need",
        lambda w: (
            edit_text(
                "data/codebooks/cmds2014.yaml",
                "  household_size: {source: q104, type: numeric, range: {min: 1, max: 30}}\n",
                "",
            )(w),
            edit_text("data/codebooks/cmds2014.yaml", "  reimb_none: {compute:", "  reimb_nothing: {compute:")(w),
        ),
        [
            "data/codebooks/cmds2014.yaml (datasets.cmds2014.codebook) does not provide variables the studies use",
            "household_size: used by studies.benefit.quantile_groups.income_quintile (via income_per_capita)",
            "reimb_none: used by studies.benefit.sample[4] 'reimbursement_reported' (via reimbursed)",
            "migrant-health codebook draft data/raw/cmds2014_synthetic.sav",
        ],
    ),
    Case(
        "codebook_names_an_unknown_survey",
        edit_text("data/codebooks/jinan_mefc.yaml", "survey: jinan_mefc", "survey: jinan"),
        ["survey: 'jinan' is not a known survey; known: cmds, jinan_mefc; closest: jinan_mefc"],
    ),
    Case(
        "pooled_datasets_of_one_wave",
        edit_config(
            lambda c: (
                c["datasets"].update(
                    jinan_copy={**c["datasets"]["jinan_mefc"], "path": "data/raw/jinan_copy_synthetic.sav"}
                ),
                c["studies"]["mefc"].update(dataset=["jinan_mefc", "jinan_copy"]),
            )
        ),
        ["studies.mefc.dataset: jinan_mefc and jinan_copy are both wave 2020"],
    ),
    Case(
        "unknown_study_key",
        study("mefc", lambda s: s.update(sampel=[])),
        ["studies.mefc: Additional properties are not allowed ('sampel' was unexpected)"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_named_not_a_traceback(case, finished_project, tmp_path_factory):
    workdir = copy_project(finished_project, tmp_path_factory.mktemp("case"))
    case.change(workdir)
    done = run_forked(workdir, *case.args)
    message = done.stderr + done.stdout
    assert done.returncode == case.status, message[-3000:]
    for fragment in case.says:
        assert fragment in message, f"{fragment!r} not in:\n{message[-3000:]}"
    assert "Traceback (most recent call last)" not in message
    if case.then:
        case.then(workdir)


def test_the_matrix_covers_at_least_forty_cases():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
