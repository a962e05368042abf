"""Word documents of display tables (and of figures with their captions), as a journal's
production editor takes them: A4, 10-point Times New Roman, three-line tables (a rule above
and below the header and below the last row; a thin rule under each spanning header and above
model statistics), bold headers, numbers right-aligned, column widths from their content, long
labels wrapped at spaces (never inside a word), a landscape section for a table too wide for
the portrait page, the header repeated on every page, the notes under the table.

python-docx for the document; its XML for what it has no API for (cell borders, repeated
header rows, rows that do not split). Zip entries carry a fixed time: reruns are byte-identical.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass

import docx
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from . import measure

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT, SIZE, NOTE_SIZE = "Times New Roman", 10.0, 9.0
A4 = (595.3, 841.9)  # points
MARGIN = 72.0  # one inch
CELL_PAD = 2 * 5.4  # Word's default left and right cell margins (0.075 in each)
INDENT = 10.0  # a level of a label's indentation (two leading spaces)
# A column never narrower than its widest word times this: LibreOffice without Times New Roman
# (or its metric twin Liberation Serif) sets the text in a wider face.
WORD_SAFETY = 1.2
# Portrait when the label column still gets this much (or all it needs); else landscape.
LABEL_PORTRAIT = 160.0
RULE, THIN = 12, 4  # border widths, eighths of a point


@dataclass
class Layout:
    widths: list  # points, per column
    landscape: bool


def _indent(label: str) -> int:
    return (len(label) - len(label.lstrip(" "))) // 2


def column_layout(doc, size: float = SIZE, face: str = "times", pad: float = CELL_PAD) -> Layout:
    """Widths from the content: each value column as wide as its widest cell (its header may wrap
    at spaces, never inside a word), spanning headers fitting over their columns, the label
    column as wide as its longest label when the page allows, else wrapped; landscape when the
    portrait page cannot give the labels LABEL_PORTRAIT points."""
    display = doc.display
    rows, headers = display.rows, display.headers
    ncol = len(headers)
    safety = WORD_SAFETY if face == "times" else 1.0
    widths = []
    for j in range(1, ncol):
        # Numbers never wrap: their widths get the same margin as the widest words.
        cells = max((measure.width(r[j], size, face) for r in rows), default=0.0) * safety
        header = measure.longest_word(headers[j], size, face, bold=True) * safety
        widths.append(max(cells, header) + pad)
    column = 0
    for label, n in display.spans:  # a spanning header wraps at spaces over its columns
        if label and column >= 1:
            need = measure.longest_word(label, size, face, bold=True) * safety + pad
            have = sum(widths[column - 1 : column - 1 + n])
            for k in range(column - 1, column - 1 + n):
                widths[k] += max(need - have, 0.0) / n
        column += n
    labels = [r[0] for r in rows] + [headers[0]]
    natural = max(measure.width(lb.strip(), size, face) * 1.04 + INDENT * _indent(lb) for lb in labels) + pad + 2
    smallest = max(measure.longest_word(lb, size, face) * safety + INDENT * _indent(lb) for lb in labels) + pad
    portrait, landscape = A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN
    others = sum(widths)
    room = portrait - others
    if room >= min(natural, LABEL_PORTRAIT):
        return Layout([min(natural, room)] + widths, False)
    return Layout([max(smallest, min(natural, landscape - others))] + widths, True)


def _set(element, tag: str, **attributes):

    child = OxmlElement(tag)
    for key, value in attributes.items():
        child.set(qn(f"w:{key}"), str(value))
    element.append(child)
    return child


def _borders(cell, **sides) -> None:
    """Cell borders, e.g. top=RULE (eighths of a point), after the cell's width and span in its properties."""

    tcPr = cell._tc.get_or_add_tcPr()
    borders = tcPr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        successors = ("w:shd", "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark")
        tcPr.insert_element_before(borders, *successors)
    for side in ("top", "left", "bottom", "right"):  # schema order
        if side in sides:
            existing = borders.find(qn(f"w:{side}"))
            if existing is not None:
                borders.remove(existing)
            _set(borders, f"w:{side}", val="single", sz=sides[side], space=0, color="000000")
    order = {qn(f"w:{s}"): i for i, s in enumerate(("top", "left", "bottom", "right"))}
    for child in sorted(borders, key=lambda c: order.get(c.tag, 9)):
        borders.append(child)


def _row_properties(row, header: bool) -> None:
    trPr = row._tr.get_or_add_trPr()
    _set(trPr, "w:cantSplit")
    if header:
        _set(trPr, "w:tblHeader")


MINUS = re.compile(r"(^|(?<=[\s(\[]))-(?=\.?\d)")


def _write_cell(cell, text: str, align, bold: bool = False, size: float = SIZE) -> None:
    """A cell's text; a hyphen before a number printed as a true minus sign (U+2212)."""

    text = MINUS.sub("\u2212", text)
    paragraph = cell.paragraphs[0]
    level = _indent(text)
    paragraph.alignment = align
    if level:
        paragraph.paragraph_format.left_indent = Pt(INDENT * level)
    run = paragraph.add_run(text.strip())
    run.bold = bold or None
    if size != SIZE:
        run.font.size = Pt(size)


