"""Rule descriptive_table: tidy numbers of a descriptive table, then its printed layout."""

import pandas as pd

from ..io.files import read_provenance, write_csv
from ..tables import descriptive, render


def descriptive_table(
    study: str, table: str, spec: dict, analytic: str, tidy: str, stem: str, synthetic: bool, sources: list
) -> None:
    """`sources`: the provenance records of the study's real datasets (none when synthetic)."""
    numbers = descriptive.describe(pd.read_parquet(analytic), spec, study, table)
    write_csv(numbers, tidy)
    render.write_table(
        descriptive.display(numbers, spec),
        stem,
        spec["title"],
        spec.get("note", ""),
        synthetic,
        read_provenance(sources),
    )
