"""Rule study_documents: a study's tables in one Word and one LaTeX document, its figures with
their captions in one Word document."""

import json
import os
from pathlib import Path

from ..tables import latex, word
from ..tables.render import Document


def study_documents(
    title: str, tables: list, figures: list, tables_docx: str, tables_tex: str, figures_docx: str
) -> None:
    """`tables`: the tables' JSON files in the study's order; `figures`: the figures' caption JSON
    files (each beside its PNG)."""
    docs = [Document.read(path) for path in tables]
    Path(tables_docx).write_bytes(word.document(docs, heading=f"Tables: {title}"))
    folder = Path(tables_tex).parent
    inputs = [Path(os.path.relpath(Path(path).with_suffix(""), folder)).as_posix() for path in tables]
    Path(tables_tex).write_text(latex.document(f"Tables: {title}", inputs))
    captions = [(Path(path).with_suffix(".png"), json.loads(Path(path).read_text())) for path in figures]
    pictures = [(png, caption["title"], caption["notes"]) for png, caption in captions]
    Path(figures_docx).write_bytes(word.figures_document(pictures, heading=f"Figures: {title}"))
