"""LaTeX tables that compile with pdflatex and fit the text block of an A4 article.

Each table is a float (or, when longer than a page, a longtable) to \\input into a document
whose preamble loads PREAMBLE's packages (results/<study>/tables.tex is such a document):
booktabs rules; threeparttable notes (under a longtable, a box of its width); numeric columns as
siunitx S columns, aligned on the decimal marker with their stars set after it and true minus
signs; a landscape page (pdflscape) when the table is too wide for the portrait text block;
one caption (the config title without its "Table N": LaTeX numbers it) and
\\label{tab:<study>-<table>}. Every character outside ASCII is mapped to a LaTeX command
(TEXT_MAP); one with no mapping stops the run with its name, never a pdflatex error.

Widths and heights are estimated from Computer Modern's metrics (tables/measure.py) against
the standard article class on A4 paper (10pt: text block 345 x 598 pt), the narrowest a
journal's class is likely to be; tests/test_documents.py compiles every table and checks that
pdflatex reports no overfull box and no float too large for its page (after a second run, which a
longtable needs to settle its column widths, as latexmk would run it).
"""

from __future__ import annotations

import re
import unicodedata

from ..errors import InputError
from . import measure

PACKAGES = ("array", "booktabs", "threeparttable", "longtable", "pdflscape", "siunitx")
PREAMBLE = (
    r"\usepackage{" + ",".join(PACKAGES) + "}\n"
    r"\sisetup{group-separator={,}, group-minimum-digits=4, table-align-text-after=false}" + "\n"
)
TEXT_WIDTH, TEXT_HEIGHT = 345.0, 598.0  # article, 10pt, a4paper
SIZES = ((r"\small", 9.0, 11.0), (r"\footnotesize", 8.0, 9.5))  # command, font size, baselineskip
TABCOLSEP = 4.0
INDENT = 1.0  # em per level of a label's indentation
LABEL_PORTRAIT = 110.0  # portrait only if the label column gets this much (or all it needs)

# Characters outside ASCII (and those LaTeX reserves) -> LaTeX, for text mode.
TEXT_MAP = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "χ²": r"$\chi^2$",
    "χ": r"$\chi$",
    "²": r"\textsuperscript{2}",
    "³": r"\textsuperscript{3}",
    "±": r"$\pm$",
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "×": r"$\times$",
    "−": r"$-$",
    "–": "--",
    "—": "---",
    "†": r"\textsuperscript{\dag}",
    "‡": r"\textsuperscript{\ddag}",
    "·": r"$\cdot$",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "…": r"\ldots{}",
    "\u00a0": "~",
    "°": r"\textdegree{}",
    "µ": r"$\mu$",
}
_TEXT = re.compile("|".join(re.escape(k) for k in sorted(TEXT_MAP, key=len, reverse=True)))
# A minus sign: a hyphen before a digit, at the start or after a space, parenthesis or bracket.
_MINUS = re.compile(r"(^|(?<=[\s(\[]))-(?=\.?\d)")
# A number siunitx can align: optional comparator and sign, digits (thousands commas allowed), decimals, stars.
NUMBER = re.compile(r"^(?P<cmp><)?(?P<sign>-)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?(?P<stars>\**)$")
TABLE_PREFIX = re.compile(r"^(Table|Figure)\s+[0-9A-Za-z]+[.:]?\s+")


def escape(text) -> str:
    """Text mode: LaTeX's special characters escaped, minus signs made true minus signs, every
    character outside ASCII mapped (an accented letter loses its accent only if unmapped)."""
    text = _MINUS.sub("\x00", str(text))
    out = _TEXT.sub(lambda m: TEXT_MAP[m.group(0)], text).replace("\x00", r"$-$")
    if not out.isascii():
        ascii_form = unicodedata.normalize("NFKD", out).encode("ascii", "ignore").decode()
        lost = sorted({c for c in out if not c.isascii() and unicodedata.normalize("NFKD", c)[0] == c})
        if lost:
            names = ", ".join(f"'{c}' ({unicodedata.name(c, 'unnamed')})" for c in lost)
            raise InputError(
                f"LaTeX table: no LaTeX for {names} in '{text}'; add it to tables/latex.py TEXT_MAP "
                f"or write it in plain ASCII in config.yaml."
            )
        out = ascii_form
    return out


