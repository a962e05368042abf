"""Design matrices that know their variables, as Stata's factor-variable notation does.

A covariate is one of
  * "age"                                   continuous (Stata: c.age)
  * {polynomial: age, degree: 2}            age and age^2 as ONE term (c.age##c.age): the
                                            marginal effect of age includes the squared part
  * {factor: migration_scope, reference: within_city}
                                            indicators of the other levels (ib(within_city).migration_scope)
  * {interaction: [a, b, ...]}              the product columns of its parts (Stata's `#`), each part a
                                            variable name (continuous) or {factor: x, reference: r}
                                            (every non-reference level; factor x factor gives every
                                            cell). Main effects are listed as usual, so Stata's
                                            c.hp##c.wt is [hp, wt, {interaction: [hp, wt]}].
A generated column such as age2 is simply another continuous covariate and gets its own
effect, as seed 001's Table 3 reports it.

A variable may enter several terms (its main effect and interactions). Each term knows its
columns as a function of the variables' values, their derivative with respect to any of its
continuous variables, and so the columns with a variable set to a value: marginal effects
patch the columns a variable enters instead of rebuilding the whole matrix.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, closest

INTERCEPT = "_cons"


@dataclass(frozen=True)
class Continuous:
    variable: str
    degree: int = 1

    @property
    def variables(self) -> tuple[str, ...]:
        return (self.variable,)

    def names(self) -> list[str]:
        return [self.variable if p == 1 else f"{self.variable}^{p}" for p in range(1, self.degree + 1)]

    def columns(self, values: dict) -> np.ndarray:
        x = values[self.variable]
        return np.column_stack([x**p for p in range(1, self.degree + 1)])

    def derivative(self, values: dict, variable: str) -> np.ndarray:
        """d(columns)/dx: 1, 2x, 3x^2, ..."""
        x = values[self.variable]
        return np.column_stack([p * x ** (p - 1) for p in range(1, self.degree + 1)])


@dataclass(frozen=True)
class Factor:
    variable: str
    reference: str
    levels: tuple = ()

    @property
    def variables(self) -> tuple[str, ...]:
        return (self.variable,)

    def names(self) -> list[str]:
        return [f"{self.variable}={level}" for level in self.others()]

    def others(self) -> list:
        return [level for level in self.levels if level != self.reference]

    def indicators(self, x) -> np.ndarray:
        values = np.asarray(x, dtype=object)
        others = self.others()
        if values.ndim == 0 or len(values) == 1:  # one value for every row (a scenario)
            return np.array([[float(values.reshape(-1)[0] == level) for level in others]])
        out = np.empty((len(values), len(others)))
        for j, level in enumerate(others):
            out[:, j] = _indicator(x, level)
        return out

    def columns(self, values: dict) -> np.ndarray:
        return self.indicators(values[self.variable])


@dataclass(frozen=True)
class Interaction:
    """The product of its parts' columns (Stata's a#b): continuous parts enter as themselves,
    factor parts by their non-reference indicators, every combination of levels its column."""

    parts: tuple  # Continuous (degree 1) and Factor terms

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.variable for p in self.parts))

    @property
    def has_factor(self) -> bool:
        return any(isinstance(p, Factor) for p in self.parts)

    def _cells(self) -> list[tuple]:
        """Each column's level of every factor part (None for a continuous part)."""
        choices = [p.others() if isinstance(p, Factor) else [None] for p in self.parts]
        return list(itertools.product(*choices))

    def names(self) -> list[str]:
        """Stata's labels: hp#wt when all parts are continuous, 1.urban#c.age with a factor."""
        out = []
        for cell in self._cells():
            pieces = []
            for p, level in zip(self.parts, cell):
                if isinstance(p, Factor):
                    pieces.append(f"{level}.{p.variable}")
                else:
                    pieces.append(f"c.{p.variable}" if self.has_factor else p.variable)
            out.append("#".join(pieces))
        return out

    def reference(self) -> str:
        """The base levels of its factor parts, as Stata's b. notation ('' when all continuous)."""
        return "#".join(f"{p.reference}b.{p.variable}" for p in self.parts if isinstance(p, Factor))

    def _part_column(self, part, level, values: dict) -> np.ndarray:
        x = values[part.variable]
        if isinstance(part, Factor):
            return _indicator(x, level)
        return np.asarray(x, dtype=float)

    def _cell_columns(self, values: dict, skip: int | None = None) -> list:
        """Each cell's product (every part but `skip`): an array over rows, or a number where every
        part is fixed to one value (a scenario) or a fixed part zeroes the cell."""
        cells = []
        for cell in self._cells():
            column = 1.0
            for j, (p, level) in enumerate(zip(self.parts, cell)):
                if j == skip:
                    continue
                factor = self._part_column(p, level, values)
                if np.ndim(factor) == 0 and float(factor) == 0.0:
                    column = 0.0
                    break
                # A product with 1 is the other factor itself: the cell is a view, not a copy.
                if np.ndim(factor) == 0 and float(factor) == 1.0:
                    continue
                column = factor if np.ndim(column) == 0 and column == 1.0 else column * factor
            cells.append(column)
        return cells

    def columns(self, values: dict, skip: int | None = None) -> np.ndarray:
        """The product columns; with `skip`, the product of every part but that one. A part fixed
        to one value for every row (a scenario) enters as a number: a cell it zeroes is never
        multiplied out, and when every part is fixed the result is one row."""
        cells = self._cell_columns(values, skip)
        if all(np.size(c) == 1 for c in cells):
            return np.array([[float(np.reshape(c, -1)[0]) for c in cells]])
        n = max(np.size(c) for c in cells)
        out = np.empty((n, len(cells)))
        for j, column in enumerate(cells):
            out[:, j] = column
        return out

    def pieces(self, values: dict, start: int, n: int, skip: int | None = None) -> list:
        """The columns as [(indices, block)] without an n x c copy (what margins patch with): each
        column that varies over rows an n x 1 view of it, the columns that a scenario makes
        constant together in one block broadcast from one row."""
        cells = self._cell_columns(values, skip)
        varying = [j for j, c in enumerate(cells) if np.size(c) > 1]
        out = [(np.array([start + j]), np.reshape(cells[j], (-1, 1))) for j in varying]
        constant = [j for j in range(len(cells)) if j not in varying]
        if constant:
            row = np.array([float(np.reshape(cells[j], -1)[0]) for j in constant])
            out.append((start + np.array(constant), np.broadcast_to(row, (n, len(constant)))))
        return out

    def derivative(self, values: dict, variable: str) -> np.ndarray:
        """d(columns)/d variable by the product rule over the parts that are that variable."""
        out = 0.0
        for j in self._parts_of(variable):
            out = out + self.columns(values, skip=j)
        return out

    def derivative_pieces(self, values: dict, variable: str, start: int, n: int) -> list:
        """`derivative` as `pieces`: when the variable is one part, the product of the others."""
        parts = self._parts_of(variable)
        if len(parts) == 1:
            return self.pieces(values, start, n, skip=parts[0])
        return [(np.arange(start, start + len(self._cells())), self.derivative(values, variable))]

    def _parts_of(self, variable: str) -> list[int]:
        return [j for j, p in enumerate(self.parts) if isinstance(p, Continuous) and p.variable == variable]


