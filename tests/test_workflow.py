"""The whole workflow: byte-identical reruns, aggregates only in results/, clean errors."""

import pandas as pd
import pytest
from workflow_helpers import ROOT, copy_project, prepare, result_files, run_forked, run_workflow

from migrant_health.provenance import file_sha256

pytestmark = pytest.mark.slow


# The second run cuts the bootstrap's 1,000 replications into chunks of 300 (300, 300, 300, 100)
# instead of 250, and the multiverse's 32 variants into chunks of 5 instead of 8: nothing else of the
# config differs. Every result is then the same file to the byte but the chunks themselves, which
# proves both that a run is reproducible and that results do not depend on how the jobs are cut.
RECHUNKED = (
    ("bootstrap: {reps: 1000, chunk: 250, seed: 20140501", "bootstrap: {reps: 1000, chunk: 300, seed: 20140501"),
    ("      chunk: 8\n", "      chunk: 5\n"),
)


def is_chunk(name: str) -> bool:
    """A bootstrap chunk's or a multiverse chunk's replicates (cut differently in the second run)."""
    return "_chunk" in name or "/multiverse/chunk" in name


@pytest.fixture(scope="module")
def two_runs(finished_project, tmp_path_factory):
    """Two independent runs (the first is the session's finished project), the second with the
    bootstrap and the multiverse cut into other chunks (RECHUNKED)."""
    config = (ROOT / "config.yaml").read_text()
    for old, new in RECHUNKED:
        assert config.count(old) == 1, old
        config = config.replace(old, new)
    workdir = prepare(tmp_path_factory.mktemp("second"), config)
    done = run_workflow(workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    return [finished_project, workdir]


def test_a_second_run_gives_byte_identical_results_whatever_the_chunks(two_runs):
    first, second = (result_files(w) for w in two_runs)
    assert {n for n in first if not is_chunk(n)} == {n for n in second if not is_chunk(n)} and len(first) >= 7
    # The report's provenance names the config's sha256, the one difference a config makes there.
    report = "results/report.html"
    assert second[report] == first[report].replace(*(file_sha256(w / "config.yaml").encode() for w in two_runs))
    differing = [name for name in first if not is_chunk(name) and name != report and first[name] != second[name]]
    assert not differing
    # The chunks were cut as configured: 4 bootstrap chunks (the last of 100) and 7 multiverse ones.
    assert sorted(n for n in second if "bootstrap/two_part_chunk" in n) == [
        f"results/benefit/bootstrap/two_part_chunk{k}.csv" for k in range(4)
    ]
    assert (
        first["results/benefit/bootstrap/two_part_chunk3.csv"]
        != second["results/benefit/bootstrap/two_part_chunk3.csv"]
    )
    assert len([n for n in first if "/multiverse/chunk" in n]) == 4
    assert len([n for n in second if "/multiverse/chunk" in n]) == 7
    estimates = pd.read_csv(two_runs[1] / "results/benefit/estimates.csv")
    bca = estimates[(estimates["model"] == "two_part") & (estimates["estimand"] == "ame bootstrap bca")]
    assert len(bca) > 60 and bca["conf_low"].notna().all() and (bca["conf_low"] < bca["conf_high"]).all()


def test_results_hold_aggregates_only(two_runs):
    from migrant_health.stats.inference import TIDY_COLUMNS

    for name in result_files(two_runs[0]):
        if name.endswith(".csv"):
            table = pd.read_csv(two_runs[0] / name)
            assert "respondent_id" not in table.columns, name
            # Fewer rows than any study's sample, except tidy estimates (one row per number: with a
            # bootstrap's percentile and BCa rows the benefit study's exceed 1,000), whose columns are
            # the tidy contract's and nothing a respondent could be identified by.
            assert len(table) < 1000 or list(table.columns) == TIDY_COLUMNS, name


def test_microdata_are_git_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert {"data/raw/", "data/interim/", "data/analytic/", "results/"} <= set(ignored)


def test_flow_adds_up_to_the_analytic_sample(two_runs):
    flow = pd.read_csv(two_runs[0] / "results/benefit/flow.csv")
    assert flow["n_before"].iloc[0] - flow["n_dropped"].sum() == flow["n_after"].iloc[-1] == 1165
    assert (flow["n_before"] - flow["n_dropped"] == flow["n_after"]).all()


def test_medical_return_study_is_regenerated_and_compared(two_runs):
    base = two_runs[0] / "results/medical_return"
    for name in ("tables/characteristics.docx", "tables/odds_ratios.tex", "figures/figure1.pdf", "figures/figure2.png"):
        assert (base / name).stat().st_size > 0, name
    cmp = pd.read_csv(base / "comparison.csv").set_index(["term", "estimand"])
    assert cmp.loc[("n", "n"), "estimate"] == 4018
    ncms = cmp.loc[("medical_insurance", "odds_ratio")]
    assert ncms["published"] == 2.44 and ncms["scale"] == "log" and ncms["truth"] > 0
    flow = pd.read_csv(base / "flow.csv")
    assert flow["n_after"].iloc[-1] == 4018 and (flow["n_before"] - flow["n_dropped"] == flow["n_after"]).all()
    assert "medical return" in (two_runs[0] / "results/report.html").read_text().lower()


def test_inequality_study_is_regenerated_and_compared(two_runs):
    base = two_runs[0] / "results/inequality"
    for name in (
        "tables/concentration_indices.docx",
        "tables/decomposition.tex",
        "tables/multilevel.md",
        "figures/concentration_curves.pdf",
        "figures/decomposition.png",
    ):
        assert (base / name).stat().st_size > 0, name
    cmp = pd.read_csv(base / "comparison.csv").set_index(["equation", "estimand"])
    outpatient = cmp.loc[("outpatient_2w", "concentration_index")]
    assert outpatient["published"] == -0.168 and outpatient["truth"] == pytest.approx(-0.168)
    assert abs(outpatient["z"]) <= 3
    multilevel = pd.read_csv(base / "estimates.csv").set_index(["model", "estimand"])
    assert (multilevel.loc[("outpatient_city", "variance"), "estimate"] > 0).all()
    assert multilevel.loc["outpatient_city", "converged"].all()


def test_mefc_study_is_regenerated_from_its_own_dataset(two_runs):
    base = two_runs[0] / "results/mefc"
    for name in (
        "tables/sociodemographics.docx",
        "tables/diseases.tex",
        "tables/social_integration.md",
        "tables/odds_ratios.csv",
        "figures/figure1.pdf",
    ):
        assert (base / name).stat().st_size > 0, name
    assert (two_runs[0] / "data/raw/jinan_mefc_synthetic.sav").exists()
    flow = pd.read_csv(base / "flow.csv")
    assert flow["n_after"].tolist()[:3] == [670, 656, 627]
    cmp = pd.read_csv(base / "comparison.csv")
    tables = cmp[cmp["table"].fillna("").str.startswith("Table")]
    assert len(tables) > 100 and tables["agrees"].all()


def test_synthetic_truth_is_documented_beside_the_published_numbers(two_runs):
    cmds = (two_runs[0] / "results/data/cmds2014_synthetic_page.md").read_text()
    assert "## Benefit study (seed 001): Tables 3 and 4" in cmds and "| concentration_index |" in cmds
    mefc = (two_runs[0] / "results/data/jinan_mefc_synthetic_page.md").read_text()
    assert "## Generator notes" in mefc and "| model3 |" in mefc


def test_rerun_has_nothing_to_do(two_runs):
    done = run_forked(two_runs[0], "--dry-run", "all")
    assert done.returncode == 0 and "Nothing to be done" in done.stdout + done.stderr


def test_bad_filter_stops_with_its_message_not_a_traceback(finished_project, tmp_path_factory):
    """Through the job pool (two cores), as `make` runs it: the worker's message, no traceback."""
    workdir = copy_project(finished_project, tmp_path_factory.mktemp("bad_filter"))
    # Every variable exists (else the run stops before any job), but the filter orders text.
    config = (ROOT / "config.yaml").read_text()
    config = config.replace("keep: reimbursed.notna()", "keep: reimbursed.notna() and hospitalisation_place > 1")
    (workdir / "config.yaml").write_text(config)
    done = run_workflow(workdir, quiet=False)
    assert done.returncode != 0
    assert "studies.benefit.sample[4] 'reimbursement_reported'" in done.stderr
    assert "orders text (< <= > >= compare numbers" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr


def test_bad_config_key_stops_before_any_job(tmp_path):
    config = (ROOT / "config.yaml").read_text().replace("undeclared_codes: error", "undeclared_code: error")
    done = run_forked(prepare(tmp_path, config), "all")
    assert done.returncode != 0
    assert "Configuration error: config.yaml: datasets.cmds2014: Additional properties" in done.stderr
    assert not (tmp_path / "data" / "raw").exists()


def planned_rules(workdir, config_text: str) -> set[str]:
    """Rules a dry run would execute with `config_text` overriding config.yaml."""
    override = workdir / "override.yaml"
    override.write_text(config_text)
    done = run_forked(workdir, "all", "--dry-run", "--configfile", str(override))  # --configfile takes several
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout + done.stderr
    table = out.split("Job stats:")[1] if "Job stats:" in out else ""
    return {line.split()[0] for line in table.splitlines()[3:] if line.strip() and not line.startswith("total")}


def test_editing_a_covariate_reruns_only_the_models_and_what_follows(two_runs):
    # The inequality study's: the synthetic survey solves none of its outcomes for that model.
    config = (two_runs[1] / "config.yaml").read_text().replace("        - {factor: ill_2w, reference: false}\n", "", 1)
    rules = planned_rules(two_runs[1], config)
    assert {"fit_models", "gather_estimates", "effect_table", "compare", "report"} <= rules
    assert not rules & {"synthesize", "ingest", "analytic_sample", "descriptive_table", "figure"}


def test_editing_a_model_the_generator_solves_for_regenerates_the_survey(two_runs):
    """The benefit study's outcomes are solved for its models (config.yaml: studies.benefit.models)."""
    config = (
        (two_runs[1] / "config.yaml").read_text().replace("        - {factor: married, reference: false}\n", "", 1)
    )  # the benefit study's
    rules = planned_rules(two_runs[1], config)
    assert {"synthesize", "document_synthetic", "ingest", "fit_models", "report"} <= rules


def test_editing_a_filter_redraws_the_sample_but_not_the_data(two_runs):
    config = (
        (two_runs[1] / "config.yaml")
        .read_text()
        .replace("keep: reimbursed.notna()", "keep: reimbursed.notna() and age >= 16")
    )
    rules = planned_rules(two_runs[1], config)
    assert {"analytic_sample", "fit_models", "descriptive_table", "figure", "report"} <= rules
    assert not rules & {"synthesize", "ingest"}
