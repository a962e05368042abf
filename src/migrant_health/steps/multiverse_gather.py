"""Rule multiverse_gather: a study's multiverse chunks in order, as multiverse.csv, and its
specification curve (PNG, PDF, caption JSON)."""

import pandas as pd

from ..errors import InputError
from ..figures import plots, specification_curve
from ..io.files import read_provenance, write_csv
from ..multiverse import key_estimates
from ..multiverse_fit import TEXT_COLUMNS, columns
from ..outputs import MULTIVERSE_TITLE


def multiverse_gather(
    study: str, spec: dict, labels: dict, chunks: list, multiverse: str, stem: str, synthetic: bool, sources: list
) -> None:
    """`spec`: the study's sample, models and multiverse; `chunks`: the chunks' rows in order."""
    text = [*spec["multiverse"]["choices"], *TEXT_COLUMNS]
    frame = pd.concat(
        [pd.read_csv(path, dtype=dict.fromkeys(text, str), keep_default_na=False, na_values=[""]) for path in chunks],
        ignore_index=True,
    )[columns(spec)]
    frame[text] = frame[text].fillna("")
    where = f"config.yaml: studies.{study}.multiverse.estimates"
    for i, key in enumerate(key_estimates(spec)):
        rows = frame[(frame[list(key)] == pd.Series(key)).all(axis=1)]
        if rows["estimate"].isna().all():
            raise InputError(f"{where}[{i}]: no variant has this estimate: {rows['message'].iloc[0]}")
    write_csv(frame, multiverse)
    choices = {name: list(choice["options"]) for name, choice in spec["multiverse"]["choices"].items()}
    specification_curve.draw(frame, choices, labels, stem, synthetic)
    note = specification_curve.missing_note(frame, labels)
    notes = [n for n in (spec["multiverse"].get("note", ""), NOTE, note) if n]
    plots.write_caption(
        stem, spec["multiverse"].get("title", MULTIVERSE_TITLE), notes, synthetic, read_provenance(sources)
    )


NOTE = (
    "Above: each key estimate in every variant of the analysis, sorted, with its 95% CI (filled: p < 0.05; "
    "black: the main specification). Below: the option of each choice the variant takes (Simonsohn, "
    "Simmons and Nelson 2020)."
)