def caption_text(title: str) -> str:
    """The title without its "Table N" (LaTeX numbers the caption)."""
    return TABLE_PREFIX.sub("", title)


def _words_only(cell: str) -> bool:
    """A cell of words in a column of numbers (e.g. "not estimable"): set as text, centred."""
    return not any(ch.isdigit() for ch in cell)


def _numeric(column: list[str]) -> bool:
    cells = [c for c in column if c]
    return any(NUMBER.match(c) for c in cells) and all(NUMBER.match(c) or _words_only(c) for c in cells)


def _shape(column: list[str]) -> tuple[bool, bool, int, int, int]:
    """(comparator, sign, integer digits, decimals, stars): what siunitx reserves in a numeric column."""
    parts = [NUMBER.match(c) for c in column if c and NUMBER.match(c)]
    return (
        any(p["cmp"] for p in parts),
        any(p["sign"] for p in parts),
        max(len(p["int"].replace(",", "")) for p in parts),
        max(len(p["dec"] or "") for p in parts),
        max(len(p["stars"]) for p in parts),
    )


def _format(column: list[str]) -> str:
    """siunitx table-format of a numeric column."""
    comparator, sign, integer, decimals, stars = _shape(column)
    fmt = ("<" if comparator else "") + ("-" if sign else "")
    fmt += f"{integer}.{decimals}" if decimals else f"{integer}"
    return f"table-format={fmt}" + (f"{{{'*' * stars}}}" if stars else "")


def _numeric_width(column: list[str], size: float) -> float:
    """The width siunitx reserves for a numeric column (its widest part of each kind together),
    or its widest cell of words."""
    comparator, sign, integer, decimals, stars = _shape(column)
    commas = (integer - 1) // 3 if integer >= 4 else 0
    text = ("<" if comparator else "") + ("−" if sign else "") + "0" * integer + "," * commas
    text += ("." + "0" * decimals if decimals else "") + "*" * stars
    words = max((_cell_width(c, size) for c in column if c and not NUMBER.match(c)), default=0.0)
    return max(measure.width(text, size, "cm") + (2.0 if comparator else 0.0), words)


def _cell_width(text: str, size: float) -> float:
    return measure.width(text.replace("-", "−").strip(), size, "cm")


def _numbers(text: str) -> str:
    """A numeric cell as siunitx reads it: thousands commas dropped (siunitx puts them back)."""
    return text.replace(",", "")


