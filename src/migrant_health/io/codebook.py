"""The codebook language: a YAML file that maps a release's items to the pipeline's canonical
variables, and its application to the raw file (typed canonical columns and a per-code report).

A codebook is data, not code: this module parses and checks it, and evaluates it with our own
functions (expressions through expressions.py/evaluation.py, never Python's eval). Its parts:

  survey: cmds              the survey, whose derivation set derive.py applies (not the dataset's name)
  wave: 2014                the wave (the `wave` variable of a pooled study)
  interview: {year: 2014, month: 5}   the interview date (age, durations)
  title: ...                free text
  items:                    the file's columns as drafted from it (`migrant-health codebook draft`):
    gender_1: {label: 性别, type: numeric, labels: {1: 男, 2: 女}, missing: {-1: 缺失}}
  variables:                canonical variable -> how it is formed (below)
  derived:                  plausible ranges of the variables derive.py computes

A variable comes from one item (`source:`), from several (`any_of:`, `all_of:`, `count:`,
`first_of:`, lists of items in which `name_{1..10}` stands for name_1 .. name_10) or from other
canonical variables (`compute:`, an expression). Its `type` is id, numeric, binary (codes map to
true/false), categorical (codes map to levels) or text. The other keys:

  codes       code -> level; a key `a..b` is an inclusive range of numeric codes
  else        the level of every other code (then no code is undeclared)
  missing     special codes (and `a..b` ranges) -> meaning; they become missing, counted per code
  reference   a categorical's base level
  range, invalid   plausible values of a number (min/max inclusive, above/below exclusive);
              outside them: stop (invalid: error) or missing and counted (invalid: missing)
  unique      an identifier may not repeat
  substring   {start: 1, length: 4}: part of a text item (1-based, as Stata's substr); with
              type numeric it must be a number
  labels      code -> the item's value label as drafted: ingestion stops when the file labels a
              code otherwise; `labels: ignore` turns the check off for this variable's items
  skip        {when: <expression>, value: <level>, meaning: <text>, answered: error|keep}: a
              skip pattern. Where `when` holds, the item was not asked: its missing value becomes
              `value`, counted apart as `skipped`; an answer recorded there stops ingestion
              (answered: keep keeps it, counted as `answered_though_skipped`)
  label       the variable's label (free text)

Several-item variables: any_of / all_of are binary, true when any / all of the items have a code
mapped to true (three-valued: missing when the answer depends on a missing item); count is the
number of items with a code mapped to true, or without `codes:` the number of filled items
(missing only when every item is missing); first_of takes, row by row, the first item that is
not missing and then reads it like a single item. `compute:` expressions read canonical
variables and `interview_year`/`interview_month`; arithmetic, comparisons and logic as in
filters (true/false count 1/0 in arithmetic).

An item's type, missing codes and labels are declared once under `items:` (a variable's own
`missing:` adds to them, and a code its `codes:` map is a level, not missing). One item may feed
several variables. A variable the codebook declares is taken as declared: the survey's
derivation of the same name does not run (derive.plan).

The code report (results/data/<dataset>_codebook.csv) counts per variable and code: valid codes
(`a..b` and `else` as written), missing codes, system-missing, undeclared codes, values outside
the range, and the not-asked of a skip pattern (`skipped`, apart from the missing: n = n_valid +
n_skipped + n_missing); schemas/codebook.schema.yaml documents every key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import derive, evaluation, expressions
from ..errors import InputError, closest
from .codebook_file import TODO, WAVE, check_header, read_document

TYPES = ("id", "numeric", "binary", "categorical", "text")
ORIGINS = ("source", "any_of", "all_of", "count", "first_of", "compute")
RANGE_KEYS = ("min", "max", "above", "below")
INVALID = ("error", "missing")
ANSWERED = ("error", "keep")
VARIABLE_KEYS = {
    *ORIGINS,
    "type",
    "codes",
    "else",
    "missing",
    "reference",
    "label",
    "labels",
    "range",
    "invalid",
    "unique",
    "substring",
    "skip",
}
ITEM_KEYS = {"label", "type", "labels", "missing"}
ITEM_TYPES = ("numeric", "string")
# Names an expression may read besides canonical variables (the codebook's interview date).
DATE_NAMES = ("interview_year", "interview_month")
RANGE_CODE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*$")
ITEM_RANGE = re.compile(r"^(.*)\{(\d+)\.\.(\d+)\}(.*)$")
NO_ELSE = object()


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
class CodeMap:
    """Codes -> values (levels, true/false or meanings): exact codes, inclusive ranges of
    numeric codes, and what every other code takes (`else`), in the order written."""

    exact: dict = field(default_factory=dict)
    ranges: tuple = ()  # ((low, high, value, key as written), ...)
    other: object = NO_ELSE
    keys: tuple = ()  # every key as written, in order: (key text, value)

    def __bool__(self) -> bool:
        return bool(self.exact or self.ranges or self.other is not NO_ELSE)

    def values(self) -> list:
        out = [value for _, value in self.keys]
        return out + ([self.other] if self.other is not NO_ELSE else [])

    def lookup(self, values: pd.Series) -> np.ndarray:
        """Each row's key (its position in `keys`, `else` last), -1 where no key applies or the
        value is missing: exact codes first, then ranges in the order written, then `else`."""
        n = len(values)
        out = np.full(n, -1, dtype=np.int64)
        position = {key: i for i, (key, _) in enumerate(self.keys)}
        numeric = pd.api.types.is_numeric_dtype(values)
        if self.exact:
            codes = list(self.exact)
            if numeric:
                codes = [c for c in codes if isinstance(c, (int, float))]
                found = _positions(
                    np.asarray(codes, dtype="float64"), values.to_numpy(dtype="float64", na_value=np.nan)
                )
            else:
                index = pd.Index([str(c) if not isinstance(c, str) else c for c in codes], dtype=object)
                found = index.get_indexer(values.astype(object).to_numpy())
            key_of = np.array([position[_fmt(c)] for c in codes] + [-1], dtype=np.int64)
            out = np.where(found >= 0, key_of[found], -1)
        if self.ranges:
            numbers = (values if numeric else pd.to_numeric(values, errors="coerce")).to_numpy(
                dtype="float64", na_value=np.nan
            )
            for low, high, _, key in self.ranges:
                inside = (out < 0) & (numbers >= low) & (numbers <= high)
                out[inside] = position[key]
        if self.other is not NO_ELSE:
            out[(out < 0) & values.notna().to_numpy()] = len(self.keys)
        return out

    def matches(self, values: pd.Series) -> pd.Series:
        """Rows whose code is declared."""
        return pd.Series(self.lookup(values) >= 0, index=values.index)

    def counts(self, values: pd.Series) -> list[tuple[str, object, int]]:
        """(key as written, value, count) of each key, and `else`."""
        keys = self.lookup(values)
        total = len(self.keys) + (self.other is not NO_ELSE)
        counts = np.bincount(keys[keys >= 0], minlength=total)
        out = [(key, value, int(counts[i])) for i, (key, value) in enumerate(self.keys)]
        if self.other is not NO_ELSE:
            out.append(("else", self.other, int(counts[-1])))
        return out


def _positions(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's position among `codes` (distinct numbers), -1 where it is none of them."""
    if not len(codes):
        return np.full(len(values), -1, dtype=np.int64)
    order = np.argsort(codes)
    ranked = codes[order]
    at = np.minimum(np.searchsorted(ranked, values), len(ranked) - 1)
    return np.where(ranked[at] == values, order[at], -1)