_INDICATORS: dict = {}


def _indicator(x, level) -> np.ndarray:
    """x == level as 0/1, remembered for the last arrays seen (margins ask for the same indicator
    of the observed values at every level of every other variable)."""
    if np.ndim(x) == 0:
        return np.asarray(float(x == level))
    key = id(x)
    if key not in _INDICATORS or _INDICATORS[key][0] is not x:
        if len(_INDICATORS) > 32:
            _INDICATORS.clear()
        codes, uniques = pd.factorize(np.asarray(x, dtype=object))  # one pass over the objects
        _INDICATORS[key] = (x, {}, codes, list(uniques))
    _, known, codes, uniques = _INDICATORS[key]
    if level not in known:
        position = next((i for i, u in enumerate(uniques) if u == level), -1)
        known[level] = (codes == position).astype(float) if position >= 0 else np.zeros(len(codes))
    return known[level]


def _interaction_part(item, where: str):
    if isinstance(item, str):
        return Continuous(item)
    if isinstance(item, dict) and "factor" in item and "reference" in item:
        return Factor(item["factor"], item["reference"])
    raise InputError(
        f"{where}: an interaction's part {item!r} is a variable name (continuous) or {{factor: x, reference: level}}."
    )


def parse_covariate(item, where: str = "covariate"):
    """A config entry -> a term (see the module docstring for the forms)."""
    if isinstance(item, str):
        return Continuous(item)
    if isinstance(item, dict) and "polynomial" in item:
        return Continuous(item["polynomial"], int(item.get("degree", 2)))
    if isinstance(item, dict) and "factor" in item:
        return Factor(item["factor"], item["reference"])
    if isinstance(item, dict) and "interaction" in item:
        parts = item["interaction"]
        if not isinstance(parts, list) or len(parts) < 2:
            raise InputError(f"{where}: {{interaction: [a, b]}} needs a list of at least two parts, not {parts!r}.")
        return Interaction(tuple(_interaction_part(p, where) for p in parts))
    raise InputError(
        f"{where}: {item!r}: write a variable name, {{polynomial: x, degree: 2}}, "
        f"{{factor: x, reference: level}} or {{interaction: [a, b]}}."
    )


