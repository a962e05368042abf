"""Reading a raw SPSS or Stata release with pyreadstat: its metadata (column names, types,
labels, special codes), then only the columns needed.

Text in older releases is often GBK: SPSS files without an encoding record or with a wrong one,
Stata 12/13 files (which record none). `encoding` (datasets.<name>.encoding, or the draft
command's --encoding) names the file's real encoding to pyreadstat (an iconv name: gbk, gb18030).
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError, closest

READERS = {".sav": "read_sav", ".zsav": "read_sav", ".dta": "read_dta"}
ENCODING_HINT = (
    "Older CMDS releases are GBK-encoded: set datasets.<name>.encoding: gbk in config.yaml "
    "(or --encoding gbk for `migrant-health codebook draft`)."
)


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


# Text that a legacy encoding (GBK) gives when read as Latin-1 / Windows-1252 is full of these.
LATIN1_LETTERS = frozenset(chr(c) for c in range(0xC0, 0x100)) | frozenset("¼½¾±³²¹µ¶·¸º¿")


def _stata_release(path: Path) -> int | None:
    """A .dta file's format release (117 for Stata 13, 118+ for Stata 14's UTF-8 files)."""
    with open(path, "rb") as f:
        head = f.read(64)
    if head.startswith(b"<stata_dta><header><release>"):
        digits = head[len(b"<stata_dta><header><release>") :].split(b"<")[0]
        return int(digits) if digits.isdigit() else None
    return head[0] if head else None


def _garbled(texts) -> str | None:
    """A text that looks like a legacy (GBK) encoding read as Latin-1, or None."""
    for text in texts:
        if isinstance(text, str) and sum(ch in LATIN1_LETTERS for ch in text) >= 2:
            return text
    return None


def _check_decoded(path: Path, recorded: str | None, texts, encoding: str | None) -> None:
    """Stop when a file that records no encoding (Stata 12/13) or a legacy one was decoded into
    text that looks like GBK read as Latin-1: the labels would be garbled, silently."""
    if encoding:
        return
    legacy = (recorded or "").upper().replace("-", "") not in ("UTF8", "")
    if path.suffix.lower() == ".dta":
        release = _stata_release(path)
        legacy = release is not None and release < 118
    example = _garbled(texts) if legacy else None
    if example:
        raise InputError(
            f"{path}: records no encoding or a legacy one ({recorded or 'Stata 12/13: none'}), and its text reads "
            f"as {example!r}, which looks like GBK read as Latin-1. {ENCODING_HINT} If the text really is "
            f"Latin-1, say so with encoding: latin1."
        )


def _encoding_error(e: Exception) -> bool:
    text = str(e).lower()
    return isinstance(e, UnicodeDecodeError) or any(w in text for w in ("encod", "convert", "utf-8", "iconv"))


@dataclass(frozen=True)
class Metadata:
    """What a file says about itself, without its data."""

    path: Path
    file_label: str
    encoding: str | None  # as the file records it (SPSS), or None
    columns: list
    column_labels: dict  # column -> variable label
    value_labels: dict  # column -> {code: label}
    types: dict  # column -> "numeric" | "string"
    missing: dict  # column -> {code or "low..high": "user-missing"}
    n_rows: int | None


def metadata(path, encoding: str | None = None) -> Metadata:
    """The file's metadata (no data read); InputError naming the file and the fix otherwise."""
    import pyreadstat

    path = Path(path)
    read = _reader(path)
    kwargs = {"encoding": encoding} if encoding else {}
    if read.__name__ == "read_sav":
        kwargs["user_missing"] = True
    try:
        _, meta = read(str(path), metadataonly=True, **kwargs)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError) as e:
        hint = " Check that the file is complete and really in that format."
        if _encoding_error(e):
            hint = f" {ENCODING_HINT}" if not encoding else f" The encoding '{encoding}' does not decode it either."
        raise InputError(f"{path}: cannot be read as {path.suffix} ({type(e).__name__}: {e}).{hint}") from None
    texts = [meta.file_label, *(meta.column_names_to_labels or {}).values()]
    texts += [label for labels in (meta.variable_value_labels or {}).values() for label in labels.values()]
    _check_decoded(path, getattr(meta, "file_encoding", None), texts, encoding)
    types = {
        c: ("string" if str(t).lower() in ("string", "str") else "numeric")
        for c, t in (meta.readstat_variable_types or {}).items()
    }
    missing = {}
    for column, ranges in (getattr(meta, "missing_ranges", None) or {}).items():
        for r in ranges:
            low, high = r.get("lo"), r.get("hi")
            key = low if low == high else f"{_number(low)}..{_number(high)}"
            missing.setdefault(column, {})[_number(key) if low == high else key] = "user-missing"
    for column, codes in (getattr(meta, "missing_user_values", None) or {}).items():
        for code in codes:
            missing.setdefault(column, {})[code] = "user-missing"
    return Metadata(
        path,
        meta.file_label or "",
        getattr(meta, "file_encoding", None),
        list(meta.column_names),
        dict(meta.column_names_to_labels or {}),
        {c: dict(v) for c, v in (meta.variable_value_labels or {}).items()},
        types,
        missing,
        meta.number_rows,
    )


def _number(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The file label the generator writes into every synthetic release (synth/): a file carrying it
# is never read as a real survey.
SYNTHETIC_LABEL_MARK = "Synthetic"


def file_label(path, encoding: str | None = None) -> str:
    """The file label recorded in an SPSS or Stata file ('' if none)."""
    return metadata(path, encoding).file_label


def read_raw(path, columns: list[str], encoding: str | None = None, meta: Metadata | None = None) -> pd.DataFrame:
    """The raw file's `columns`, as stored: numeric codes, special codes kept as values.

    user_missing=True keeps SPSS user-missing codes (98, 99, ...) as codes instead of
    turning them into NaN, so the codebook can count each one.
    """
    import pyreadstat

    path = Path(path)
    read = _reader(path)
    meta = meta or metadata(path, encoding)
    absent = [c for c in columns if c not in meta.columns]
    if absent:
        hints = "; ".join(f"'{c}'{closest(c, meta.columns)}" for c in absent)
        raise InputError(
            f"{path}: the codebook names variables the file does not have: {hints}. "
            f"Fix `source:` in the codebook to the file's variable names."
        )
    kwargs = {"user_missing": True} if read.__name__ == "read_sav" else {}
    if encoding:
        kwargs["encoding"] = encoding
    try:
        df, _ = read(str(path), usecols=list(columns), **kwargs)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeDecodeError) as e:
        if _encoding_error(e):
            raise InputError(
                f"{path}: its text cannot be decoded ({type(e).__name__}: {e}). "
                + (ENCODING_HINT if not encoding else f"The encoding '{encoding}' does not decode it either.")
            ) from None
        raise InputError(
            f"{path}: its data cannot be read ({type(e).__name__}: {e}); the file may be truncated "
            f"or damaged. Copy it again from the release and check its size."
        ) from None
    for column in df.columns:
        if not pd.api.types.is_numeric_dtype(df[column]):
            _check_decoded(path, meta.encoding, df[column].dropna().unique()[:1000], encoding)
    if len(df) != meta.n_rows and meta.n_rows is not None:
        raise InputError(
            f"{path}: the file declares {meta.n_rows} rows but holds {len(df)}; it is truncated. "
            f"Copy it again from the release."
        )
    return df[list(columns)]
