"""Widths of printed text, from font metrics, so that tables are laid out from their content.

Two faces: Times (the Word tables' font; measured with STIX, which matplotlib ships and whose
advance widths are within 2% of Times New Roman and of its metric twin Liberation Serif) and
Computer Modern (LaTeX's default; matplotlib ships cmr10 and cmb10). Widths are in points.
"""

from __future__ import annotations

import functools
import os

FACES = {
    ("times", False): "STIXGeneral.ttf",
    ("times", True): "STIXGeneralBol.ttf",
    ("cm", False): "cmr10.ttf",
    ("cm", True): "cmb10.ttf",
}
# Characters a face lacks (cmr10 has no en dash: TeX makes it from "--"), by their width in em.
MISSING_EM = {"–": 0.5, "—": 1.0, "−": 0.78, "≤": 0.78, "≥": 0.78, "±": 0.78, "χ": 0.6, "²": 0.35, "†": 0.45}


@functools.cache
def _font(face: str, bold: bool):
    import matplotlib
    from matplotlib import ft2font

    return ft2font.FT2Font(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", FACES[(face, bold)]))


@functools.cache
def width(text: str, size: float = 10.0, face: str = "times", bold: bool = False) -> float:
    """Advance width of `text` in points at `size` points."""
    if not text:
        return 0.0
    font = _font(face, bold)
    font.set_size(100, 72)  # measured large and scaled: glyph advances are rounded to whole pixels
    plain = "".join(c for c in text if not (face == "cm" and c in MISSING_EM))
    extra = sum(MISSING_EM[c] for c in text if face == "cm" and c in MISSING_EM) * size
    if not plain:
        return extra
    font.set_text(plain, 0.0)
    return font.get_width_height()[0] / 64 * size / 100 + extra


def longest_word(text: str, size: float = 10.0, face: str = "times", bold: bool = False) -> float:
    """The widest word: the narrowest a column can be without breaking a word."""
    return max((width(word, size, face, bold) for word in str(text).split()), default=0.0)


def wrap(text: str, limit: float, size: float = 10.0, face: str = "times", bold: bool = False) -> list[str]:
    """Greedy line breaks at spaces so that each line is at most `limit` points (a word longer
    than the limit stands alone on its line)."""
    lines: list[str] = []
    for word in str(text).split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and width(candidate, size, face, bold) <= limit:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines or [""]
