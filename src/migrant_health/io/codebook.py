"""Applying a codebook: raw codes -> canonical, typed variables, with a code count report.

Beyond mapping codes, the codebook vouches for the values: a numeric variable's `range`
(min/max inclusive, above/below exclusive) says what is plausible, and a value outside it
stops ingestion (`invalid: error`, the default) or becomes missing, counted in the code
report (`invalid: missing`); an identifier declared `unique: true` may not repeat; text in
a numeric variable or a fractional identifier stops ingestion with examples. Variables that
derive.py computes take their ranges from the codebook's `derived:` block.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .yamlfile import read_yaml

TYPES = ("id", "numeric", "binary", "categorical")
RANGE_KEYS = ("min", "max", "above", "below")
INVALID = ("error", "missing")
VARIABLE_KEYS = {"source", "type", "codes", "missing", "reference", "label", "range", "invalid", "unique"}


@dataclass(frozen=True)
class Plausible:
    """What values a variable may take: bounds (min/max inclusive, above/below exclusive) and
    what a value outside them does (error, or missing and counted)."""

    bounds: dict = field(default_factory=dict)
    invalid: str = "error"

    def outside(self, values: pd.Series) -> pd.Series:
        """Observed values outside the bounds."""
        x = values.astype("float64")
        out = pd.Series(False, index=values.index)
        for key, test in (
            ("min", x < self.bounds.get("min", -np.inf)),
            ("max", x > self.bounds.get("max", np.inf)),
            ("above", x <= self.bounds.get("above", -np.inf)),
            ("below", x >= self.bounds.get("below", np.inf)),
        ):
            if key in self.bounds:
                out |= test.fillna(False)
        return out

    def describe(self) -> str:
        signs = {"min": ">=", "max": "<=", "above": ">", "below": "<"}
        return " and ".join(f"{signs[k]} {v:g}" for k, v in self.bounds.items())


@dataclass(frozen=True)
class Variable:
    name: str
    source: str
    type: str
    codes: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    reference: str | None = None
    plausible: Plausible | None = None
    unique: bool = False

    @property
    def levels(self) -> list:
        """Levels in codebook order (duplicates folded), the reference first."""
        levels = list(dict.fromkeys(self.codes.values()))
        if self.reference is not None:
            levels.remove(self.reference)
            levels.insert(0, self.reference)
        return levels


@dataclass(frozen=True)
class Codebook:
    path: Path
    dataset: str
    survey: dict
    variables: dict
    derived: dict = field(default_factory=dict)  # derived variable -> Plausible

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(v.source for v in self.variables.values()))


def load_codebook(path) -> Codebook:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: codebook not found. Write one (see README, 'Using the real survey').")
    doc = read_yaml(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("variables"), dict):
        raise InputError(f"{path}: a codebook is a mapping with `variables:` (see data/codebooks/cmds2014.yaml).")
    variables = {name: _variable(name, spec, f"{path}: variables.{name}") for name, spec in doc["variables"].items()}
    derived = {name: _plausible(spec, f"{path}: derived.{name}") for name, spec in (doc.get("derived") or {}).items()}
    return Codebook(path, doc.get("dataset", path.stem), doc.get("survey", {}), variables, derived)


def _variable(name: str, spec, where: str) -> Variable:
    if not isinstance(spec, dict) or "source" not in spec or spec.get("type") not in TYPES:
        raise InputError(f"{where}: needs `source:` and `type:` (one of {', '.join(TYPES)}).")
    unknown = set(spec) - VARIABLE_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(VARIABLE_KEYS))}.")
    if spec["type"] in ("binary", "categorical") and not spec.get("codes"):
        raise InputError(f"{where}: a {spec['type']} variable needs `codes:`.")
    if spec["type"] == "binary" and set(spec["codes"].values()) - {True, False}:
        raise InputError(f"{where}: binary codes must map to true or false.")
    ref = spec.get("reference")
    if ref is not None and ref not in spec.get("codes", {}).values():
        raise InputError(
            f"{where}: reference '{ref}' is not one of its levels {sorted(set(spec['codes'].values()), key=str)}."
        )
    if ("range" in spec or "invalid" in spec) and spec["type"] != "numeric":
        raise InputError(f"{where}: `range`/`invalid` apply to numeric variables (this one is {spec['type']}).")
    if spec.get("unique") and spec["type"] != "id":
        raise InputError(f"{where}: `unique` applies to identifiers (type: id).")
    plausible = _plausible(spec, where) if "range" in spec else None
    return Variable(
        name,
        spec["source"],
        spec["type"],
        spec.get("codes") or {},
        spec.get("missing") or {},
        ref,
        plausible,
        bool(spec.get("unique", False)),
    )


def _plausible(spec, where: str) -> Plausible:
    bounds = spec.get("range") if isinstance(spec, dict) else None
    if (
        not isinstance(bounds, dict)
        or not bounds
        or set(bounds) - set(RANGE_KEYS)
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bounds.values())
    ):
        raise InputError(
            f"{where}: `range:` takes numbers under {', '.join(RANGE_KEYS)} "
            f"(e.g. range: {{min: 15, max: 100}}, or {{above: 0}} for a weight)."
        )
    invalid = spec.get("invalid", "error")
    if invalid not in INVALID:
        raise InputError(f"{where}: invalid: '{invalid}' is not one of {', '.join(INVALID)}.")
    return Plausible(dict(bounds), invalid)


def apply_codebook(raw: pd.DataFrame, codebook: Codebook, undeclared: str = "error"):
    """Canonical frame and the per-code report. Undeclared codes stop, or become missing;
    implausible values stop, or become missing, as each variable declares."""
    out, report, undeclared_lines, implausible = {}, [], [], []
    for var in codebook.variables.values():
        values = raw[var.source]
        special = values.isin(list(var.missing))
        column, valid, undeclared_mask = _convert(values.where(~special), var, codebook.path)
        outside = var.plausible.outside(column) if var.plausible else pd.Series(False, index=values.index)
        if outside.any() and var.plausible.invalid == "error":
            implausible.append(_implausible_line(var.name, var.source, column[outside], var.plausible))
        if var.plausible:
            column, valid = column.mask(outside), valid & ~outside
        report += _report_rows(var, values, special, valid, undeclared_mask, outside)
        if undeclared_mask.any():
            counts = values[undeclared_mask].value_counts().sort_index()
            undeclared_lines += [f"{var.name} (column {var.source}): code {_fmt(c)} x {n}" for c, n in counts.items()]
        if var.unique:
            _check_unique(var, column, codebook.path)
        out[var.name] = column
    if implausible:
        raise InputError(
            f"{codebook.path}: values outside the codebook's `range:`\n  "
            + "\n  ".join(implausible)
            + "\nCorrect the data, declare the codes as `missing:`, widen the range, or set "
            "`invalid: missing` on the variable to count them as missing."
        )
    if undeclared_lines and undeclared == "error":
        listing = "\n  ".join(undeclared_lines)
        raise InputError(
            f"{codebook.path}: codes in the data that the codebook does not declare:\n  "
            f"{listing}\nDeclare each under the variable's `codes:` (a level) or `missing:` "
            f"(a special code), or set datasets.{codebook.dataset}.undeclared_codes: missing."
        )
    return pd.DataFrame(out, index=raw.index), pd.DataFrame(report)


def check_derived(frame: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Derived variables against the codebook's `derived:` ranges: (frame, report rows)."""
    out, report, implausible = frame.copy(), [], []
    for name, plausible in codebook.derived.items():
        if name not in frame:
            raise InputError(
                f"{codebook.path}: derived.{name}: no derived variable of that name "
                f"(derive.py computes {', '.join(c for c in frame.columns if c not in codebook.variables)})."
            )
        outside = plausible.outside(frame[name])
        if outside.any() and plausible.invalid == "error":
            implausible.append(_implausible_line(name, "derived", frame.loc[outside, name], plausible))
        out[name] = frame[name].mask(outside)
        report.append(
            {
                "variable": name,
                "source": "(derived)",
                "type": "numeric",
                "n": len(frame),
                "n_valid": int(out[name].notna().sum()),
                "n_missing": int(out[name].isna().sum()),
                "code": "",
                "meaning": f"outside {plausible.describe()}",
                "status": "outside_range",
                "count": int(outside.sum()),
            }
        )
    if implausible:
        raise InputError(
            f"{codebook.path}: derived values outside the codebook's `derived:` ranges\n  "
            + "\n  ".join(implausible)
            + "\nCorrect the items they are derived from, or set "
            "`invalid: missing` under derived.<name> to count them as missing."
        )
    return out, pd.DataFrame(report)


