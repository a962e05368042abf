"""Reading a raw SPSS or Stata release with pyreadstat, only the columns needed."""
from pathlib import Path

import pandas as pd

from ..errors import InputError, closest

READERS = {".sav": "read_sav", ".zsav": "read_sav", ".dta": "read_dta"}


def _reader(path: Path):
    import pyreadstat

    if not path.exists():
        raise InputError(f"{path}: raw data file not found. Put the file there, or point "
                         f"datasets.<name>.path in config.yaml at it (or set synthetic: true).")
    if path.suffix.lower() not in READERS:
        raise InputError(f"{path}: not an SPSS (.sav, .zsav) or Stata (.dta) file. "
                         f"Export the survey in one of those formats.")
    return getattr(pyreadstat, READERS[path.suffix.lower()])


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
        raise InputError(f"{path}: cannot be read as {path.suffix} ({e}). "
                         f"Check that the file is complete and really in that format.") from None
    absent = [c for c in columns if c not in meta.column_names]
    if absent:
        hints = "; ".join(f"'{c}'{closest(c, meta.column_names)}" for c in absent)
        raise InputError(f"{path}: the codebook names variables the file does not have: {hints}. "
                         f"Fix `source:` in the codebook to the file's variable names.")
    kwargs = {"user_missing": True} if read.__name__ == "read_sav" else {}
    df, _ = read(str(path), usecols=list(columns), **kwargs)
    return df[list(columns)]