class _Plan:
    """Font size, orientation, column widths and whether the table must break across pages."""

    def __init__(self, doc):
        display = doc.display
        self.ncol = len(display.headers)
        columns = [[r[j] for r in display.rows] for j in range(self.ncol)]
        self.numeric = [False] + [_numeric(c) for c in columns[1:]]
        self.formats = [_format(c) if n else "" for c, n in zip(columns, self.numeric)]
        for size_command, size, skip in SIZES:
            fitting = [landscape for landscape in (False, True) if self._fits(doc, columns, size, skip, landscape)]
            if fitting:
                # Portrait unless landscape takes fewer pages (a long narrow table stays portrait).
                pages = {landscape: self._pages(doc, columns, size, skip, landscape) for landscape in fitting}
                landscape = min(fitting, key=lambda o: (pages[o], o))
                self._fits(doc, columns, size, skip, landscape)
                self.size_command, self.size, self.skip, self.landscape = size_command, size, skip, landscape
                self.long = self.height > 0.9 * self.page_height
                return
        # Nothing fits: the smallest size on a landscape page (pdflatex will say by how much).
        self._fits(doc, columns, SIZES[-1][1], SIZES[-1][2], True)
        self.size_command, self.size, self.skip, self.landscape = SIZES[-1][0], SIZES[-1][1], SIZES[-1][2], True
        self.long = True

    def _pages(self, doc, columns, size, skip, landscape) -> int:
        self._fits(doc, columns, size, skip, landscape)
        return int(self.height // (0.9 * self.page_height)) + 1

    def _fits(self, doc, columns, size, skip, landscape) -> bool:
        display = doc.display
        width = TEXT_HEIGHT if landscape else TEXT_WIDTH
        self.page_height = TEXT_WIDTH if landscape else TEXT_HEIGHT
        gap = 2 * TABCOLSEP
        values = []
        for j in range(1, self.ncol):
            if self.numeric[j]:
                cells = _numeric_width(columns[j], size)
            else:
                cells = max((_cell_width(c, size) for c in columns[j]), default=0.0)
            values.append(max(cells, measure.longest_word(display.headers[j], size, "cm")) + gap)
        column = 0
        for label, n in display.spans:
            if label and column >= 1:
                need = measure.longest_word(label, size, "cm") + gap
                have = sum(values[column - 1 : column - 1 + n])
                for k in range(column - 1, column - 1 + n):
                    values[k] += max(need - have, 0.0) / n
            column += n
        labels = columns[0] + [display.headers[0]]
        indent = INDENT * size
        natural = max(measure.width(lb.strip(), size, "cm") + indent * _level(lb) for lb in labels) + 2
        smallest = max(measure.longest_word(lb, size, "cm") + indent * _level(lb) for lb in labels) + 2
        values = [v * 1.04 + 1.0 for v in values]  # metrics are estimates: a margin rather than an overfull box
        room = width - sum(values) - gap - 6.0  # the label column's own separation, and a margin
        self.label_width = min(natural, room)
        self.value_widths = values
        if room < smallest or (not landscape and room < min(natural, LABEL_PORTRAIT)):
            return False
        lines = sum(
            len(measure.wrap(lb.strip(), self.label_width - indent * _level(lb), size, "cm")) for lb in columns[0]
        )
        header_lines = max(
            (len(measure.wrap(h, w - gap, size, "cm")) for h, w in zip(display.headers[1:], values)), default=1
        )
        self.table_width = min(width, self.label_width + sum(values) + gap)
        note_lines = sum(len(measure.wrap(n, self.table_width, size - 1, "cm")) for n in doc.notes)
        caption_lines = len(measure.wrap(caption_text(doc.title), self.table_width, 10.0, "cm"))
        rules = 4 + (1 if display.spans else 0) + (1 if display.statistics else 0)
        self.height = (
            (lines + header_lines + (1 if display.spans else 0)) * skip
            + note_lines * (skip - 1)
            + caption_lines * 12
            + rules * 4
            + 12
        )
        return True


def _level(label: str) -> int:
    return (len(label) - len(label.lstrip(" "))) // 2


def _header_cell(text: str, width: float, size: float, numeric: bool) -> str:
    lines = measure.wrap(text, max(width - 2 * TABCOLSEP, 1.0), size, "cm")
    body = escape(lines[0]) if len(lines) == 1 else r"\begin{tabular}[b]{@{}c@{}}" + r"\\".join(map(escape, lines))
    body += "" if len(lines) == 1 else r"\end{tabular}"
    return f"{{{body}}}" if numeric else rf"\multicolumn{{1}}{{c}}{{{body}}}"


def _body_cell(text: str, numeric: bool) -> str:
    if not text:
        return ""
    if numeric:
        return _numbers(text) if NUMBER.match(text) else f"{{{escape(text)}}}"
    return escape(text)


def _label_cell(text: str) -> str:
    level = _level(text)
    return (rf"\hspace{{{INDENT * level:g}em}}" if level else "") + escape(text.strip())


def table(doc) -> str:
    """The table as a LaTeX float (or a longtable), ready to \\input (see PREAMBLE)."""
    display = doc.display
    plan = _Plan(doc)
    ncol = plan.ncol
    spec = [rf">{{\raggedright\arraybackslash}}p{{{plan.label_width:.1f}pt}}"]
    spec += [f"S[{fmt}]" if numeric else "r" for fmt, numeric in zip(plan.formats[1:], plan.numeric[1:])]
    colspec = "@{}" + "".join(spec) + "@{}"
    head = []
    if display.spans:
        cells, rules, column = [], [], 0
        for label, n in display.spans:
            if label and column >= 1:
                width = sum(plan.value_widths[column - 1 : column - 1 + n])
                lines = measure.wrap(label, max(width - 2 * TABCOLSEP, 1.0), plan.size, "cm")
                text = r"\\".join(escape(x) for x in lines)
                text = text if len(lines) == 1 else r"\begin{tabular}[b]{@{}c@{}}" + text + r"\end{tabular}"
                cells.append(rf"\multicolumn{{{n}}}{{c}}{{{text}}}")
                rules.append(rf"\cmidrule(lr){{{column + 1}-{column + n}}}")
            else:
                cells.append(rf"\multicolumn{{{n}}}{{l}}{{}}" if n > 1 else "")
            column += n
        head += [" & ".join(cells) + r" \\", "".join(rules)]
    names = [escape(display.headers[0])] + [
        _header_cell(h, w, plan.size, numeric)
        for h, w, numeric in zip(display.headers[1:], plan.value_widths, plan.numeric[1:])
    ]
    head.append(" & ".join(names) + r" \\")
    body = []
    rows = display.rows
    for i, r in enumerate(rows):
        if display.statistics and i == len(rows) - display.statistics:
            body.append(r"\midrule")
        body.append(
            " & ".join([_label_cell(r[0])] + [_body_cell(c, n) for c, n in zip(r[1:], plan.numeric[1:])]) + r" \\"
        )
    caption = escape(caption_text(doc.title))
    label = rf"\label{{tab:{doc.name}}}" if doc.name else ""
    notes = [rf"\item[] {escape(n)}" for n in doc.notes]
    # A longtable's notes: a box of the table's (estimated) width right under it (threeparttablex
    # needs the table's width from an earlier pdflatex run; a last row across the table widens its
    # last column if it is wider than the columns).
    long_notes = r"\footnotesize " + r"\par ".join(escape(n) for n in doc.notes)
    comment = [
        f"% {doc.name or 'table'}: generated by the migrant_health pipeline; needs in the preamble:",
        *[f"% {line}" for line in PREAMBLE.strip().splitlines()],
    ]
    size = [plan.size_command, rf"\setlength{{\tabcolsep}}{{{TABCOLSEP:g}pt}}"]
    if plan.long:
        lines = [
            r"\begingroup",
            *size,
            rf"\begin{{longtable}}{{{colspec}}}",
            rf"\caption{{{caption}}}{label}\\",
            r"\toprule",
            *head,
            r"\midrule",
            r"\endfirsthead",
            rf"\multicolumn{{{ncol}}}{{@{{}}l}}{{\tablename\ \thetable{{}} (continued)}}\\",
            r"\toprule",
            *head,
            r"\midrule",
            r"\endhead",
            r"\midrule",
            rf"\multicolumn{{{ncol}}}{{@{{}}r}}{{(continued)}}\\",
            r"\endfoot",
            r"\bottomrule",
            r"\endlastfoot",
            *body,
            r"\end{longtable}",
            *(
                [
                    r"\nopagebreak\vspace{-\LTpost}",
                    rf"\noindent\hfil\begin{{minipage}}{{{plan.table_width:.1f}pt}}\raggedright{long_notes}\end{{minipage}}\hfil\par",
                    r"\bigskip",
                ]
                if notes
                else []
            ),
            r"\endgroup",
        ]
    else:
        lines = [
            r"\begin{table}[htbp]",
            r"\centering",
            *size,
            r"\begin{threeparttable}",
            rf"\caption{{{caption}}}{label}",
            rf"\begin{{tabular}}{{{colspec}}}",
            r"\toprule",
            *head,
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}",
            *([r"\begin{tablenotes}[flushleft]", r"\footnotesize", *notes, r"\end{tablenotes}"] if notes else []),
            r"\end{threeparttable}",
            r"\end{table}",
        ]
    if plan.landscape:
        lines = [r"\begin{landscape}", *lines, r"\end{landscape}"]
    return "\n".join(comment + lines) + "\n"


def document(title: str, inputs: list[str]) -> str:
    """A complete document that \\input's each table file (paths relative to the document)."""
    body = []
    for i, path in enumerate(inputs):
        body += ([r"\clearpage"] if i else []) + [rf"\input{{{path}}}"]
    return (
        "\n".join(
            [
                "% Generated by the migrant_health pipeline: pdflatex tables.tex",
                r"\documentclass[a4paper]{article}",
                PREAMBLE.rstrip("\n"),
                rf"\title{{{escape(title)}}}",
                r"\date{}",
                r"\begin{document}",
                r"\maketitle",
                r"\thispagestyle{empty}",
                *body,
                r"\end{document}",
            ]
        )
        + "\n"
    )
