"""Rule effect_table: a table of effects or odds ratios from a study's tidy estimates."""
from ..io.files import read_tidy
from ..tables import effects, render


def effect_table(spec: dict, labels: dict, estimates: str, stem: str, synthetic: bool) -> None:
    shown = effects.effect_table(read_tidy(estimates), spec, labels)
    render.write_table(shown, stem, spec["title"], spec.get("note", ""), synthetic)
