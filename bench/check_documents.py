"""The tables as a reader opens them, from a finished run (`make` first): every table's LaTeX
compiled alone and each study's tables.tex with pdflatex, every Word table and each study's
tables.docx converted with LibreOffice; prints pages, pdflatex's overfull boxes and floats too
large, and label words broken inside a word. PDFs go to build/documents/.
Targets (issue 16): every table compiles and fits the A4 article's text block; benefit Table 3
in Word fits on at most 2 pages; no label breaks inside a word.
Usage: .venv/bin/python bench/check_documents.py   (make check-documents)
"""

import shutil
import sys
import time
from pathlib import Path

from migrant_health.tables import check
from migrant_health.tables.render import Document

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "documents"


def main() -> int:
    absent = check.missing("pdflatex", "soffice", "pdfinfo", "pdftotext")
    if absent:
        print("missing: " + ", ".join(absent) + "; apt-get install them (see .ci/run)")
        return 1
    failures = 0
    shutil.rmtree(OUT, ignore_errors=True)
    print("| file | pdflatex | pages | overfull / too large | Word pages (LibreOffice) | broken words |")
    print("|---|---|---|---|---|---|")
    studies = sorted(p for p in (ROOT / "results").iterdir() if (p / "tables.tex").exists())
    for study in studies:
        tables = sorted((study / "tables").glob("*.json"))
        started = time.perf_counter()
        documents = [t.with_suffix(".docx") for t in tables] + [study / "tables.docx"]
        pdfs = check.docx_to_pdf(documents, OUT / study.name)
        seconds = time.perf_counter() - started
        for table, pdf in zip(tables, pdfs):
            result = check.compile_table(table.with_suffix(".tex"), OUT / study.name / f"latex_{table.stem}")
            doc = Document.read(table)
            broken = check.broken_words(pdf, [r[0] for r in doc.display.rows] + doc.display.headers)
            bad = result.overfull + result.too_large + result.errors
            failures += (not result.clean) + bool(broken)
            print(
                f"| {study.name}/tables/{table.stem} | {'ok' if result.returncode == 0 else 'FAILED'} "
                f"| {result.pages} "
                f"| {'; '.join(bad) or 'none'} | {check.pdf_pages(pdf)} | {', '.join(broken) or 'none'} |"
            )
        whole = OUT / study.name / "tables_tex"
        shutil.copytree(study / "tables", whole / "tables")
        shutil.copy(study / "tables.tex", whole / "tables.tex")
        result = check.pdflatex(whole / "tables.tex")
        failures += not result.clean
        bad = result.overfull + result.too_large + result.errors
        print(
            f"| {study.name}/tables.tex + tables.docx | {'ok' if result.returncode == 0 else 'FAILED'} "
            f"| {result.pages} "
            f"| {'; '.join(bad) or 'none'} | {check.pdf_pages(pdfs[-1])} | (LibreOffice: {seconds:.0f} s) |"
        )
    print(f"\n{failures} problem(s); PDFs in {OUT.relative_to(ROOT)}/")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