@dataclass
class Design:
    """The terms of a model with their fixed levels and column positions."""

    terms: list
    intercept: bool = True
    notes: list = field(default_factory=list)

    @classmethod
    def from_data(cls, covariates: list, data: pd.DataFrame, intercept: bool = True, where: str = "model"):
        """Terms fixed on `data`. Within a subsample, as Stata does: a factor with a single
        level present is omitted, and a factor whose reference level is absent takes its
        first present level as base; both are noted."""
        terms, notes = [], []
        for item in covariates:
            term = parse_covariate(item, where)
            for variable in term.variables:
                if variable not in data.columns:
                    raise InputError(
                        f"{where}: covariate '{variable}' is not a variable of the sample"
                        f"{closest(variable, data.columns)}."
                    )
            if isinstance(term, Factor):
                term = _fixed_factor(term, data, where, notes)
                if term is None:
                    continue
            elif isinstance(term, Interaction):
                parts = [_fixed_factor(p, data, where, notes) if isinstance(p, Factor) else p for p in term.parts]
                if any(p is None for p in parts):
                    continue
                term = Interaction(tuple(parts))
            terms.append(term)
        repeated = _repeated_main_effects(terms)
        if repeated:
            raise InputError(
                f"{where}: {sorted(repeated)} appear in more than one main-effect term; declare a "
                f"polynomial as one term, {{polynomial: x, degree: 2}}."
            )
        names = [n for t in terms for n in t.names()]
        kinds = {}
        for t in terms:
            for part in t.parts if isinstance(t, Interaction) else (t,):
                kinds.setdefault(part.variable, set()).add(type(part).__name__)
        mixed = sorted(v for v, k in kinds.items() if len(k) > 1)
        if mixed:
            raise InputError(
                f"{where}: {mixed} enter both as a factor and as a continuous variable; write each "
                f"variable one way in every term (an interaction's part as {{factor: x, reference: r}})."
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise InputError(f"{where}: the columns {twice} are declared twice; list each term once.")
        return cls(terms, intercept, notes)

    @property
    def variables(self) -> list[str]:
        """Every variable the design reads, in the order of first appearance."""
        return list(dict.fromkeys(v for t in self.terms for v in t.variables))

    def kind(self, variable: str) -> str:
        """'factor' or 'continuous': how margins treat the variable."""
        for t in self.terms:
            for p in t.parts if isinstance(t, Interaction) else (t,):
                if p.variable == variable:
                    return "factor" if isinstance(p, Factor) else "continuous"
        raise KeyError(variable)

    def factor(self, variable: str) -> Factor:
        """The factor term (its levels and reference) of a factor variable."""
        for t in self.terms:
            for p in t.parts if isinstance(t, Interaction) else (t,):
                if isinstance(p, Factor) and p.variable == variable:
                    return p
        raise KeyError(variable)

    def column_names(self) -> list[str]:
        names = [n for t in self.terms for n in t.names()]
        return names + ([INTERCEPT] if self.intercept else [])

    def term_slices(self) -> list[tuple[object, slice]]:
        """Each term with its columns."""
        out, start = [], 0
        for t in self.terms:
            width = len(t.names())
            out.append((t, slice(start, start + width)))
            start += width
        return out

    def slices(self) -> dict[str, slice]:
        """Columns of each main-effect term, by variable (a variable's indicators move together)."""
        return {t.variable: s for t, s in self.term_slices() if not isinstance(t, Interaction)}

    def columns_of(self, variable: str) -> np.ndarray:
        """Indices of every column `variable` enters (main effect, polynomial, interactions)."""
        return np.concatenate(
            [np.arange(s.start, s.stop) for t, s in self.term_slices() if variable in t.variables] or [[]]
        ).astype(int)

    def values(self, data: pd.DataFrame) -> dict:
        """Each variable's values as the terms read them (floats, or levels as objects)."""
        return {v: _values(data[v], self.kind(v)) for v in self.variables}

    def matrix(self, data: pd.DataFrame | dict, n: int | None = None) -> np.ndarray:
        """The design's columns for a frame, or for its variables' values (`n` rows)."""
        values = data if isinstance(data, dict) else self.values(data)
        n = n if n is not None else max((np.size(v) for v in values.values()), default=len(data))
        X = np.empty((n, len(self.column_names())))
        for t, s in self.term_slices():
            X[:, s] = t.columns(values)
        if self.intercept:
            X[:, -1] = 1.0
        return X

    def patch(self, values: dict, changes: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(columns, block): the columns that the variables in `changes` enter, recomputed with
        those variables set to the given values (scalars or arrays) for all n rows."""
        changed = {**values, **changes}
        columns, blocks = [], []
        for t, s in self.term_slices():
            if set(t.variables) & set(changes):
                columns.append(np.arange(s.start, s.stop))
                blocks.append(np.broadcast_to(t.columns(changed), (n, s.stop - s.start)))
        if not columns:
            return np.empty(0, int), np.empty((n, 0))
        if len(blocks) == 1:  # kept as broadcast when one row serves every row
            return columns[0], blocks[0]
        return np.concatenate(columns), np.column_stack(blocks)

    def patch_terms(self, values: dict, changes: dict, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """As `patch`, as [(columns, block)] pieces without an n x c copy: a term set to one level
        for every row is a block broadcast from one row, an interaction's varying columns are
        views of their products (see Interaction.pieces)."""
        changed = {**values, **changes}
        out = []
        for t, s in self.term_slices():
            if set(t.variables) & set(changes):
                if isinstance(t, Interaction):
                    out += t.pieces(changed, s.start, n)
                else:
                    out.append((np.arange(s.start, s.stop), np.broadcast_to(t.columns(changed), (n, s.stop - s.start))))
        return out

    def derivative(self, values: dict, variable: str, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """d(columns)/d variable as [(columns, block)] pieces, for the columns the variable enters:
        a linear term's derivative (1) is broadcast from one row, an interaction's is a view of
        the product of its other parts."""
        out = []
        for t, s in self.term_slices():
            if variable in t.variables:
                if isinstance(t, Interaction):
                    out += t.derivative_pieces(values, variable, s.start, n)
                elif t.degree == 1:
                    out.append((np.arange(s.start, s.stop), np.broadcast_to(1.0, (n, 1))))
                else:
                    out.append((np.arange(s.start, s.stop), t.derivative(values, variable)))
        return out

    def means_row(self, data: pd.DataFrame) -> np.ndarray:
        """Stata's `atmeans`: every column at its mean over `data`, except that continuous
        variables enter their powers and products at their means (c.age##c.age at the mean
        age), while factor indicators (and their products) take their sample proportions."""
        values = self.values(data)
        means = {v: (np.array([values[v].mean()]) if self.kind(v) == "continuous" else None) for v in values}
        row = []
        for t in self.terms:
            if isinstance(t, Continuous):
                row.append(t.columns(means)[0])
            elif isinstance(t, Factor):
                row.append(t.columns(values).mean(axis=0))
            else:  # factor indicators averaged, at the continuous parts' means
                mixed = {v: (means[v] if means[v] is not None else values[v]) for v in values}
                row.append(np.broadcast_to(t.columns(mixed), (len(data), len(t.names()))).mean(axis=0))
        if self.intercept:
            row.append(np.ones(1))
        return np.concatenate(row)[None, :]


def _fixed_factor(term: Factor, data: pd.DataFrame, where: str, notes: list) -> Factor | None:
    """A factor with the levels present in `data`; None (noted) when it does not vary."""
    levels = _levels(data[term.variable])
    if len(levels) < 2:
        note = f"{where}: {term.variable} omitted, it does not vary in this sample."
        if note not in notes:
            notes.append(note)
        return None
    reference = next((lv for lv in levels if str(lv) == str(term.reference)), None)
    if reference is None:
        if str(term.reference) not in map(str, _declared_levels(data[term.variable])):
            raise InputError(
                f"{where}: reference '{term.reference}' of '{term.variable}' is not "
                f"one of its levels {[str(lv) for lv in levels]}."
            )
        reference = levels[0]
        note = f"{where}: {term.variable} has no '{term.reference}' in this sample; base level is '{reference}'."
        if note not in notes:
            notes.append(note)
    return Factor(term.variable, reference, tuple(levels))


def _repeated_main_effects(terms: list) -> set:
    variables = [t.variable for t in terms if not isinstance(t, Interaction)]
    return {v for v in variables if variables.count(v) > 1}


def _levels(column: pd.Series) -> list:
    if isinstance(column.dtype, pd.CategoricalDtype):
        present = set(column.dropna().unique())
        return [c for c in column.cat.categories if c in present]
    return sorted(column.dropna().unique(), key=str)


def _declared_levels(column: pd.Series) -> list:
    """Every level the variable can take: its categories, or the values present."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return list(column.cat.categories)
    return _levels(column)


def _values(column: pd.Series, kind: str) -> np.ndarray:
    if kind == "factor":
        return column.astype(object).to_numpy()
    return column.astype("float64").to_numpy()
