"""The documents as a reader opens them: LaTeX tables compiled with pdflatex, Word documents
converted with LibreOffice (headless), pages counted (pdfinfo), label words looked for whole in
the text of the PDF (pdftotext): a word broken across lines inside a cell is not found.

Used by tests/test_documents.py and bench/check_documents.py (`make check-documents`). Each tool
is a Debian package (texlive-latex-base, -latex-recommended, -latex-extra, texlive-science;
libreoffice-writer; poppler-utils); `missing()` names the absent ones, so that a test is skipped
with its reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .latex import PREAMBLE

TOOLS = {"pdflatex": "texlive-latex-extra", "soffice": "libreoffice-writer", "pdfinfo": "poppler-utils"}


def missing(*tools: str) -> list[str]:
    """'tool (Debian package)' for each tool not on PATH."""
    return [f"{t} ({TOOLS.get(t, t)})" for t in tools if shutil.which(t) is None]


@dataclass
class LatexResult:
    returncode: int
    pages: int
    overfull: list = field(default_factory=list)  # "Overfull \hbox (12pt too wide) ..." lines
    too_large: list = field(default_factory=list)  # floats too large for the page, overfull vboxes
    errors: list = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and not (self.overfull or self.too_large or self.errors)


def pdflatex(tex: Path, timeout: float = 120, runs: int = 3) -> LatexResult:
    """Compile `tex` in its folder (nonstop, halting on the first error), again while LaTeX asks
    for a rerun (a longtable settles its column widths, a label its page, on a later run, as
    latexmk would), at most `runs` times; read the last log."""
    tex = Path(tex)
    for _ in range(runs):
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
            cwd=tex.parent,
            capture_output=True,
            timeout=timeout,
        )
        log = tex.with_suffix(".log").read_text(errors="replace")
        if done.returncode != 0 or "Rerun" not in log:
            break
    lines = log.splitlines()
    pdf = tex.with_suffix(".pdf")
    return LatexResult(
        done.returncode,
        pdf_pages(pdf) if pdf.exists() else 0,
        [line for line in lines if line.startswith("Overfull \\hbox")],
        [line for line in lines if "Float too large" in line or line.startswith("Overfull \\vbox")],
        [line for line in lines if line.startswith("!")],
    )


def compile_table(table_tex: Path, workdir: Path) -> LatexResult:
    """One table's .tex in a minimal A4 article with the preamble it asks for."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(table_tex, workdir / "table.tex")
    (workdir / "main.tex").write_text(
        "\\documentclass[a4paper]{article}\n" + PREAMBLE + "\\begin{document}\n\\input{table}\n\\end{document}\n"
    )
    return pdflatex(workdir / "main.tex", runs=2)


def pdf_pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def docx_to_pdf(documents: list[Path], outdir: Path, timeout: float = 600) -> list[Path]:
    """Each .docx converted to PDF by LibreOffice (headless, its own profile so that a running
    LibreOffice does not block it); returns the PDFs in the same order."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(outdir),
                *[str(d) for d in documents],
            ],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    return [outdir / f"{Path(d).stem}.pdf" for d in documents]


def pdf_words(pdf: Path) -> set[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return {_bare(token) for token in text.split()}


def _bare(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word)


def broken_words(pdf: Path, labels: list[str]) -> list[str]:
    """Words of `labels` (3 letters or more) that the PDF's text does not hold whole: broken
    across lines inside their cell (or missing)."""
    present = pdf_words(pdf)
    present |= {part for word in present for part in word.split("-")}
    # A line may break after a hyphen ("1-" / "sided"): that is not inside a word.
    wanted = {_bare(part) for label in labels for w in str(label).split() for part in w.split("-")}
    return sorted(w for w in wanted if len(w) >= 3 and w not in present)