@dataclass(frozen=True)
class Skip:
    when: str
    value: object
    meaning: str
    answered: str = "error"


@dataclass(frozen=True)
class Item:
    """A column of the file as the codebook records it (drafted from the file's metadata)."""

    name: str
    label: str = ""
    type: str | None = None  # numeric | string
    labels: object = None  # {code: label}, "ignore" or None
    missing: CodeMap = field(default_factory=CodeMap)


@dataclass(frozen=True)
class Variable:
    name: str
    source: str | None
    type: str
    codes: dict = field(default_factory=dict)  # exact codes -> levels (ranges and else in code_map)
    missing: dict = field(default_factory=dict)  # exact special codes -> meaning (ranges in missing_map)
    reference: str | None = None
    plausible: Plausible | None = None
    unique: bool = False
    origin: str = "source"  # one of ORIGINS
    items: tuple = ()  # the file's columns it reads
    code_map: CodeMap = field(default_factory=CodeMap)
    missing_map: CodeMap = field(default_factory=CodeMap)
    substring: tuple | None = None  # (start, length), 1-based
    labels: object = None  # {code: label}, "ignore" or None
    expression: expressions.Expression | None = None
    skip: Skip | None = None
    skip_expression: expressions.Expression | None = None
    label: str = ""

    @property
    def levels(self) -> list:
        """Levels in codebook order (duplicates folded), the reference first."""
        levels = list(dict.fromkeys(self.code_map.values() if self.code_map else self.codes.values()))
        if self.reference is not None:
            levels.remove(self.reference)
            levels.insert(0, self.reference)
        return levels

    @property
    def depends(self) -> tuple[str, ...]:
        """The canonical variables it reads (a `compute:` expression, a skip's `when`)."""
        names = list(self.expression.variables if self.expression else ())
        names += list(self.skip_expression.variables if self.skip_expression else ())
        return tuple(n for n in dict.fromkeys(names) if n not in DATE_NAMES)

    @property
    def describe_source(self) -> str:
        if self.origin == "source":
            return self.source
        if self.origin == "compute":
            return f"compute: {self.expression.text}"
        return f"{self.origin}: {', '.join(self.items)}"


@dataclass(frozen=True)
class Codebook:
    path: Path
    survey: str
    wave: object
    interview: dict
    variables: dict
    derived: dict = field(default_factory=dict)  # derived variable -> Plausible
    items: dict = field(default_factory=dict)  # item -> Item
    title: str = ""

    @property
    def sources(self) -> list[str]:
        """The file's columns the variables read, each once, in codebook order."""
        return list(dict.fromkeys(item for v in self.variables.values() for item in v.items))

    @property
    def wave_label(self) -> str:
        return str(self.wave)


