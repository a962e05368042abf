"""Evaluating a parsed config expression (expressions.py) over a frame: a tree walk over numpy
arrays. Each value is a kind, its data (float64 numbers, bools, or text objects; a
placeholder where missing) and its missing mask. Nothing here evaluates Python: the node
types are dispatched through EVALUATORS and the four methods through METHODS."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, closest
from .expressions import (
    ARITHMETIC,
    ARITY,
    BOOLEAN_NAMES,
    EQUALITIES,
    MEMBERSHIP,
    ORDERINGS,
    Expression,
    _quoted,
    _segment,
    parse,
)


def _parsed(expression, where: str) -> Expression:
    return expression if isinstance(expression, Expression) else parse(expression, where)


def evaluate(frame: pd.DataFrame, expression, where: str) -> tuple[pd.Series, pd.Series]:
    """(kept, missing): rows where every variable the expression names is observed and the
    condition is true, and rows where a named variable is missing.

    A missing value is never kept by accident: pandas says a missing category != 'x' is
    True, but its row is not kept here and is counted apart in the flow."""
    expression = _parsed(expression, where)
    condition = _condition(frame, expression, where)
    names = list(expression.variables)
    missing = frame[names].isna().any(axis=1) if names else pd.Series(False, index=frame.index)
    kept = pd.Series(condition, index=frame.index) & ~missing
    return kept, missing


def values(frame: pd.DataFrame, expression, where: str, what: str = "expression") -> pd.Series:
    """The expression's value on each row (a codebook's `compute:`): float64 numbers (NaN where
    missing), nullable true/false, or text; missing wherever an operand is missing."""
    expression = expression if isinstance(expression, Expression) else parse(expression, where, what)
    _check_names(frame, expression, where, what)
    result = _Rows(frame, expression, where, what).value(expression.tree.body)
    if result.kind == NUMBER:
        return pd.Series(np.where(result.missing, np.nan, result.data), index=frame.index, dtype="float64")
    if result.kind == BOOLEAN:
        return pd.Series(result.data, index=frame.index).astype("boolean").mask(result.missing)
    return pd.Series(result.data, index=frame.index, dtype="string").mask(result.missing)


def indicator(frame: pd.DataFrame, expression, where: str) -> pd.Series:
    """True where the condition holds; a missing result counts as False (e.g. the reimbursed
    have no reason for not being reimbursed, and are not counted as giving one)."""
    return pd.Series(_condition(frame, _parsed(expression, where), where), index=frame.index)


NUMBER, BOOLEAN, TEXT = "number", "true/false", "text"
KINDS = {
    "floating": NUMBER,
    "integer": NUMBER,
    "mixed-integer-float": NUMBER,
    "integer-na": NUMBER,
    "boolean": BOOLEAN,
    "string": TEXT,
    "empty": TEXT,
}
PLACEHOLDERS = {NUMBER: np.nan, BOOLEAN: False, TEXT: ""}
DATA_TYPES = {NUMBER: float, BOOLEAN: bool, TEXT: object}


@dataclass(frozen=True)
class Values:
    kind: str
    data: np.ndarray
    missing: np.ndarray


class _Rows:
    """One evaluation: the frame's variables, and messages naming `where` and the text."""

    def __init__(self, frame: pd.DataFrame, expression: Expression, where: str, what: str = "filter"):
        self.frame, self.expression, self.where, self.what = frame, expression, where, what
        self.n = len(frame)

    def value(self, node: ast.AST) -> Values:
        return EVALUATORS[type(node)](self, node)

    def refuse(self, node: ast.AST, problem: str) -> InputError:
        return InputError(
            f"{self.where}: {self.what} {_quoted(self.expression.text)} {problem} "
            f"(in `{_segment(self.expression.text, node)}`)."
        )

    def variable(self, name: str, node: ast.AST) -> Values:
        series = self.frame[name]
        levels = series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype) else series
        kind = KINDS.get(pd.api.types.infer_dtype(levels, skipna=True))
        if kind is None:
            raise self.refuse(
                node, f"reads `{name}`, of type {series.dtype}, which is neither numbers, true/false nor text"
            )
        missing = series.isna().to_numpy(dtype=bool)
        data = np.where(missing, PLACEHOLDERS[kind], series.astype(object).to_numpy())
        return Values(kind, data.astype(DATA_TYPES[kind]), missing)

    def literal(self, value) -> Values:
        kind = BOOLEAN if type(value) is bool else TEXT if type(value) is str else NUMBER
        data = np.full(self.n, value if kind != NUMBER else float(value), dtype=DATA_TYPES[kind])
        return Values(kind, data, np.zeros(self.n, dtype=bool))

    def numbers(self, values: Values, node: ast.AST) -> np.ndarray:
        """Data as float64 (true/false as 1/0, as in pandas); text is refused."""
        if values.kind == TEXT:
            raise self.refuse(node, "uses text where a number is needed")
        return values.data.astype(float)

    def logical(self, values: Values, node: ast.AST) -> Values:
        if values.kind != BOOLEAN:
            raise self.refuse(node, f"uses {values.kind} where true/false is needed")
        return values