def _implausible_line(name: str, source: str, values: pd.Series, plausible: Plausible) -> str:
    examples = ", ".join(_fmt(v) for v in values.drop_duplicates().head(5))
    return f"{name} (column {source}): {len(values)} values not {plausible.describe()} (e.g. {examples})"


def _check_unique(var: Variable, column: pd.Series, path) -> None:
    repeated = column[column.notna() & column.duplicated(keep=False)]
    if len(repeated):
        examples = ", ".join(_fmt(v) for v in repeated.drop_duplicates().head(5))
        raise InputError(
            f"{path}: {var.name} (column {var.source}) is declared unique, but {repeated.nunique()} "
            f"values repeat on {len(repeated)} rows (e.g. {examples}). Remove the duplicated "
            f"questionnaires from the file, or drop `unique: true` if repeats are expected."
        )


def _convert(values: pd.Series, var: Variable, path=""):
    """Typed column, mask of valid values, mask of undeclared codes."""
    present = values.notna()
    if var.type in ("id", "numeric"):
        return _number_column(values, var, path), present, pd.Series(False, index=values.index)
    known = values.isin(list(var.codes))
    mapped = values.map(var.codes)
    if var.type == "binary":
        column = mapped.astype("boolean")
    else:
        column = pd.Categorical(mapped.where(known), categories=var.levels)
    return column, present & known, present & ~known