def load_codebook(path) -> Codebook:
    path = Path(path)
    doc = read_document(path)
    survey, wave, interview = check_header(doc, path)
    items = {name: _item(name, spec, f"{path}: items.{name}") for name, spec in (doc.get("items") or {}).items()}
    if WAVE in doc["variables"]:
        raise InputError(f"{path}: variables.{WAVE}: `{WAVE}` is filled from the codebook's `wave:`; rename it.")
    variables = {name: _variable(name, spec, f"{path}: variables.{name}") for name, spec in doc["variables"].items()}
    derived = {name: _plausible(spec, f"{path}: derived.{name}") for name, spec in (doc.get("derived") or {}).items()}
    book = Codebook(path, survey, wave, interview, variables, derived, items, str(doc.get("title", "")))
    evaluation_order(book)  # unknown names and cycles stop here
    return book


# -- parsing ---------------------------------------------------------------------------------


def _item(name: str, spec, where: str) -> Item:
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        raise InputError(f"{where}: an item is a mapping (label, type, labels, missing).")
    unknown = set(spec) - ITEM_KEYS
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(ITEM_KEYS))}.")
    if spec.get("type") is not None and spec["type"] not in ITEM_TYPES:
        raise InputError(f"{where}: type '{spec['type']}' is not one of {', '.join(ITEM_TYPES)}.")
    return Item(
        name,
        str(spec.get("label") or ""),
        spec.get("type"),
        _labels(spec.get("labels"), where),
        _code_map(spec.get("missing") or {}, None, where + ".missing"),
    )


def _labels(labels, where: str):
    if labels is None or labels == "ignore":
        return labels
    if not isinstance(labels, dict):
        raise InputError(f"{where}: labels: code -> value label as drafted, or `ignore`.")
    return {_label_key(_code_key(code, where + ".labels")): str(text) for code, text in labels.items()}


def _label_key(code):
    """A labelled code as compared with the file's: a number written as text ('1') is the number."""
    if isinstance(code, str):
        try:
            number = float(code)
        except ValueError:
            return code
        return int(number) if number.is_integer() else number
    return code


def _code_key(code, where: str):
    """A code as written: a number, a text code, or a range `low..high` -> (low, high)."""
    if isinstance(code, bool):
        raise InputError(
            f"{where}: code {code!r} reads as true/false in YAML; quote it ('yes', 'no') or write the number."
        )
    if isinstance(code, str):
        found = RANGE_CODE.match(code)
        if found:
            low, high = float(found.group(1)), float(found.group(2))
            if low > high:
                raise InputError(f"{where}: range '{code}' runs backwards; write low..high.")
            return (low, high)
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code


def _code_map(codes: dict, kind: str | None, where: str, other=NO_ELSE) -> CodeMap:
    if not isinstance(codes, dict):
        raise InputError(f"{where}: codes are a mapping, code (or low..high) -> value.")
    exact, ranges, keys = {}, [], []
    for key, value in codes.items():
        if kind == "binary" and not isinstance(value, bool):
            raise InputError(f"{where}: binary codes must map to true or false (code {key}: {value!r}).")
        code = _code_key(key, where)
        if isinstance(code, tuple):
            ranges.append((code[0], code[1], value, str(key).replace(" ", "")))
            keys.append((str(key).replace(" ", ""), value))
        else:
            exact[code] = value
            keys.append((_fmt(code), value))
    return CodeMap(exact, tuple(ranges), other, tuple(keys))


def expand_items(items, where: str) -> tuple[str, ...]:
    """A list of items, `name_{1..10}` standing for name_1 .. name_10."""
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise InputError(f'{where}: a list of items, e.g. [ins_ncms, ins_urbmi] or ["gender_{{1..10}}"].')
    out = []
    for item in items:
        found = ITEM_RANGE.match(item)
        if found:
            first, last = int(found.group(2)), int(found.group(3))
            if first > last:
                raise InputError(f"{where}: '{item}' counts backwards; write {{low..high}}.")
            out += [f"{found.group(1)}{k}{found.group(4)}" for k in range(first, last + 1)]
        else:
            out.append(item)
    return tuple(dict.fromkeys(out))


