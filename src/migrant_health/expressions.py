"""The expression language of config.yaml: sample filters (`keep`), subsamples, table columns
and figure indicators.

Config is data, not code. The old route, pandas' `DataFrame.eval(engine="python")`, runs any
Python: `age.__class__.__init__.__globals__...` reaches `os.system`. Here a text is parsed
with `ast.parse`, checked against a short whitelist of constructs, and evaluated by our own
tree walk over numpy arrays. Nothing evaluates Python (no eval, no DataFrame.eval/query), and
the four methods a filter may call are functions of this module looked up by name in a dict,
never attributes of a pandas object.

The language:
  variables    canonical variable names (`age`, `inpatient_12m`)
  literals     'text', 3, 2.5, True/False (or true/false); numbers are float64, so that
               `10**10**10` is inf instead of an integer that takes forever to compute
  lists        of literals, only after `in` / `not in` and in `x.isin([...])`
  comparisons  == != < <= > >= (chains such as `16 <= age <= 59` too), x in [...], x not in [...]
  logic        and, or, not (`~x` is `not x`)
  arithmetic   + - * / // % ** and unary - +
  methods      x.isna(), x.notna(), x.isin([...]), x.between(a, b) on a variable, literal arguments

Missing values: a comparison, arithmetic or membership with a missing operand is missing;
`and`/`or` follow three-valued logic (False and missing is False, True or missing is True);
x.isna() and x.notna() are never missing. A filter keeps a row only when every variable it
names is observed and the condition is true (see `evaluate`).
"""
import ast
import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, closest

# A hostile text must not exhaust the parser or the tree walk (whose recursion is bounded by
# the depth); real filters are a line long and a few levels deep.
MAX_LENGTH = 2000
MAX_DEPTH = 50

ALLOWED = ("Allowed: canonical variables; literals ('text', 3, 2.5, true, false); comparisons "
           "== != < <= > >=; x in [...] and x not in [...] with a list of literals; and, or, not (or ~); "
           "arithmetic + - * / // % **; parentheses; x.isna(), x.notna(), x.isin([...]), x.between(a, b) "
           "on a variable.")
EXAMPLE = "e.g. inpatient_12m and age >= 18"

VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
BOOLEAN_NAMES = {"true": True, "false": False}   # YAML's spelling, which configs may use
LITERAL_TYPES = (bool, int, float, str)

# What a text may contain, and what each piece is called when refused.
LOGIC = (ast.And, ast.Or)
UNARY = (ast.Not, ast.Invert, ast.USub, ast.UAdd)
ORDERINGS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
EQUALITIES = {ast.Eq: operator.eq, ast.NotEq: operator.ne}
MEMBERSHIP = (ast.In, ast.NotIn)
ARITHMETIC = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.true_divide,
              ast.FloorDiv: np.floor_divide, ast.Mod: np.mod, ast.Pow: np.power}
OPERATOR_SYMBOLS = {ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "& (write and)",
                    ast.BitOr: "| (write or)", ast.BitXor: "^", ast.Is: "is", ast.IsNot: "is not"}