def _number_column(values: pd.Series, var: Variable, path) -> pd.Series:
    """A numeric variable as float64 and an identifier as Int64 (or text, when the file stores
    it as text); text that is not a number, or a fractional identifier, stops ingestion."""
    if var.type == "id" and not pd.api.types.is_numeric_dtype(values):
        return values.astype("string")
    numbers = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_numeric_dtype(values) else values
    text = values.notna() & numbers.isna()
    if text.any():
        examples = ", ".join(repr(str(v)) for v in values[text].drop_duplicates().head(3))
        raise InputError(
            f"{path}: {var.name} (column {var.source}) is declared {var.type}, but {int(text.sum())} "
            f"values are not numbers (e.g. {examples}). Clean the column, declare its codes, or "
            f"declare the variable as categorical."
        )
    numbers = numbers.astype("float64")
    if var.type == "numeric":
        return numbers
    fractional = numbers.notna() & (numbers != np.floor(numbers))
    if fractional.any():
        examples = ", ".join(_fmt(v) for v in numbers[fractional].head(3))
        raise InputError(
            f"{path}: {var.name} (column {var.source}) is an identifier, but {int(fractional.sum())} "
            f"values are fractional (e.g. {examples}). Point `source:` at the identifier column."
        )
    return numbers.astype("Int64")


def _report_rows(var, values, special, valid, undeclared_mask, outside) -> list[dict]:
    base = {
        "variable": var.name,
        "source": var.source,
        "type": var.type,
        "n": len(values),
        "n_valid": int(valid.sum()),
        "n_missing": int(len(values) - valid.sum()),
    }
    rows = []
    if var.type in ("binary", "categorical"):
        counts = values[valid].value_counts()
        rows += [
            {**base, "code": _fmt(c), "meaning": str(m), "status": "valid", "count": int(counts.get(c, 0))}
            for c, m in var.codes.items()
        ]
    else:
        rows.append({**base, "code": "", "meaning": "(values)", "status": "valid", "count": int(valid.sum())})
    counts = values[special].value_counts()
    rows += [
        {**base, "code": _fmt(c), "meaning": str(m), "status": "missing", "count": int(counts.get(c, 0))}
        for c, m in var.missing.items()
    ]
    rows.append(
        {**base, "code": "", "meaning": "(system missing)", "status": "missing", "count": int(values.isna().sum())}
    )
    for c, n in values[undeclared_mask].value_counts().sort_index().items():
        rows.append({**base, "code": _fmt(c), "meaning": "", "status": "undeclared", "count": int(n)})
    if var.plausible:
        rows.append(
            {
                **base,
                "code": "",
                "meaning": f"outside {var.plausible.describe()}",
                "status": "outside_range",
                "count": int(outside.sum()),
            }
        )
    return rows


def _fmt(code) -> str:
    return (
        str(int(code))
        if isinstance(code, (int, float, np.integer, np.floating)) and float(code).is_integer()
        else str(code)
    )