def _variable(name: str, spec, where: str) -> Variable:
    if not isinstance(spec, dict):
        raise InputError(f"{where}: a variable is a mapping (source:, type:, codes: ...).")
    unknown = set(spec) - VARIABLE_KEYS
    if unknown:
        hint = "; ".join(f"'{k}'{closest(str(k), VARIABLE_KEYS)}" for k in sorted(unknown, key=str))
        raise InputError(
            f"{where}: unknown keys {sorted(unknown, key=str)} ({hint}); allowed: {', '.join(sorted(VARIABLE_KEYS))}."
        )
    origins = [k for k in ORIGINS if k in spec]
    if len(origins) != 1:
        raise InputError(
            f"{where}: needs exactly one of `source:` (an item of the file), `any_of:`/`all_of:`/`count:`/"
            f"`first_of:` (several items) or `compute:` (an expression over canonical variables)"
            + (f"; it has {', '.join(origins)}." if origins else ".")
        )
    origin = origins[0]
    if spec[origin] in (None, TODO):
        raise InputError(
            f"{where}: still a draft ({origin}: {spec[origin]!r}). Map it to the file's item(s) and codes "
            f"(README, 'Using the real survey'), or remove it if no configured study needs it."
        )
    kind = spec.get("type", {"any_of": "binary", "all_of": "binary", "count": "numeric"}.get(origin))
    if kind not in TYPES:
        raise InputError(f"{where}: needs `type:` (one of {', '.join(TYPES)}).")
    implied = {"any_of": ("binary",), "all_of": ("binary",), "count": ("numeric",), "compute": TYPES[1:]}
    if origin in implied and kind not in implied[origin]:
        raise InputError(f"{where}: {origin} gives a {' or '.join(implied[origin])} variable, not {kind}.")
    code_kind = "binary" if origin in ("any_of", "all_of", "count") else kind
    other = spec.get("else", NO_ELSE)
    if "else" in spec and code_kind not in ("binary", "categorical"):
        raise InputError(f"{where}: `else` applies to binary and categorical variables (this one is {kind}).")
    if code_kind == "binary" and other is not NO_ELSE and not isinstance(other, bool):
        raise InputError(f"{where}: else: a binary variable's codes map to true or false.")
    code_map = _code_map(spec.get("codes") or {}, code_kind, where + ".codes", other)
    if "codes" in spec and (kind in ("id", "numeric", "text") and origin != "count" or origin == "compute"):
        raise InputError(f"{where}: `codes` apply to binary and categorical variables read from items.")
    if origin in ("any_of", "all_of") and not code_map:
        raise InputError(f"{where}: {origin} needs `codes:` saying which codes are true and which false.")
    if origin not in ("compute", "count") and kind in ("binary", "categorical") and not code_map:
        raise InputError(f"{where}: a {kind} variable needs `codes:` (or `else:`).")
    ref = spec.get("reference")
    if ref is not None and ref not in code_map.values():
        raise InputError(
            f"{where}: reference '{ref}' is not one of its levels {sorted(set(code_map.values()), key=str)}."
        )
    numeric = kind == "numeric"
    if ("range" in spec or "invalid" in spec) and not numeric:
        raise InputError(f"{where}: `range`/`invalid` apply to numeric variables (this one is {kind}).")
    if spec.get("unique") and kind != "id":
        raise InputError(f"{where}: `unique` applies to identifiers (type: id).")
    if "missing" in spec and origin == "compute":
        raise InputError(
            f"{where}: `missing` codes apply to items; a computed variable is missing where its inputs are."
        )
    missing_map = _code_map(spec.get("missing") or {}, None, where + ".missing")
    substring = _substring(spec.get("substring"), origin, where) if "substring" in spec else None
    expression = None
    if origin == "compute":
        expression = expressions.parse(str(spec["compute"]), f"{where}.compute", "codebook expression")
        item_names = ()
    elif origin == "source":
        if not isinstance(spec["source"], str):
            raise InputError(f"{where}: source: the name of one item of the file.")
        item_names = (spec["source"],)
    else:
        item_names = expand_items(spec[origin], f"{where}.{origin}")
    skip, skip_expression = _skip(spec["skip"], kind, code_map, where) if "skip" in spec else (None, None)
    if skip and origin == "compute":
        raise InputError(f"{where}: `skip` applies to items (a computed variable is missing where its inputs are).")
    return Variable(
        name=name,
        source=spec["source"] if origin == "source" else None,
        type=kind,
        codes=dict(code_map.exact),
        missing=dict(missing_map.exact),
        reference=ref,
        plausible=_plausible(spec, where) if "range" in spec else None,
        unique=bool(spec.get("unique", False)),
        origin=origin,
        items=item_names,
        code_map=code_map,
        missing_map=missing_map,
        substring=substring,
        labels=_labels(spec.get("labels"), where),
        expression=expression,
        skip=skip,
        skip_expression=skip_expression,
        label=str(spec.get("label") or ""),
    )


def _substring(spec, origin: str, where: str):
    if origin not in ("source", "first_of"):
        raise InputError(f"{where}: `substring` applies to a text item (source:).")
    if (
        not isinstance(spec, dict)
        or set(spec) != {"start", "length"}
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in spec.values())
    ):
        raise InputError(
            f"{where}: substring: {{start: 1, length: 4}} (characters, 1-based as Stata's substr; "
            f"e.g. the city code that opens a sample-point code)."
        )
    return spec["start"], spec["length"]


