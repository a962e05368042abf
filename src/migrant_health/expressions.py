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
names is observed and the condition is true (see evaluation.evaluate).

This module is the language (parse and validate, no numerical imports, so that config
validation can parse every expression before any job starts); evaluation.py evaluates a
parsed expression over a frame.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass

from .errors import InputError

# A hostile text must not exhaust the parser or the tree walk (whose recursion is bounded by
# the depth); real filters are a line long and a few levels deep.
MAX_LENGTH = 2000
MAX_DEPTH = 50

ALLOWED = (
    "Allowed: canonical variables; literals ('text', 3, 2.5, true, false); comparisons "
    "== != < <= > >=; x in [...] and x not in [...] with a list of literals; and, or, not (or ~); "
    "arithmetic + - * / // % **; parentheses; x.isna(), x.notna(), x.isin([...]), x.between(a, b) "
    "on a variable."
)
EXAMPLE = "e.g. inpatient_12m and age >= 18"

VARIABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
BOOLEAN_NAMES = {"true": True, "false": False}  # YAML's spelling, which configs may use
LITERAL_TYPES = (bool, int, float, str)

# What a text may contain, and what each piece is called when refused.
LOGIC = (ast.And, ast.Or)
UNARY = (ast.Not, ast.Invert, ast.USub, ast.UAdd)
ORDERINGS = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
EQUALITIES = {ast.Eq: operator.eq, ast.NotEq: operator.ne}
MEMBERSHIP = (ast.In, ast.NotIn)
ARITHMETIC = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
# The methods a filter may call on a variable, with their number of arguments (evaluation.py
# holds their functions).
ARITY = {"isna": 0, "notna": 0, "isin": 1, "between": 2}
OPERATOR_SYMBOLS = {
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "& (write and)",
    ast.BitOr: "| (write or)",
    ast.BitXor: "^",
    ast.Is: "is",
    ast.IsNot: "is not",
}
CONSTRUCTS = {
    ast.Subscript: "subscripting `[...]`",
    ast.Slice: "slicing",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Starred: "starred `*`",
    ast.NamedExpr: "the walrus `:=`",
    ast.IfExp: "a conditional expression (x if c else y)",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.List: "a list outside `in [...]` and `.isin([...])`",
    ast.Tuple: "a tuple outside `in (...)` and `.isin((...))`",
}


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text, its syntax tree, and the variables it reads (sorted)."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]


class _Refused(Exception):
    """A construct outside the language; `parse` turns it into one InputError."""


def parse(text: str, where: str, what: str = "filter") -> Expression:
    """The expression, validated against the language; InputError naming `where` otherwise.
    `what` names the expression in messages (a filter; a codebook's expression)."""
    if not isinstance(text, str):
        raise InputError(f"{where}: a {what} must be text, not {type(text).__name__} ({text!r}).")
    if len(text) > MAX_LENGTH:
        raise InputError(
            f"{where}: {what} {_quoted(text)} is {len(text)} characters long; the limit is {MAX_LENGTH}. {ALLOWED}"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        reason = getattr(e, "msg", None) or type(e).__name__
        raise InputError(f"{where}: {what} {_quoted(text)} does not parse ({reason}); {EXAMPLE}. {ALLOWED}") from None
    try:
        _check(tree.body, text, depth=1)
    except _Refused as refused:
        raise InputError(f"{where}: {what} {_quoted(text)} uses {refused}, which a {what} may not. {ALLOWED}") from None
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in BOOLEAN_NAMES}
    return Expression(text=text, tree=tree, variables=tuple(sorted(names)))


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
        raise _Refused(
            _attribute_name(node.attr) if not node.attr.startswith("_") else f"the underscore name `{node.attr}`"
        )
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
        raise _Refused(
            {
                bytes: "a bytes literal",
                complex: "a complex number",
                type(None): "None (test for missing values with x.isna())",
            }.get(type(value), f"the literal {value!r}")
        )
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
            _check(item, text, depth + 1)  # names what the item is, when it is refused
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
            _check(func, text, depth)  # names a lambda, a subscript... when it is one
        raise _Refused(f"a call of `{_segment(text, func)}(...)` (only the four methods can be called)")
    if func.attr.startswith("_"):
        raise _Refused(f"the underscore name `{func.attr}`")
    if func.attr not in ARITY:
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
    if attr in ARITY:
        return f"`.{attr}` without calling it on a variable"
    return f"the attribute `.{attr}`"


def _segment(text: str, node: ast.AST, limit: int = 60) -> str:
    segment = ast.get_source_segment(text, node) or type(node).__name__
    return segment if len(segment) <= limit else segment[:limit] + "…"
