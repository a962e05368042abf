"""Rule effect_table: a table of effects or odds ratios from a study's tidy estimates."""

from ..io.files import read_provenance, read_tidy
from ..tables import effects, render


def effect_table(spec: dict, labels: dict, estimates: str, stem: str, synthetic: bool, sources: list) -> None:
    """`sources`: the provenance records of the study's real datasets (none when synthetic)."""
    numbers = read_tidy(estimates)
    note = " ".join(n for n in [spec.get("note", "")] + effects.table_notes(numbers, spec) if n)
    render.write_table(
        effects.effect_table(numbers, spec, labels), stem, spec["title"], note, synthetic, read_provenance(sources)
    )