CONSTRUCTS = {ast.Subscript: "subscripting `[...]`", ast.Slice: "slicing", ast.Lambda: "a lambda",
              ast.ListComp: "a comprehension", ast.SetComp: "a comprehension",
              ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator expression",
              ast.JoinedStr: "an f-string", ast.FormattedValue: "an f-string", ast.Starred: "starred `*`",
              ast.NamedExpr: "the walrus `:=`", ast.IfExp: "a conditional expression (x if c else y)",
              ast.Set: "a set", ast.Dict: "a dict", ast.Await: "await", ast.Yield: "yield",
              ast.YieldFrom: "yield", ast.List: "a list outside `in [...]` and `.isin([...])`",
              ast.Tuple: "a tuple outside `in (...)` and `.isin((...))`"}


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text, its syntax tree, and the variables it reads (sorted)."""
    text: str
    tree: ast.Expression
    variables: tuple[str, ...]


class _Refused(Exception):
    """A construct outside the language; `parse` turns it into one InputError."""


def parse(text: str, where: str) -> Expression:
    """The expression, validated against the language; InputError naming `where` otherwise."""
    if not isinstance(text, str):
        raise InputError(f"{where}: a filter must be text, not {type(text).__name__} ({text!r}).")
    if len(text) > MAX_LENGTH:
        raise InputError(f"{where}: filter {_quoted(text)} is {len(text)} characters long; "
                         f"the limit is {MAX_LENGTH}. {ALLOWED}")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        reason = getattr(e, "msg", None) or type(e).__name__
        raise InputError(f"{where}: filter {_quoted(text)} does not parse ({reason}); {EXAMPLE}. "
                         f"{ALLOWED}") from None
    try:
        _check(tree.body, text, depth=1)
    except _Refused as refused:
        raise InputError(f"{where}: filter {_quoted(text)} uses {refused}, which a filter may not. "
                         f"{ALLOWED}") from None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in BOOLEAN_NAMES}
    return Expression(text=text, tree=tree, variables=tuple(sorted(names)))


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


def indicator(frame: pd.DataFrame, expression, where: str) -> pd.Series:
    """True where the condition holds; a missing result counts as False (e.g. the reimbursed
    have no reason for not being reimbursed, and are not counted as giving one)."""
    return pd.Series(_condition(frame, _parsed(expression, where), where), index=frame.index)


def _parsed(expression, where: str) -> Expression:
    return expression if isinstance(expression, Expression) else parse(expression, where)


def _quoted(text: str, limit: int = 200) -> str:
    return f"`{text}`" if len(text) <= limit else f"`{text[:limit]}…`"


# ---------------------------------------------------------------------------------------------
# Validation: every node of the tree must be one of the allowed constructs.

def _check(node: ast.AST, text: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Refused(f"nesting deeper than {MAX_DEPTH} levels")
    deeper = depth + 1
    if isinstance(node, ast.Name):
        _check_variable(node.id)
    elif isinstance(node, ast.Constant):
        _check_literal(node)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, UNARY):
        _check(node.operand, text, deeper)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in ARITHMETIC:
            raise _Refused(f"the operator `{OPERATOR_SYMBOLS[type(node.op)]}`")
        _check(node.left, text, deeper)
        _check(node.right, text, deeper)
    elif isinstance(node, ast.BoolOp) and isinstance(node.op, LOGIC):
        for value in node.values:
            _check(value, text, deeper)
    elif isinstance(node, ast.Compare):
        _check_comparison(node, text, deeper)
    elif isinstance(node, ast.Call):
        _check_method_call(node, text, deeper)
    elif isinstance(node, ast.Attribute):
        raise _Refused(_attribute_name(node.attr) if not node.attr.startswith("_")
                       else f"the underscore name `{node.attr}`")
    else:
        raise _Refused(CONSTRUCTS.get(type(node), f"`{type(node).__name__}`"))


def _check_variable(name: str) -> None:
    if name.startswith("_"):
        raise _Refused(f"the underscore name `{name}`")
    if not VARIABLE_NAME.fullmatch(name):
        raise _Refused(f"the name `{name}` (variables are ASCII letters, digits and _)")


def _check_literal(node: ast.Constant) -> None:
    value = node.value
    if type(value) not in LITERAL_TYPES:
        raise _Refused({bytes: "a bytes literal", complex: "a complex number",
                        type(None): "None (test for missing values with x.isna())"}
                       .get(type(value), f"the literal {value!r}"))
    if type(value) is int:
        try:
            float(value)
        except OverflowError:
            raise _Refused("a number too large for a float") from None


def _check_comparison(node: ast.Compare, text: str, depth: int) -> None:
    for op in node.ops:
        if type(op) in OPERATOR_SYMBOLS:
            raise _Refused(f"the operator `{OPERATOR_SYMBOLS[type(op)]}`")
    if len(node.ops) > 1 and any(isinstance(op, MEMBERSHIP) for op in node.ops):
        raise _Refused("`in` inside a chain of comparisons (write it apart, joined by and)")
    _check(node.left, text, depth)
    for op, right in zip(node.ops, node.comparators):
        if isinstance(op, MEMBERSHIP):
            _check_literal_list(right, "`in`", text, depth)
        else:
            _check(right, text, depth)


def _check_literal_list(node: ast.AST, user: str, text: str, depth: int) -> None:
    if not isinstance(node, (ast.List, ast.Tuple)):
        raise _Refused(f"{user} with something other than a list of literals")
    for item in node.elts:
        if not _is_literal(item):
            _check(item, text, depth + 1)    # names what the item is, when it is refused
            raise _Refused(f"{user} with a list holding something other than literals")


def _is_literal(node: ast.AST, numbers_only: bool = False) -> bool:
    """A literal: 'text', a number with at most one sign, True/False or true/false."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node, numbers_only = node.operand, True
    if isinstance(node, ast.Constant):
        _check_literal(node)
        return type(node.value) in ((int, float) if numbers_only else LITERAL_TYPES)
    return isinstance(node, ast.Name) and node.id in BOOLEAN_NAMES and not numbers_only


