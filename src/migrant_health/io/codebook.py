"""Applying a codebook: raw codes -> canonical, typed variables, with a code count report."""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError

TYPES = ("id", "numeric", "binary", "categorical")


@dataclass(frozen=True)
class Variable:
    name: str
    source: str
    type: str
    codes: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    reference: str | None = None

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

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(v.source for v in self.variables.values()))


def load_codebook(path) -> Codebook:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: codebook not found. Write one (see README, 'Using the real survey').")
    doc = yaml.safe_load(path.read_text())
    variables = {}
    for name, spec in (doc.get("variables") or {}).items():
        where = f"{path}: variables.{name}"
        if "source" not in spec or spec.get("type") not in TYPES:
            raise InputError(f"{where}: needs `source:` and `type:` (one of {', '.join(TYPES)}).")
        if spec["type"] in ("binary", "categorical") and not spec.get("codes"):
            raise InputError(f"{where}: a {spec['type']} variable needs `codes:`.")
        if spec["type"] == "binary" and set(spec["codes"].values()) - {True, False}:
            raise InputError(f"{where}: binary codes must map to true or false.")
        ref = spec.get("reference")
        if ref is not None and ref not in spec.get("codes", {}).values():
            raise InputError(f"{where}: reference '{ref}' is not one of its levels "
                             f"{sorted(set(spec['codes'].values()), key=str)}.")
        variables[name] = Variable(name, spec["source"], spec["type"], spec.get("codes") or {},
                                   spec.get("missing") or {}, ref)
    return Codebook(path, doc.get("dataset", path.stem), doc.get("survey", {}), variables)


def apply_codebook(raw: pd.DataFrame, codebook: Codebook, undeclared: str = "error"):
    """Canonical frame and the per-code report. Undeclared codes stop, or become missing."""
    out, report, problems = {}, [], []
    for var in codebook.variables.values():
        values = raw[var.source]
        special = values.isin(list(var.missing))
        column, valid, undeclared_mask = _convert(values.where(~special), var)
        report += _report_rows(var, values, special, valid, undeclared_mask)
        if undeclared_mask.any():
            counts = values[undeclared_mask].value_counts().sort_index()
            problems += [f"{var.name} (column {var.source}): code {_fmt(c)} x {n}" for c, n in counts.items()]
        out[var.name] = column
    if problems and undeclared == "error":
        listing = "\n  ".join(problems)
        raise InputError(f"{codebook.path}: codes in the data that the codebook does not declare:\n  "
                         f"{listing}\nDeclare each under the variable's `codes:` (a level) or `missing:` "
                         f"(a special code), or set datasets.{codebook.dataset}.undeclared_codes: missing.")
    return pd.DataFrame(out, index=raw.index), pd.DataFrame(report)


def _convert(values: pd.Series, var: Variable):
    """Typed column, mask of valid values, mask of undeclared codes."""
    present = values.notna()
    if var.type in ("id", "numeric"):
        column = values.astype("Int64") if var.type == "id" else values.astype("float64")
        return column, present, pd.Series(False, index=values.index)
    known = values.isin(list(var.codes))
    mapped = values.map(var.codes)
    if var.type == "binary":
        column = mapped.astype("boolean")
    else:
        column = pd.Categorical(mapped.where(known), categories=var.levels)
    return column, present & known, present & ~known


def _report_rows(var, values, special, valid, undeclared_mask) -> list[dict]:
    base = {"variable": var.name, "source": var.source, "type": var.type, "n": len(values),
            "n_valid": int(valid.sum()), "n_missing": int(len(values) - valid.sum())}
    rows = []
    if var.type in ("binary", "categorical"):
        counts = values[valid].value_counts()
        rows += [{**base, "code": _fmt(c), "meaning": str(m), "status": "valid", "count": int(counts.get(c, 0))}
                 for c, m in var.codes.items()]
    else:
        rows.append({**base, "code": "", "meaning": "(values)", "status": "valid", "count": int(valid.sum())})
    counts = values[special].value_counts()
    rows += [{**base, "code": _fmt(c), "meaning": str(m), "status": "missing", "count": int(counts.get(c, 0))}
             for c, m in var.missing.items()]
    rows.append({**base, "code": "", "meaning": "(system missing)", "status": "missing",
                 "count": int(values.isna().sum())})
    for c, n in values[undeclared_mask].value_counts().sort_index().items():
        rows.append({**base, "code": _fmt(c), "meaning": "", "status": "undeclared", "count": int(n)})
    return rows


def _fmt(code) -> str:
    return str(int(code)) if isinstance(code, (int, float, np.integer, np.floating)) and float(code).is_integer() else str(code)