def _check_names(frame: pd.DataFrame, expression: Expression, where: str, what: str = "filter") -> None:
    unknown = [n for n in expression.variables if n not in frame.columns]
    if unknown:
        hints = "; ".join(f"'{n}'{closest(n, frame.columns)}" for n in unknown)
        raise InputError(
            f"{where}: {what} {_quoted(expression.text)} names unknown variables: {hints}. "
            f"Use a canonical variable (results/data/<dataset>_codebook.csv lists them)."
        )


def _condition(frame: pd.DataFrame, expression: Expression, where: str) -> np.ndarray:
    """True where the condition holds and is not missing."""
    _check_names(frame, expression, where)
    result = _Rows(frame, expression, where).value(expression.tree.body)
    if result.kind != BOOLEAN:
        raise InputError(f"{where}: filter {_quoted(expression.text)} does not give true/false for each row.")
    return result.data & ~result.missing


def _name(rows: _Rows, node: ast.Name) -> Values:
    if node.id in BOOLEAN_NAMES:
        return rows.literal(BOOLEAN_NAMES[node.id])
    return rows.variable(node.id, node)


def _constant(rows: _Rows, node: ast.Constant) -> Values:
    return rows.literal(node.value)


def _unary(rows: _Rows, node: ast.UnaryOp) -> Values:
    operand = rows.value(node.operand)
    if isinstance(node.op, (ast.Not, ast.Invert)):
        return _negated(rows.logical(operand, node))
    numbers = rows.numbers(operand, node)
    return Values(NUMBER, -numbers if isinstance(node.op, ast.USub) else numbers, operand.missing)


def _arithmetic(rows: _Rows, node: ast.BinOp) -> Values:
    left, right = rows.value(node.left), rows.value(node.right)
    with np.errstate(all="ignore"):  # 1/0 is inf and 0/0 nan, as in pandas
        data = ARITHMETIC[type(node.op)](rows.numbers(left, node), rows.numbers(right, node))
    return Values(NUMBER, data, left.missing | right.missing)


def _logic(rows: _Rows, node: ast.BoolOp) -> Values:
    combine = _both if isinstance(node.op, ast.And) else _either
    result = rows.logical(rows.value(node.values[0]), node.values[0])
    for value in node.values[1:]:
        result = combine(result, rows.logical(rows.value(value), value))
    return result


def _comparison(rows: _Rows, node: ast.Compare) -> Values:
    """A chain `a < b < c` is `a < b and b < c`."""
    left, result = rows.value(node.left), None
    for op, right_node in zip(node.ops, node.comparators):
        if isinstance(op, MEMBERSHIP):
            step = _membership(rows, node, left, _literal_list(right_node))
            step = _negated(step) if isinstance(op, ast.NotIn) else step
        else:
            right = rows.value(right_node)
            step = _compared(rows, node, op, left, right)
            left = right
        result = step if result is None else _both(result, step)
    return result


