"""Writing and reading the pipeline's own files, one way each, so that reruns are byte-identical."""

from pathlib import Path

import pandas as pd

# Tidy numbers (estimates, descriptives, comparisons) are written to 10 significant digits;
# intermediate files another step reads back keep every digit.
TIDY_FLOAT = "%.10g"
EXACT_FLOAT = "%.17g"


def _parent(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_csv(frame: pd.DataFrame, path, float_format: str | None = TIDY_FLOAT) -> None:
    frame.to_csv(_parent(path), index=False, lineterminator="\n", float_format=float_format)


def write_lines(lines, path) -> None:
    _parent(path).write_text("".join(f"{line}\n" for line in lines))


def write_parquet(frame: pd.DataFrame, path) -> None:
    """Respondent-level frames (data/interim, data/analytic only)."""
    frame.reset_index(drop=True).to_parquet(_parent(path), index=False, compression="zstd")


def text_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Tidy rows with `level` as text: '' for a term without levels (a CSV reads it back as missing)."""
    return frame.assign(level=frame["level"].fillna("").astype(str))


def read_provenance(paths) -> list[str]:
    """The provenance line of each data file recorded by ingestion (data/interim/<dataset>.source.json)."""
    import json

    from ..outputs import provenance_note

    return [provenance_note(json.loads(Path(p).read_text())) for p in paths]


def read_tidy(path) -> pd.DataFrame:
    """Tidy rows as written, levels as text."""
    return text_levels(pd.read_csv(path, keep_default_na=False, na_values=[""]))
