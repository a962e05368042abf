"""Writing a display table as CSV, Markdown, LaTeX and Word, byte-identically on rerun."""

import io
import zipfile
from pathlib import Path

import pandas as pd

from ..outputs import SYNTHETIC_NOTE

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write_table(
    table: pd.DataFrame, stem, title: str, note: str = "", synthetic: bool = False, provenance=()
) -> list[Path]:
    """stem.csv, stem.md, stem.tex and stem.docx; returns the paths written. Under the table: its
    note, then the synthetic-data note or the data files' provenance (file, sha256, rows)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    notes = [n for n in (note, SYNTHETIC_NOTE if synthetic else "", *provenance) if n]
    paths = [stem.with_suffix(s) for s in (".csv", ".md", ".tex", ".docx")]
    table.to_csv(paths[0], index=False, lineterminator="\n")
    paths[1].write_text(to_markdown(table, title, notes))
    paths[2].write_text(to_latex(table, title, notes))
    paths[3].write_bytes(to_docx(table, title, notes))
    return paths


def to_markdown(table: pd.DataFrame, title: str, notes: list[str]) -> str:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    body = [f"**{title}**", "", line(table.columns), line(["---"] * table.shape[1])]
    body += [line(r) for r in table.itertuples(index=False)]
    return "\n".join(body + [""] + [f"{n}  " for n in notes]) + "\n"


def _tex_escape(text) -> str:
    out = str(text).replace("\\", r"\textbackslash{}")
    for plain, tex in [
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("±", r"$\pm$"),
        ("–", "--"),
        ("χ", r"$\chi$"),
    ]:
        out = out.replace(plain, tex)
    return out


def to_latex(table: pd.DataFrame, title: str, notes: list[str]) -> str:
    """A booktabs table; leading spaces of a label become an indent."""
    spec = "l" + "r" * (table.shape[1] - 1)
    rows = []
    for r in table.itertuples(index=False):
        cells = [_tex_escape(c) for c in r]
        if str(r[0]).startswith("  "):
            cells[0] = r"\quad " + _tex_escape(str(r[0]).strip())
        rows.append(" & ".join(cells) + r" \\")
    head = " & ".join(_tex_escape(c) for c in table.columns) + r" \\"
    foot = [rf"\multicolumn{{{table.shape[1]}}}{{l}}{{\footnotesize {_tex_escape(n)}}}\\" for n in notes]
    return (
        "\n".join(
            [
                r"\begin{table}[htbp]",
                r"\centering",
                rf"\caption{{{_tex_escape(title)}}}",
                rf"\begin{{tabular}}{{{spec}}}",
                r"\toprule",
                head,
                r"\midrule",
                *rows,
                r"\bottomrule",
                *foot,
                r"\end{tabular}",
                r"\end{table}",
            ]
        )
        + "\n"
    )


def to_docx(table: pd.DataFrame, title: str, notes: list[str]) -> bytes:
    """A Word table. python-docx stamps zip entries with the clock, so they are reset."""
    import docx

    document = docx.Document()
    document.core_properties.author = "migrant_health pipeline"
    document.add_paragraph().add_run(title).bold = True
    grid = document.add_table(rows=1, cols=table.shape[1])
    for cell, name in zip(grid.rows[0].cells, table.columns):
        cell.text = str(name)
    for r in table.itertuples(index=False):
        for cell, value in zip(grid.add_row().cells, r):
            cell.text = str(value)
    for n in notes:
        document.add_paragraph(n)
    raw = io.BytesIO()
    document.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Same entries and contents, with fixed timestamps, so reruns are byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
