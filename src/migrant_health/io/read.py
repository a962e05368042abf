"""Reading a raw SPSS or Stata release with pyreadstat, only the columns needed."""

from pathlib import Path

import pandas as pd

from ..errors import InputError, closest

READERS = {".sav": "read_sav", ".zsav": "read_sav", ".dta": "read_dta"}


def _reader(path: Path):
    import pyreadstat

    if not path.exists():
        raise InputError(
            f"{path}: raw data file not found. Put the file there, or point "
            f"datasets.<name>.path in config.yaml at it (or set synthetic: true)."
        )
    if path.suffix.lower() not in READERS:
        raise InputError(
            f"{path}: not an SPSS (.sav, .zsav) or Stata (.dta) file. Export the survey in one of those formats."
        )
    return getattr(pyreadstat, READERS[path.suffix.lower()])


# The file label the generator writes into every synthetic release (synth/): a file carrying it
# is never read as a real survey.
SYNTHETIC_LABEL_MARK = "Synthetic"


def file_label(path) -> str:
    """The file label recorded in an SPSS or Stata file ('' if none)."""
    import pyreadstat

    path = Path(path)
    try:
        _, meta = _reader(path)(str(path), metadataonly=True)
    except pyreadstat.ReadstatError as e:
        raise InputError(
            f"{path}: cannot be read as {path.suffix} ({e}). Check that the file is complete and really in that format."
        ) from None
    return meta.file_label or ""


def read_raw(path, columns: list[str]) -> pd.DataFrame:
    """The raw file's `columns`, as stored: numeric codes, special codes kept as values.

    user_missing=True keeps SPSS user-missing codes (98, 99, ...) as codes instead of
    turning them into NaN, so the codebook can count each one.
    """
    import pyreadstat

    path = Path(path)
    read = _reader(path)
    try:
        _, meta = read(str(path), metadataonly=True)
    except pyreadstat.ReadstatError as e:
        raise InputError(
            f"{path}: cannot be read as {path.suffix} ({e}). Check that the file is complete and really in that format."
        ) from None
    absent = [c for c in columns if c not in meta.column_names]
    if absent:
        hints = "; ".join(f"'{c}'{closest(c, meta.column_names)}" for c in absent)
        raise InputError(
            f"{path}: the codebook names variables the file does not have: {hints}. "
            f"Fix `source:` in the codebook to the file's variable names."
        )
    kwargs = {"user_missing": True} if read.__name__ == "read_sav" else {}
    try:
        df, _ = read(str(path), usecols=list(columns), **kwargs)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError) as e:
        raise InputError(
            f"{path}: its data cannot be read ({type(e).__name__}: {e}); the file may be truncated "
            f"or damaged. Copy it again from the release and check its size."
        ) from None
    if len(df) != meta.number_rows and meta.number_rows is not None:
        raise InputError(
            f"{path}: the file declares {meta.number_rows} rows but holds {len(df)}; it is truncated. "
            f"Copy it again from the release."
        )
    return df[list(columns)]