def _skip(spec, kind: str, code_map: CodeMap, where: str):
    at = f"{where}.skip"
    if (
        not isinstance(spec, dict)
        or not {"when", "value"} <= set(spec)
        or set(spec)
        - {
            "when",
            "value",
            "meaning",
            "answered",
        }
    ):
        raise InputError(
            f"{at}: {{when: <expression>, value: <value>, meaning: <text>, answered: error|keep}}, e.g. "
            f"{{when: \"health_2w == 'well'\", value: false, meaning: not asked (not ill): no visit}}."
        )
    value = spec["value"]
    if kind == "binary" and not isinstance(value, bool):
        raise InputError(f"{at}.value: a binary variable's value is true or false.")
    if kind == "categorical" and value not in code_map.values():
        raise InputError(f"{at}.value: '{value}' is not one of its levels {sorted(set(code_map.values()), key=str)}.")
    if kind in ("numeric",) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InputError(f"{at}.value: a numeric variable's value is a number.")
    if kind in ("id", "text"):
        raise InputError(f"{at}: skip patterns apply to binary, categorical and numeric variables.")
    answered = spec.get("answered", "error")
    if answered not in ANSWERED:
        raise InputError(f"{at}.answered: '{answered}' is not one of {', '.join(ANSWERED)}.")
    expression = expressions.parse(str(spec["when"]), f"{at}.when", "codebook expression")
    meaning = str(spec.get("meaning") or f"not asked ({spec['when']})")
    return Skip(str(spec["when"]), value, meaning, answered), expression


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


def evaluation_order(book: Codebook) -> list[Variable]:
    """Variables in an order where each comes after those its expressions read; unknown names
    and cycles stop with the variable and the fix."""
    order, state = [], {}

    def visit(var: Variable, path: list[str]) -> None:
        if state.get(var.name) == "done":
            return
        if state.get(var.name) == "open":
            cycle = path[path.index(var.name) :] + [var.name]
            raise InputError(f"{book.path}: variables read one another in a circle: {' -> '.join(cycle)}.")
        state[var.name] = "open"
        for name in var.depends:
            if name not in book.variables:
                derived = [d.name for d in derive.SURVEYS.get(book.survey, ())]
                hint = (
                    f" ('{name}' is derived by survey {book.survey} after the codebook is applied: "
                    f"compute it in the codebook from its items instead)"
                    if name in derived
                    else closest(name, book.variables)
                )
                raise InputError(
                    f"{book.path}: variables.{var.name} reads '{name}', which the codebook does not declare{hint}."
                )
            visit(book.variables[name], path + [var.name])
        state[var.name] = "done"
        order.append(var)

    for var in book.variables.values():
        visit(var, [])
    return order


# -- applying --------------------------------------------------------------------------------


REPORT_COLUMNS = [
    "wave",
    "variable",
    "source",
    "type",
    "n",
    "n_valid",
    "n_skipped",
    "n_missing",
    "code",
    "meaning",
    "status",
    "count",
]


def apply_codebook(raw: pd.DataFrame, codebook: Codebook, undeclared: str = "error", dataset: str = "<name>"):
    """Canonical frame and the per-code report. Undeclared codes stop, or become missing;
    implausible values stop, or become missing, as each variable declares."""
    out, reports, undeclared_lines, implausible = {}, {}, [], []
    for var in evaluation_order(codebook):
        column, rows, undeclared_found, outside = _variable_column(var, raw, codebook, out)
        reports[var.name] = rows
        undeclared_lines += undeclared_found
        implausible += outside
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
            f"{listing}\nDeclare each under the variable's `codes:` (a level, or a range low..high), `missing:` "
            f"(a special code) or `else:`, or set datasets.{dataset}.undeclared_codes: missing."
        )
    rows = [row for name in codebook.variables for row in reports[name]]
    frame = pd.DataFrame({name: out[name] for name in codebook.variables}, index=raw.index)
    return frame, report_frame(rows, codebook)


def report_frame(rows: list[dict], codebook: Codebook) -> pd.DataFrame:
    return pd.DataFrame([{"wave": codebook.wave_label, **row} for row in rows], columns=REPORT_COLUMNS)


def _variable_column(var: Variable, raw: pd.DataFrame, book: Codebook, done: dict):
    """(column, report rows, undeclared lines, implausible lines) of one variable."""
    if var.origin == "compute":
        return _computed(var, raw.index, book, done)
    if var.origin in ("source", "first_of"):
        values = _first_filled([_raw_values(var, raw[item], book) for item in var.items], var, book)
        column, valid, undeclared_mask, special = _convert(values, var, book)
        source = var.describe_source if var.origin == "first_of" else var.source
        undeclared = _undeclared_lines(var, source, values, undeclared_mask)
        per_item = [(source, values, special, undeclared_mask, _item_missing(var.items, book))]
    else:
        per_item, columns, undeclared = [], [], []
        for item in var.items:
            values = _raw_values(var, raw[item], book)
            mapped, valid_item, undeclared_mask, special = _convert(values, var, book, as_binary=True)
            if var.origin == "count" and not var.code_map:
                mapped = (
                    pd.Series(values.notna() & ~special, index=values.index)
                    .astype("boolean")
                    .mask(~(values.notna() & ~special))
                )
            columns.append(mapped)
            per_item.append((item, values, special, undeclared_mask, _item_missing([item], book)))
            undeclared += _undeclared_lines(var, item, values, undeclared_mask)
        column = _combine(var.origin, columns, raw.index)
        valid = column.notna()
    outside = pd.Series(False, index=raw.index)
    implausible = []
    if var.plausible:
        outside = var.plausible.outside(column)
        if outside.any() and var.plausible.invalid == "error":
            implausible.append(_implausible_line(var.name, var.describe_source, column[outside], var.plausible))
        column, valid = column.mask(outside), valid & ~outside
    skipped, answered = pd.Series(False, index=raw.index), pd.Series(False, index=raw.index)
    if var.skip:
        column, skipped, answered = _apply_skip(var, column, raw.index, book, done)
        valid = valid & ~skipped
    if var.unique:
        _check_unique(var, column, book.path)
    rows = _report_rows(var, per_item, column, valid, skipped, answered, outside)
    return column, rows, undeclared, implausible