def _method_call(rows: _Rows, node: ast.Call) -> Values:
    values = rows.value(node.func.value)
    return METHODS[node.func.attr](rows, node, values, node.args)


EVALUATORS = {
    ast.Name: _name,
    ast.Constant: _constant,
    ast.UnaryOp: _unary,
    ast.BinOp: _arithmetic,
    ast.BoolOp: _logic,
    ast.Compare: _comparison,
    ast.Call: _method_call,
}


def _compared(rows: _Rows, node: ast.AST, op: ast.cmpop, left: Values, right: Values) -> Values:
    if type(op) in EQUALITIES:
        if (left.kind == TEXT) != (right.kind == TEXT):
            raise rows.refuse(node, f"compares {left.kind} with {right.kind}")
        a, b = (left.data, right.data) if left.kind == TEXT else (rows.numbers(left, node), rows.numbers(right, node))
        data = EQUALITIES[type(op)](a, b)
    else:
        if TEXT in (left.kind, right.kind):
            raise rows.refuse(node, "orders text (< <= > >= compare numbers; compare text with == != in)")
        data = ORDERINGS[type(op)](rows.numbers(left, node), rows.numbers(right, node))
    return Values(BOOLEAN, np.asarray(data, dtype=bool), left.missing | right.missing)


def _membership(rows: _Rows, node: ast.AST, values: Values, items: list) -> Values:
    """Whether each value equals one of the listed literals."""
    found = np.zeros(rows.n, dtype=bool)
    for item in items:
        found |= _compared(rows, node, ast.Eq(), values, rows.literal(item)).data
    return Values(BOOLEAN, found, values.missing)


def _negated(values: Values) -> Values:
    return Values(BOOLEAN, ~values.data, values.missing)


def _both(a: Values, b: Values) -> Values:
    """a and b, three-valued: false if either is false, else missing if either is missing."""
    false = (~a.data & ~a.missing) | (~b.data & ~b.missing)
    missing = (a.missing | b.missing) & ~false
    return Values(BOOLEAN, a.data & b.data & ~missing, missing)


def _either(a: Values, b: Values) -> Values:
    """a or b, three-valued: true if either is true, else missing if either is missing."""
    true = (a.data & ~a.missing) | (b.data & ~b.missing)
    return Values(BOOLEAN, true, (a.missing | b.missing) & ~true)


def _literal_value(node: ast.AST):
    """The value of a validated literal (see _is_literal)."""
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, ast.Name):
        return BOOLEAN_NAMES[node.id]
    return node.value


def _literal_list(node: ast.AST) -> list:
    return [_literal_value(item) for item in node.elts]


# The four methods a filter may call on a variable: functions of this module, dispatched by name.
def _isna(rows: _Rows, node: ast.Call, values: Values, args) -> Values:
    return Values(BOOLEAN, values.missing.copy(), np.zeros(rows.n, dtype=bool))


def _notna(rows: _Rows, node: ast.Call, values: Values, args) -> Values:
    return Values(BOOLEAN, ~values.missing, np.zeros(rows.n, dtype=bool))


def _isin(rows: _Rows, node: ast.Call, values: Values, args) -> Values:
    return _membership(rows, node, values, _literal_list(args[0]))


def _between(rows: _Rows, node: ast.Call, values: Values, args) -> Values:
    """low <= x <= high, both ends included (as pandas' between)."""
    low, high = (float(_literal_value(a)) for a in args)
    x = rows.numbers(values, node)
    return Values(BOOLEAN, (low <= x) & (x <= high), values.missing)


METHODS = {"isna": _isna, "notna": _notna, "isin": _isin, "between": _between}
assert set(METHODS) == set(ARITY), "the language (expressions.ARITY) and its evaluation must name the same methods"