def _check_method_call(node: ast.Call, text: str, depth: int) -> None:
    func = node.func
    if not isinstance(func, ast.Attribute):
        if not isinstance(func, ast.Name):
            _check(func, text, depth)     # names a lambda, a subscript... when it is one
        raise _Refused(f"a call of `{_segment(text, func)}(...)` (only the four methods can be called)")
    if func.attr.startswith("_"):
        raise _Refused(f"the underscore name `{func.attr}`")
    if func.attr not in METHODS:
        raise _Refused(f"the method `.{func.attr}()`")
    if not isinstance(func.value, ast.Name) or func.value.id in BOOLEAN_NAMES:
        raise _Refused(f"`.{func.attr}()` on something other than a variable")
    _check_variable(func.value.id)
    if node.keywords:
        keyword = node.keywords[0].arg
        raise _Refused(f"the keyword argument `{keyword}=`" if keyword else "`**` arguments")
    if any(isinstance(argument, ast.Starred) for argument in node.args):
        raise _Refused(CONSTRUCTS[ast.Starred])
    if len(node.args) != ARITY[func.attr]:
        raise _Refused(f"`.{func.attr}()` with {len(node.args)} arguments (it takes {ARITY[func.attr]})")
    if func.attr == "isin":
        _check_literal_list(node.args[0], "`.isin()`", text, depth)
    if func.attr == "between" and not all(_is_literal(a, numbers_only=True) for a in node.args):
        raise _Refused("`.between()` with something other than two numbers")


def _attribute_name(attr: str) -> str:
    if attr in METHODS:
        return f"`.{attr}` without calling it on a variable"
    return f"the attribute `.{attr}`"


def _segment(text: str, node: ast.AST, limit: int = 60) -> str:
    segment = ast.get_source_segment(text, node) or type(node).__name__
    return segment if len(segment) <= limit else segment[:limit] + "…"


# ---------------------------------------------------------------------------------------------
# Evaluation: a tree walk over arrays. Each value is a kind, its data (float64 numbers, bools,
# or text objects; a placeholder where missing) and its missing mask.

NUMBER, BOOLEAN, TEXT = "number", "true/false", "text"
KINDS = {"floating": NUMBER, "integer": NUMBER, "mixed-integer-float": NUMBER, "integer-na": NUMBER,
         "boolean": BOOLEAN, "string": TEXT, "empty": TEXT}
PLACEHOLDERS = {NUMBER: np.nan, BOOLEAN: False, TEXT: ""}
DATA_TYPES = {NUMBER: float, BOOLEAN: bool, TEXT: object}


@dataclass(frozen=True)
class Values:
    kind: str
    data: np.ndarray
    missing: np.ndarray


class _Rows:
    """One evaluation: the frame's variables, and messages naming `where` and the text."""

    def __init__(self, frame: pd.DataFrame, expression: Expression, where: str):
        self.frame, self.expression, self.where = frame, expression, where
        self.n = len(frame)

    def value(self, node: ast.AST) -> Values:
        return EVALUATORS[type(node)](self, node)

    def refuse(self, node: ast.AST, problem: str) -> InputError:
        return InputError(f"{self.where}: filter {_quoted(self.expression.text)} {problem} "
                          f"(in `{_segment(self.expression.text, node)}`).")

    def variable(self, name: str, node: ast.AST) -> Values:
        series = self.frame[name]
        levels = series.cat.categories if isinstance(series.dtype, pd.CategoricalDtype) else series
        kind = KINDS.get(pd.api.types.infer_dtype(levels, skipna=True))
        if kind is None:
            raise self.refuse(node, f"reads `{name}`, of type {series.dtype}, which is neither "
                                    f"numbers, true/false nor text")
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


def _condition(frame: pd.DataFrame, expression: Expression, where: str) -> np.ndarray:
    """True where the condition holds and is not missing."""
    unknown = [n for n in expression.variables if n not in frame.columns]
    if unknown:
        hints = "; ".join(f"'{n}'{closest(n, frame.columns)}" for n in unknown)
        raise InputError(f"{where}: filter {_quoted(expression.text)} names unknown variables: {hints}. "
                         f"Use a canonical variable (results/data/<dataset>_codebook.csv lists them).")
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
    with np.errstate(all="ignore"):     # 1/0 is inf and 0/0 nan, as in pandas
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


EVALUATORS = {ast.Name: _name, ast.Constant: _constant, ast.UnaryOp: _unary, ast.BinOp: _arithmetic,
              ast.BoolOp: _logic, ast.Compare: _comparison, ast.Call: _method_call}


def _compared(rows: _Rows, node: ast.AST, op: ast.cmpop, left: Values, right: Values) -> Values:
    if type(op) in EQUALITIES:
        if (left.kind == TEXT) != (right.kind == TEXT):
            raise rows.refuse(node, f"compares {left.kind} with {right.kind}")
        a, b = ((left.data, right.data) if left.kind == TEXT
                else (rows.numbers(left, node), rows.numbers(right, node)))
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
ARITY = {"isna": 0, "notna": 0, "isin": 1, "between": 2}
