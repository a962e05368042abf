"""Rule document_synthetic: what a generator produced beside the published numbers (a page)."""

from pathlib import Path

from .. import published as pub
from ..io.files import read_tidy
from ..synth import pages


def document_synthetic(survey: str, published: list, truth: str, notes: str, page: str) -> None:
    docs = {Path(path).stem: pub.load(path) for path in published}
    Path(page).write_text(pages.page(survey, read_tidy(truth), Path(notes).read_text().splitlines(), docs))
