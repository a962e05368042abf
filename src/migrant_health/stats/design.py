"""Design matrices that know their variables, as Stata's factor-variable notation does.

A covariate is one of
  * "age"                                   continuous (Stata: c.age)
  * {polynomial: age, degree: 2}            age and age^2 as ONE term (c.age##c.age): the
                                            marginal effect of age includes the squared part
  * {factor: migration_scope, reference: within_city}
                                            indicators of the other levels (ib(within_city).migration_scope)
A generated column such as age2 is simply another continuous covariate and gets its own
effect, as seed 001's Table 3 reports it.

Each term knows its columns, their derivative with respect to its variable, and its
indicators at a given level, so marginal effects never rebuild the whole matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, closest

INTERCEPT = "_cons"


@dataclass(frozen=True)
class Continuous:
    variable: str
    degree: int = 1

    def names(self, data=None) -> list[str]:
        return [self.variable if p == 1 else f"{self.variable}^{p}" for p in range(1, self.degree + 1)]

    def columns(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([x**p for p in range(1, self.degree + 1)])

    def derivative(self, x: np.ndarray) -> np.ndarray:
        """d(columns)/dx: 1, 2x, 3x^2, ..."""
        return np.column_stack([p * x ** (p - 1) for p in range(1, self.degree + 1)])


@dataclass(frozen=True)
class Factor:
    variable: str
    reference: str
    levels: tuple = ()

    def names(self, data=None) -> list[str]:
        return [f"{self.variable}={level}" for level in self.levels if level != self.reference]

    def others(self) -> list:
        return [level for level in self.levels if level != self.reference]

    def columns(self, x) -> np.ndarray:
        values = np.asarray(x, dtype=object)
        return np.column_stack([values == level for level in self.others()]).astype(float)

    def at_level(self, n: int, level) -> np.ndarray:
        """The term's columns with every observation set to `level`."""
        out = np.zeros((n, len(self.others())))
        if level != self.reference:
            out[:, self.others().index(level)] = 1.0
        return out


def parse_covariate(item) -> Continuous | Factor:
    """A config entry -> a term (see the module docstring for the forms)."""
    if isinstance(item, str):
        return Continuous(item)
    if "polynomial" in item:
        return Continuous(item["polynomial"], int(item.get("degree", 2)))
    if "factor" in item:
        return Factor(item["factor"], item["reference"])
    raise InputError(
        f"covariate {item!r}: write a variable name, {{polynomial: x, degree: 2}} or {{factor: x, reference: level}}."
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
            term = parse_covariate(item)
            if term.variable not in data.columns:
                raise InputError(
                    f"{where}: covariate '{term.variable}' is not a variable of the sample"
                    f"{closest(term.variable, data.columns)}."
                )
            if isinstance(term, Factor):
                levels = _levels(data[term.variable])
                if len(levels) < 2:
                    notes.append(f"{where}: {term.variable} omitted, it does not vary in this sample.")
                    continue
                reference = next((lv for lv in levels if str(lv) == str(term.reference)), None)
                if reference is None:
                    if str(term.reference) not in map(str, _declared_levels(data[term.variable])):
                        raise InputError(
                            f"{where}: reference '{term.reference}' of '{term.variable}' is not "
                            f"one of its levels {[str(lv) for lv in levels]}."
                        )
                    reference = levels[0]
                    notes.append(
                        f"{where}: {term.variable} has no '{term.reference}' in this sample; "
                        f"base level is '{reference}'."
                    )
                term = Factor(term.variable, reference, tuple(levels))
            terms.append(term)
        variables = [t.variable for t in terms]
        repeated = {v for v in variables if variables.count(v) > 1}
        if repeated:
            raise InputError(
                f"{where}: {sorted(repeated)} appear in more than one term; declare a "
                f"polynomial as one term, {{polynomial: x, degree: 2}}."
            )
        return cls(terms, intercept, notes)

    @property
    def variables(self) -> list[str]:
        return [t.variable for t in self.terms]

    def column_names(self) -> list[str]:
        names = [n for t in self.terms for n in t.names()]
        return names + ([INTERCEPT] if self.intercept else [])

    def slices(self) -> dict[str, slice]:
        """Columns of each term, by variable."""
        out, start = {}, 0
        for t in self.terms:
            width = len(t.names())
            out[t.variable] = slice(start, start + width)
            start += width
        return out

    def term(self, variable: str):
        return next(t for t in self.terms if t.variable == variable)

    def matrix(self, data: pd.DataFrame) -> np.ndarray:
        blocks = [t.columns(_values(data[t.variable], t)) for t in self.terms]
        if self.intercept:
            blocks.append(np.ones((len(data), 1)))
        return np.column_stack(blocks) if blocks else np.empty((len(data), 0))

    def means_row(self, data: pd.DataFrame) -> np.ndarray:
        """Stata's `atmeans`: continuous variables at their means (powers of the mean),
        factor indicators at their sample proportions."""
        blocks = []
        for t in self.terms:
            x = _values(data[t.variable], t)
            blocks.append(
                t.columns(np.array([x.mean()]))
                if isinstance(t, Continuous)
                else t.columns(x).mean(axis=0, keepdims=True)
            )
        if self.intercept:
            blocks.append(np.ones((1, 1)))
        return np.column_stack(blocks)


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


def _values(column: pd.Series, term) -> np.ndarray:
    if isinstance(term, Factor):
        return column.astype(object).to_numpy()
    return column.astype("float64").to_numpy()