def _item_missing(items, book: Codebook) -> list:
    """The missing codes the codebook's `items:` declare for these items."""
    return [book.items[i].missing for i in items if i in book.items and book.items[i].missing]


def _raw_values(var: Variable, values: pd.Series, book: Codebook) -> pd.Series:
    """An item's values as stored, text trimmed (empty text is missing), a substring taken."""
    if not pd.api.types.is_numeric_dtype(values):
        text = values.astype("string").str.strip()
        if var.substring:
            start, length = var.substring
            text = text.str.slice(start - 1, start - 1 + length)
        return text.mask(text == "")
    if var.substring:
        raise InputError(
            f"{book.path}: variables.{var.name}: substring applies to text items, but {values.name} holds numbers."
        )
    return values


def _first_filled(columns: list[pd.Series], var: Variable, book: Codebook) -> pd.Series:
    """Row by row, the first item holding neither nothing nor a special code (else the first
    item's value, so that its special code is counted)."""
    if len(columns) == 1:
        return columns[0]
    out = columns[0].copy()
    usable = out.notna() & ~_special(out, var, book)
    for column in columns[1:]:
        take = ~usable & column.notna() & ~_special(column, var, book)
        out = out.where(~take, column)
        usable |= take
    return out


def _special(values: pd.Series, var: Variable, book: Codebook) -> pd.Series:
    """Rows holding a special code: the variable's `missing:` and its items' (not codes it maps)."""
    special = np.zeros(len(values), dtype=bool)
    maps = [var.missing_map] + [book.items[i].missing for i in var.items if i in book.items]
    for code_map in maps:
        if code_map:
            special |= code_map.lookup(values) >= 0
    if var.code_map and any(book.items.get(i) and book.items[i].missing for i in var.items):
        special &= CodeMap(var.code_map.exact, var.code_map.ranges, NO_ELSE, var.code_map.keys).lookup(values) < 0
    return pd.Series(special, index=values.index)


def _convert(values: pd.Series, var: Variable, book: Codebook, as_binary: bool = False):
    """(typed column, mask of valid values, mask of undeclared codes, mask of special codes)."""
    special = _special(values, var, book)
    kept = values.where(~special)
    present = kept.notna()
    kind = "binary" if as_binary else var.type
    if kind in ("id", "numeric", "text") and not (as_binary and var.code_map):
        column = _text_column(kept) if kind == "text" else _number_column(kept, var, book.path)
        return column, present, pd.Series(False, index=values.index), special
    if not var.code_map:  # count of filled items
        return present.astype("boolean"), present, pd.Series(False, index=values.index), special
    keys = var.code_map.lookup(kept)
    known = pd.Series(keys >= 0, index=values.index)
    mapped = var.code_map.values()
    if kind == "binary":
        truth = np.array([bool(v) for v in mapped] + [False])[keys]
        column = pd.Series(pd.arrays.BooleanArray(truth, keys < 0), index=values.index)
    else:
        levels = var.levels
        level_of = np.array([levels.index(v) for v in mapped] + [-1], dtype=np.int64)
        column = pd.Categorical.from_codes(level_of[keys], categories=levels)
    return column, present & known, present & ~known, special


def _combine(origin: str, columns: list, index) -> pd.Series:
    frame = pd.concat([pd.Series(c, index=index).astype("boolean") for c in columns], axis=1)
    true = frame.fillna(False).astype(bool)
    observed = frame.notna()
    if origin == "any_of":
        anyone = true.any(axis=1)
        return anyone.astype("boolean").mask(~anyone & ~observed.all(axis=1))
    if origin == "all_of":
        false = (~true & observed).any(axis=1)
        return (~false).astype("boolean").mask(~false & ~observed.all(axis=1))
    count = true.sum(axis=1).astype("float64")
    return count.mask(~observed.any(axis=1))


