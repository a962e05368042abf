"""Writing a display table as CSV, Markdown, LaTeX, Word and JSON, byte-identically on rerun.

A display table (`Display`) is its cells (a frame of text, labels in the first column) and how
they are printed: an optional row of spanning headers above the column headers (a model's
name over its estimate and SE), the printed column headers, and how many of the last rows are
model statistics (N, log likelihood, ...: a rule above them, as esttab prints them).

Every format is written from the same Display, title and notes:
  stem.csv    the cells, with the frame's column names (what other programs read)
  stem.md     title, cells, notes
  stem.tex    a LaTeX float (tables/latex.py): booktabs, threeparttable notes, siunitx columns
  stem.docx   a Word table (tables/word.py): three rules, bold header, widths from content
  stem.json   everything above (title, notes, headers, spans, rows): what the study's
              combined documents and the HTML report are made from
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..outputs import output_notes
from . import latex, word

# A table's files, by suffix (outputs.TABLE_FORMATS lists the same, for the rules).
SUFFIXES = (".csv", ".md", ".tex", ".docx", ".json")


@dataclass
class Display:
    """A table as printed (see the module's docstring)."""

    frame: pd.DataFrame
    spans: list = field(default_factory=list)  # [(label, columns spanned)], covering every column; [] for none
    headers: list | None = None  # printed column headers (default: the frame's column names)
    statistics: int = 0  # the last rows are model statistics

    def __post_init__(self):
        self.frame = self.frame.fillna("").astype(str)
        self.headers = [str(c) for c in (self.headers or self.frame.columns)]
        self.spans = [(str(label), int(n)) for label, n in self.spans]
        if self.spans and sum(n for _, n in self.spans) != self.frame.shape[1]:
            raise ValueError(f"spans {self.spans} do not cover the {self.frame.shape[1]} columns")

    @property
    def rows(self) -> list[list[str]]:
        return [list(r) for r in self.frame.itertuples(index=False)]

    def to_dict(self) -> dict:
        return {
            "columns": [str(c) for c in self.frame.columns],
            "headers": self.headers,
            "spans": [list(s) for s in self.spans],
            "statistics": self.statistics,
            "rows": self.rows,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Display:
        frame = pd.DataFrame(data["rows"], columns=data["columns"], dtype=str)
        return cls(frame, [tuple(s) for s in data["spans"]], data["headers"], data["statistics"])


@dataclass
class Document:
    """A titled table with its notes: what a writer renders."""

    display: Display
    title: str
    notes: list
    name: str = ""  # <study>-<table>: the LaTeX label tab:<name>

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "notes": list(self.notes), **self.display.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Document:
        return cls(Display.from_dict(data), data["title"], list(data["notes"]), data.get("name", ""))

    @classmethod
    def read(cls, path) -> Document:
        return cls.from_dict(json.loads(Path(path).read_text()))


def write_table(table, stem, title: str, note="", synthetic: bool = False, provenance=()) -> list[Path]:
    """stem.csv, .md, .tex, .docx and .json; returns the paths written. `table`: a Display or a
    plain frame; `note`: the table's own note (text, or a list of lines). The notes printed are
    outputs.output_notes(): the table's own, then the lines every output carries (the synthetic-data
    note, and with `provenance` a line naming each real data file); that is the one place where
    such lines join."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    display = table if isinstance(table, Display) else Display(table)
    doc = Document(display, title, output_notes(note, synthetic, provenance), _name(stem))
    paths = [stem.with_suffix(s) for s in SUFFIXES]
    display.frame.to_csv(paths[0], index=False, lineterminator="\n")
    paths[1].write_text(to_markdown(doc))
    paths[2].write_text(latex.table(doc))
    paths[3].write_bytes(word.document([doc]))
    paths[4].write_text(json.dumps(doc.to_dict(), ensure_ascii=False, indent=1) + "\n")
    return paths


def _name(stem: Path) -> str:
    """<study>-<table> for results/<study>/tables/<table>, else the stem's name."""
    parts = stem.parts
    return f"{parts[-3]}-{stem.name}" if len(parts) >= 3 and parts[-2] == "tables" else stem.name


def to_markdown(doc: Document) -> str:
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    display = doc.display
    headers = list(display.frame.columns)  # unique and whole (Markdown has no spanning cells)
    body = [f"**{doc.title}**", "", line(headers), line(["---"] * len(headers))]
    body += [line(r) for r in display.rows]
    return "\n".join(body + [""] + [f"{n}  " for n in doc.notes]) + "\n"
