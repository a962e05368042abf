"""A generated survey release: the microdata, the truth it was generated from, and the
labels an SPSS user expects, written by one writer whatever the survey."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Release:
    raw: pd.DataFrame  # one row per respondent, raw codes (text columns as text), in file order
    truth: pd.DataFrame  # true effects of the outcome equations (aggregates)
    notes: list[str]  # what the generator solved, assumed or could not reach
    file_label: str
    variable_labels: dict[str, str]  # column -> label
    value_labels: dict[str, dict[int, str]] = field(default_factory=dict)  # special codes included
    user_missing: dict[str, list[int]] = field(default_factory=dict)  # special codes, as SPSS declares them
    # Row compression (SPSS bytecode) shrinks the 200,937-row CMDS file; the small Jinan
    # file has always been written without it, and stays byte for byte what it was.
    compressed: bool = False

    def write_sav(self, path) -> None:
        """The release as SPSS: variable labels, value labels, special codes as user-missing."""
        import pyreadstat

        text = [c for c in self.raw.columns if not pd.api.types.is_numeric_dtype(self.raw[c])]
        numbers = [c for c in self.raw.columns if c not in text]
        pyreadstat.write_sav(
            self.raw.astype({c: "float64" for c in numbers}) if text else self.raw.astype("float64"),
            str(path),
            file_label=self.file_label,
            column_labels=self.variable_labels,
            variable_value_labels=self.value_labels,
            missing_ranges=self.user_missing,
            row_compress=self.compressed,
        )
        fix_creation_time(path)


# The SPSS file header records when the file was written (creation date, 9 bytes at offset 92,
# and time, 8 bytes at 101), which pyreadstat takes from the clock: a fixed stamp keeps the
# same seed's release byte-identical.
SAV_CREATED = (92, b"01 Jan 80"), (101, b"00:00:00")


def fix_creation_time(path) -> None:
    with open(path, "r+b") as f:
        for offset, stamp in SAV_CREATED:
            f.seek(offset)
            f.write(stamp)