def _computed(var: Variable, index, book: Codebook, done: dict):
    frame = pd.DataFrame({name: done[name] for name in var.expression.variables if name in done}, index=index)
    for name, value in zip(DATE_NAMES, (book.interview["year"], book.interview["month"])):
        if name in var.expression.variables:
            frame[name] = float(value)
    if frame.shape[1] == 0:
        frame = pd.DataFrame(index=index)
    column = evaluation.values(
        frame, var.expression, f"{book.path}: variables.{var.name}.compute", "codebook expression"
    )
    wanted = {"numeric": "float64", "binary": "boolean", "text": "string", "categorical": "string"}[var.type]
    kinds = {"float64": "a number", "boolean": "true/false", "string": "text"}
    if str(column.dtype) != wanted:
        raise InputError(
            f"{book.path}: variables.{var.name}: compute gives {kinds[str(column.dtype)]}, but the variable is "
            f"declared {var.type}. Declare its type as the expression gives it."
        )
    if var.type == "categorical":
        column = pd.Categorical(column.astype(object).where(column.notna()))
    outside = pd.Series(False, index=index)
    implausible = []
    if var.plausible:
        outside = var.plausible.outside(column)
        if outside.any() and var.plausible.invalid == "error":
            implausible.append(_implausible_line(var.name, var.describe_source, column[outside], var.plausible))
        column = column.mask(outside)
    valid = pd.Series(column, index=index).notna()
    none = pd.Series(False, index=index)
    rows = _report_rows(var, [], column, valid, none, none, outside)
    return column, rows, [], implausible


def _apply_skip(var: Variable, column, index, book: Codebook, done: dict):
    where = f"{book.path}: variables.{var.name}.skip.when"
    frame = pd.DataFrame({name: done[name] for name in var.skip_expression.variables if name in done}, index=index)
    for name, value in zip(DATE_NAMES, (book.interview["year"], book.interview["month"])):
        if name in var.skip_expression.variables:
            frame[name] = float(value)
    not_asked = evaluation.indicator(frame, var.skip_expression, where)
    series = pd.Series(column, index=index)
    answered = not_asked & series.notna()
    if answered.any() and var.skip.answered == "error":
        examples = ", ".join(str(v) for v in series[answered].astype(object).drop_duplicates().head(3))
        raise InputError(
            f"{book.path}: variables.{var.name}: the skip pattern says rows where `{var.skip.when}` were not "
            f"asked, but {int(answered.sum())} of them hold an answer (e.g. {examples}). Check `when:`, or set "
            f"skip.answered: keep to keep those answers (counted in the codebook report)."
        )
    skipped = not_asked & series.isna()
    if var.type == "categorical":
        filled = series.astype(object).where(~skipped, var.skip.value)
        out = pd.Categorical(filled.where(filled.notna()), categories=series.cat.categories)
    elif var.type == "binary":
        out = series.astype("boolean").mask(skipped, var.skip.value)
    else:
        out = series.astype("float64").mask(skipped, float(var.skip.value))
    return out, skipped, answered


def _undeclared_lines(var: Variable, source: str, values: pd.Series, mask: pd.Series) -> list[str]:
    if not mask.any():
        return []
    counts = values[mask].value_counts().sort_index()
    return [f"{var.name} (column {source}): code {_fmt(c)} x {n}" for c, n in counts.items()]


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
                "n_skipped": 0,
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
    return out, report_frame(report, codebook)


def derivation_report(plan, n: int, codebook: Codebook) -> pd.DataFrame:
    """Rows for the survey's derivations that did not run: declared by the codebook itself, or
    lacking inputs (a study that needs one stops before any job; see requirements.py)."""
    rows = [
        {
            "variable": name,
            "source": f"(derivation of survey {codebook.survey})",
            "type": "",
            "n": n,
            "n_valid": 0,
            "n_skipped": 0,
            "n_missing": 0,
            "code": "",
            "meaning": "declared in the codebook: its declaration is used, not the derivation",
            "status": "declared",
            "count": 0,
        }
        for name in plan.declared
    ]
    rows += [
        {
            "variable": name,
            "source": f"(derivation of survey {codebook.survey})",
            "type": "",
            "n": n,
            "n_valid": 0,
            "n_skipped": 0,
            "n_missing": n,
            "code": "",
            "meaning": f"not derived: the codebook does not provide {', '.join(missing)}",
            "status": "not_derived",
            "count": n,
        }
        for name, missing in plan.lacking.items()
    ]
    return report_frame(rows, codebook)


def check_labels(codebook: Codebook, file_labels: dict, path) -> None:
    """The file's value labels against the labels the codebook recorded as drafted; a contradiction
    (a code the file labels otherwise) stops ingestion, unless `labels: ignore` on the variable."""
    ignored = {i for v in codebook.variables.values() if v.labels == "ignore" for i in v.items}
    expected = []  # (where, item, {code: label})
    for item in codebook.items.values():
        if isinstance(item.labels, dict) and item.name not in ignored:
            expected.append((f"items.{item.name}", item.name, item.labels))
    for var in codebook.variables.values():
        if isinstance(var.labels, dict):
            expected += [(f"variables.{var.name}", item, var.labels) for item in var.items]
    lines = []
    for where, item, labels in expected:
        found = {_label_key(_number_or_text(code)): str(text) for code, text in file_labels.get(item, {}).items()}
        for code, text in labels.items():
            if isinstance(code, tuple) or code not in found:
                continue
            if _norm(found[code]) != _norm(text):
                lines.append(
                    f"{where} (column {item}): code {_fmt(code)}: the file says '{found[code]}', the codebook '{text}'"
                )
    if lines:
        raise InputError(
            f"{path}: its value labels contradict the codebook {codebook.path}:\n  "
            + "\n  ".join(lines)
            + "\nThe codes may mean something else in this file (another wave or release?): correct the "
            "variable's codes and its labels. If only the wording differs, set `labels: ignore` on the variable."
        )


