"""Rule effect_table: a table of effects or odds ratios from a study's tidy estimates."""

from ..io.files import read_provenance, read_tidy
from ..tables import effects, render


def effect_table(spec: dict, labels: dict, estimates: str, stem: str, synthetic: bool, sources: list) -> None:
    """`sources`: the provenance records of the study's real datasets (none when synthetic)."""
    numbers = read_tidy(estimates)
    notes = [spec.get("note", "")] + effects.table_notes(numbers, spec)
    render.write_table(
        effects.effect_display(numbers, spec, labels), stem, spec["title"], notes, synthetic, read_provenance(sources)
    )