def _setup(document) -> None:

    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(SIZE)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attribute), FONT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(0), 1.0
    document.core_properties.author = "migrant_health pipeline"


def _page(section, landscape: bool) -> None:

    width, height = A4 if not landscape else A4[::-1]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Pt(width), Pt(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Pt(MARGIN))


def _caption(document, text: str, bold_label: bool = True, keep_with_next: bool = True):

    paragraph = document.add_paragraph()
    paragraph.paragraph_format.space_after = Pt(6)
    paragraph.paragraph_format.keep_with_next = keep_with_next
    run = paragraph.add_run(text)
    run.bold = bold_label or None
    return paragraph


def _notes(document, notes: list) -> None:

    for i, note in enumerate(notes):
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(4 if i == 0 else 0)
        paragraph.add_run(note).font.size = Pt(NOTE_SIZE)


def _table(document, doc, layout: Layout) -> None:

    display = doc.display
    ncol = len(display.headers)
    table = document.add_table(rows=0, cols=ncol)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tblPr = table._tbl.tblPr
    layout_element = tblPr.find(qn("w:tblLayout"))
    if layout_element is None:
        layout_element = OxmlElement("w:tblLayout")
        tblPr.insert_element_before(layout_element, "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription")
    layout_element.set(qn("w:type"), "fixed")
    for column, width in zip(table.columns, layout.widths):
        column.width = Pt(width)
    left, centre, right = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    header_rows = []
    if display.spans:
        row = table.add_row()
        _row_properties(row, header=True)
        for cell, width in zip(row.cells, layout.widths):
            cell.width = Pt(width)
        start = 0
        for label, n in display.spans:
            cell = row.cells[start]
            if n > 1:
                cell = cell.merge(row.cells[start + n - 1])
            _write_cell(cell, label, centre if start else left, bold=True)
            if label:
                _borders(cell, bottom=THIN)
            start += n
        header_rows.append(row)
    row = table.add_row()
    _row_properties(row, header=True)
    for j, (cell, width, text) in enumerate(zip(row.cells, layout.widths, display.headers)):
        cell.width = Pt(width)
        _write_cell(cell, text, left if j == 0 else centre, bold=True)
    header_rows.append(row)
    body = []
    for r in display.rows:
        row = table.add_row()
        _row_properties(row, header=False)
        for j, (cell, width, text) in enumerate(zip(row.cells, layout.widths, r)):
            cell.width = Pt(width)
            _write_cell(cell, text, left if j == 0 else right)
        body.append(row)
    for cell in _distinct(header_rows[0].cells):
        _borders(cell, top=RULE)
    for cell in header_rows[-1].cells:
        _borders(cell, bottom=RULE // 2)
    if display.statistics and len(body) > display.statistics:
        for cell in body[-display.statistics].cells:
            _borders(cell, top=THIN)
    for cell in (body or header_rows)[-1].cells:
        _borders(cell, bottom=RULE)


def _distinct(cells):
    seen, out = set(), []
    for cell in cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            out.append(cell)
    return out


def document(docs: list, heading: str = "") -> bytes:
    """One Word document: each table (render.Document) with its title above and notes below, each
    after the first on a new page, in a landscape section when it is wide."""

    document = docx.Document()
    _setup(document)
    for i, doc in enumerate(docs):
        layout = column_layout(doc)
        section = document.sections[0] if i == 0 else document.add_section(WD_SECTION.NEW_PAGE)
        _page(section, layout.landscape)
        if heading and i == 0:
            _caption(document, heading)
        _caption(document, doc.title)
        _table(document, doc, layout)
        _notes(document, doc.notes)
    raw = io.BytesIO()
    document.save(raw)
    return _fixed_zip(raw.getvalue())


def figures_document(figures: list, heading: str = "") -> bytes:
    """One Word document: each figure (png path, title, notes) at its own size (at most the text
    width), with its title and notes as the caption below it."""

    document = docx.Document()
    _setup(document)
    for i, (png, title, notes) in enumerate(figures):
        section = document.sections[0] if i == 0 else document.add_section(WD_SECTION.NEW_PAGE)
        _page(section, False)
        if heading and i == 0:
            _caption(document, heading)
        width_pt = min(_png_width_points(png), A4[0] - 2 * MARGIN)
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.keep_with_next = True
        paragraph.add_run().add_picture(str(png), width=Pt(width_pt))
        _caption(document, title, keep_with_next=False).paragraph_format.space_before = Pt(6)
        _notes(document, notes)
    raw = io.BytesIO()
    document.save(raw)
    return _fixed_zip(raw.getvalue())


def _png_width_points(png) -> float:
    """The image's printed width (pixels / its dpi, in points)."""
    data = open(png, "rb").read()
    width = struct.unpack(">I", data[16:20])[0]
    dpi = 300.0
    at = data.find(b"pHYs")
    if at > 0:
        per_metre = struct.unpack(">I", data[at + 4 : at + 8])[0]
        if per_metre and data[at + 12] == 1:
            dpi = per_metre * 0.0254
    return width / dpi * 72


def _fixed_zip(data: bytes) -> bytes:
    """Same entries and contents, with fixed timestamps, so reruns are byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