def _number_or_text(code):
    if isinstance(code, str):
        return code
    number = float(code)
    return int(number) if number.is_integer() else number


def _norm(text: str) -> str:
    return " ".join(str(text).split())


def _implausible_line(name: str, source: str, values: pd.Series, plausible: Plausible) -> str:
    examples = ", ".join(_fmt(v) for v in pd.Series(values).drop_duplicates().head(5))
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


def _text_column(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return (
            values.astype(object)
            .where(values.notna(), None)
            .map(lambda v: v if v is None else _fmt(v))
            .astype("string")
        )
    return values.astype("string")


def _number_column(values: pd.Series, var: Variable, path) -> pd.Series:
    """A numeric variable as float64 and an identifier as Int64 (or text, when the file stores
    it as text); text that is not a number, or a fractional identifier, stops ingestion."""
    if var.type == "id" and not pd.api.types.is_numeric_dtype(values):
        return _text_column(values)
    numbers = pd.to_numeric(values, errors="coerce") if not pd.api.types.is_numeric_dtype(values) else values
    text = values.notna() & numbers.isna()
    if text.any():
        examples = ", ".join(repr(str(v)) for v in values[text].drop_duplicates().head(3))
        raise InputError(
            f"{path}: {var.name} (column {var.describe_source}) is declared {var.type}, but {int(text.sum())} "
            f"values are not numbers (e.g. {examples}). Clean the column, declare its codes, or "
            f"declare the variable as categorical, text or (an identifier) id."
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


def _summary_row(base: dict, meaning: str, status: str, mask) -> dict:
    """A report row counting the rows of `mask` (no code: computed values, a skip, an answer despite it, a range)."""
    return {**base, "code": "", "meaning": meaning, "status": status, "count": int(mask.sum())}


def _report_rows(var, per_item, column, valid, skipped, answered, outside) -> list[dict]:
    n = len(valid)
    base = {
        "variable": var.name,
        "source": var.describe_source,
        "type": var.type,
        "n": n,
        "n_valid": int(valid.sum()),
        "n_skipped": int(skipped.sum()),
        "n_missing": int(pd.Series(column).isna().sum()),
    }
    if var.origin == "source" and not var.skip:
        # As before skip patterns existed: valid + missing = n.
        base["n_missing"] = int(n - valid.sum())
    rows = []
    for source, values, special, undeclared_mask, item_missing in per_item:
        at = {**base, "source": source}
        kept = values.where(~special)
        if var.code_map:
            for key, meaning, count in var.code_map.counts(kept[~undeclared_mask]):
                rows.append({**at, "code": key, "meaning": str(meaning), "status": "valid", "count": count})
        else:
            filled = int((values.notna() & ~special).sum()) if var.origin != "source" else int(valid.sum())
            rows.append({**at, "code": "", "meaning": "(values)", "status": "valid", "count": filled})
        missing_maps = [var.missing_map]
        for key, meaning, count in (m for code_map in missing_maps if code_map for m in code_map.counts(values)):
            rows.append({**at, "code": key, "meaning": str(meaning), "status": "missing", "count": count})
        rows.append(
            {**at, "code": "", "meaning": "(system missing)", "status": "missing", "count": int(values.isna().sum())}
        )
        own = var.missing_map.matches(values) if var.missing_map else pd.Series(False, index=values.index)
        for code_map in item_missing:  # the items' own special codes, as `items:` declares them
            for key, meaning, count in code_map.counts(values.where(special & ~own)):
                if count:
                    rows.append({**at, "code": key, "meaning": str(meaning), "status": "missing", "count": count})
        for c, k in values[undeclared_mask].value_counts().sort_index().items():
            rows.append({**at, "code": _fmt(c), "meaning": "", "status": "undeclared", "count": int(k)})
    if var.origin == "compute":
        rows.append(_summary_row(base, "(values)", "valid", valid))
    if var.skip:
        rows.append(_summary_row(base, f"{var.skip.meaning}: {var.skip.value}", "skipped", skipped))
        if var.skip.answered == "keep":
            rows.append(_summary_row(base, f"answered though `{var.skip.when}`", "answered_though_skipped", answered))
    if var.plausible:
        rows.append(_summary_row(base, f"outside {var.plausible.describe()}", "outside_range", outside))
    return rows


def _fmt(code) -> str:
    return (
        str(int(code))
        if isinstance(code, (int, float, np.integer, np.floating)) and float(code).is_integer()
        else str(code)
    )
