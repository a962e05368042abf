"""The report a researcher sends, the logs they read, Snakemake's own report, and the files a
replication package needs (LICENSE, CITATION.cff, CHANGELOG.md)."""

import hashlib
import re
import subprocess
import sys
from html.parser import HTMLParser

import pandas as pd
import pytest
import yaml
from workflow_helpers import ROOT

from migrant_health.report import html


class _Page(HTMLParser):
    """Ids, links, and text of the report."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.text, self.tags = set(), [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])

    def handle_data(self, data):
        self.text.append(data)


def test_comparison_summary_counts_agreement_and_shows_the_worst_first():
    cmp = pd.DataFrame(
        {
            "source": ["s1", "s2", "s3", "s4"],
            "model": ["m", "m", "m", ""],
            "column": [None, None, None, "total"],
            "term": ["a", "b", "c", "n"],
            "level": ["", "x", "", ""],
            "estimand": ["ame", "ame", "ame", "count"],
            "published": [0.1, 0.2, 0.3, 10],
            "published_se": [0.01, 0.01, 0.01, None],
            "published_conf_low": [None] * 4,
            "published_conf_high": [None] * 4,
            "estimate": [0.1, 0.35, 0.29, 10],
            "std_error": [0.01, 0.02, 0.01, None],
            "conf_low": [None] * 4,
            "conf_high": [None] * 4,
            "z": [0.0, 7.5, -1.0, None],
            "agrees": [True, False, True, None],
            "rule": ["r1", "r1", "r1", None],
            "truth": [None] * 4,
        }
    )
    view = html.comparison_view(cmp)
    assert (view.judged, view.agreeing, view.total) == (3, 2, 4)
    assert view.rules == [("r1", 3, 2)]
    assert [r["z"] for r in view.worst] == ["7.5", "-1", "0"] and view.worst[0]["Agrees"] == "NO"
    assert "Truth" not in view.columns and view.rows[3]["Agrees"] == "not judged"


@pytest.fixture(scope="module")
def report(finished_project):
    text = (finished_project / "results" / "report.html").read_text()
    page = _Page()
    page.feed(text)
    return text, page


@pytest.mark.slow
def test_report_has_contents_anchors_titles_and_notes(report, finished_project):
    text, page = report
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media print" in text and "@media (max-width:900px)" in text
    assert set(page.links) <= page.ids and len(page.links) > 40  # every contents link lands
    for study in ("benefit", "medical_return", "inequality", "mefc"):
        assert study in page.ids and f"{study}-comparison" in page.ids and f"{study}-flow" in page.ids
        for path in (finished_project / "results" / study / "tables").glob("*.json"):
            doc = html.Document.read(path)
            assert f"{study}-{path.stem}" in page.ids and doc.title in text  # under its title ...
            assert all(note in html_unescape(text) for note in doc.notes)  # ... with its footnotes
    assert ">table1<" not in text and ">two_part<" not in text  # no file names as headings
    assert text.count("<details>") == 4 and "published numbers compared by a stated rule" in text


def html_unescape(text: str) -> str:
    import html as std

    return std.unescape(text)


@pytest.mark.slow
def test_report_provenance_names_code_config_data_and_versions(report, finished_project):
    text, _ = report
    config = hashlib.sha256((finished_project / "config.yaml").read_bytes()).hexdigest()
    raw = finished_project / "data" / "raw" / "jinan_mefc_synthetic.sav"
    assert f"config.yaml, sha256 {config}" in text
    assert f"sha256 {hashlib.sha256(raw.read_bytes()).hexdigest()}, 670 rows" in text
    assert re.search(r"<dt>Code</dt><dd>(git [0-9a-f]{7}|git archive|unknown)", text)
    for package in ("Python", "statsmodels", "pandas", "python-docx", "snakemake"):
        assert f"<dt>{package}</dt>" in text
    assert not re.search(r"20\d\d-\d\d-\d\d[T ]\d\d:\d\d", text)  # no timestamps


@pytest.mark.slow
def test_logs_say_what_each_step_read_wrote_and_fitted(finished_project):
    logs = finished_project / "logs"
    assert not [p.name for p in logs.glob("*.log") if p.read_text().strip() == "ok"]
    fit = (logs / "fit_models_inequality_outpatient_city.log").read_text()
    assert "read data/analytic/inequality.parquet: 94,216 rows" in fit
    assert re.search(r"n = 94,216, \d+ iterations, converged; log likelihood -\d", fit)
    assert "Newton step 1: deviance" in fit and "groups 348" in fit
    probit = (logs / "fit_models_benefit_two_part.log").read_text()
    assert "pseudo-R2" in probit and "warning: participation: insurance_programme omitted" in probit
    table = (logs / "effect_table_benefit_table3.log").read_text()
    assert re.search(r"wrote results/benefit/tables/table3.csv: \d+ rows", table)


@pytest.mark.slow
def test_snakemakes_own_report_shows_every_table_and_figure_by_study(finished_project, tmp_path):
    # The zip outside the shared project, and no lock taken in it (other tests copy it meanwhile).
    out = tmp_path / "snakemake-report.zip"
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--nolock", "--report", str(out)],
        cwd=finished_project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json
    import zipfile

    with zipfile.ZipFile(out) as z:
        # Snakemake's page (the zip also holds our own report.html as a result, under data/).
        page = z.read(next(n for n in z.namelist() if n.endswith("/report.html") and n.count("/") == 1)).decode()
    categories = json.loads(re.search(r"var categories = (\{.*?\});\n", page).group(1))
    for study in ("benefit", "medical_return", "inequality", "mefc"):
        base = finished_project / "results" / study
        shown = categories[study]
        assert sorted(shown["Tables"]) == [
            f"results/{study}/tables/{p.stem}.csv" for p in sorted((base / "tables").glob("*.json"))
        ]
        assert sorted(shown["Figures"]) == [
            f"results/{study}/figures/{p.stem}.png" for p in sorted((base / "figures").glob("*.json"))
        ]
        assert set(shown["Documents"]) == {f"results/{study}/tables.docx", f"results/{study}/figures.docx"}
    assert "Report" in categories


def test_license_citation_and_changelog():
    """LICENSE matches pyproject's licence; CITATION.cff follows the Citation File Format 1.2.0
    schema (its required keys, its top-level keys, date and licence forms, persons or entities
    as authors); CHANGELOG.md keeps an Unreleased section."""
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    allowed = {
        "abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi", "identifiers",
        "keywords", "license", "license-url", "message", "preferred-citation", "references", "repository",
        "repository-artifact", "repository-code", "title", "type", "url", "version",
    }  # fmt: skip
    assert {"authors", "cff-version", "message", "title"} <= set(cff) <= allowed
    assert cff["cff-version"] == "1.2.0" and cff["type"] in ("software", "dataset") and cff["license"] == "MIT"
    assert re.fullmatch(r"\d{4}-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01])", str(cff["date-released"]))
    for author in cff["authors"]:
        assert "name" in author or "family-names" in author, author
    version = re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert str(cff["version"]) == version
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
