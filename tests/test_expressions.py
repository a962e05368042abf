"""The expression language of config.yaml: same masks as the old pandas-eval route for every
expression in config.yaml, no Python reachable from a config text, and each construct's
behaviour (missing values included)."""

import ast
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrant_health import evaluation, expressions, sample
from migrant_health.errors import InputError
from migrant_health.evaluation import evaluate, indicator
from migrant_health.expressions import parse
from migrant_health.io.yamlfile import read_yaml

ROOT = Path(__file__).resolve().parents[1]
INTERIM = ROOT / "data" / "interim"  # canonical microdata, present after `make`; never committed
WHERE = "config.yaml: studies.benefit.sample[4] 'reimbursement_reported'"


# ---------------------------------------------------------------------------------------------
# Frames: a small synthetic one with the canonical dtypes, and the real canonical files if present.

CATEGORIES = {
    "hospitalisation_place": ["current_city", "hometown", "elsewhere"],
    "hospitalisation_reason": ["illness", "injury", "childbirth", "other"],
    "insurance_programme": ["NCMS", "URBMI", "UEBMI", "multiple", "none"],
    "no_reimbursement_reason": ["go_back_hometown", "unaware_of_process", "policy_coverage", "other"],
    "willing_to_stay": ["yes", "no", "not_sure"],
    "migration_scope": ["within_city", "across_cities", "across_provinces"],
}
BOOLEANS = [
    "inpatient_12m",
    "reimbursed",
    "rural_hukou",
    "urban_area",
    "employed",
    "holds_ncms",
    "outpatient_2w",
    "ill_2w",
    "local_insurance",
    "visited_care_12m",
    "medical_return",
    "female",
]
NUMBERS = ["age", "reimbursement_amount", "migration_duration_years", "income_per_capita"]


def synthetic_frame(n: int = 400, seed: int = 20240501) -> pd.DataFrame:
    """Every variable config.yaml's expressions read, with its canonical dtype and about 15%
    missing (more than the real files have, to exercise the missing-value rules), plus an
    Int64 and an object-text column."""
    rng = np.random.default_rng(seed)

    def gaps():
        return rng.random(n) < 0.15

    frame = {}
    for name in BOOLEANS:
        values = pd.array(rng.random(n) < 0.5, dtype="boolean")
        values[gaps()] = pd.NA
        frame[name] = values
    for name, levels in CATEGORIES.items():
        codes = np.where(gaps(), -1, rng.integers(0, len(levels), n))
        frame[name] = pd.Categorical.from_codes(codes, levels)
    for name in NUMBERS:
        values = rng.normal(40, 20, n).round(1)
        values[gaps()] = np.nan
        frame[name] = values
    frame["age"] = np.round(frame["age"])  # whole years, as in the survey
    frame["city"] = pd.array(rng.integers(1, 30, n), dtype="Int64")
    frame["city"][gaps()] = pd.NA
    frame["city_name"] = pd.Series(np.where(gaps(), None, rng.choice(["Jinan", "Qingdao", "Yantai"], n)), dtype=object)
    return pd.DataFrame(frame)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_frame()


@pytest.fixture(scope="module")
def canonical_files() -> dict[str, pd.DataFrame]:
    frames = {p.stem: pd.read_parquet(p) for p in sorted(INTERIM.glob("*.parquet"))}
    if not frames:
        pytest.skip(f"no canonical files in {INTERIM} (run `make` first)")
    return frames


# ---------------------------------------------------------------------------------------------
# The old route, kept here only to compare with: pandas' eval over config.yaml's own expressions.


def pandas_eval_masks(df: pd.DataFrame, text: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(kept, missing, indicator) as sample.evaluate and plots.share_by_group computed them
    before the expression language (never call this with untrusted text)."""
    import builtins

    names = {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
    names = sorted(names - set(dir(builtins)) - {"true", "false"})
    missing = df[names].isna().any(axis=1) if names else pd.Series(False, index=df.index)
    condition = df.eval(text, engine="python")
    return condition.fillna(False).astype(bool) & ~missing, missing, condition.fillna(False).astype(bool)


def config_expressions() -> list[tuple[str, str]]:
    """(key path, expression) of every expression in config.yaml: `keep`, `indicator`, and
    the subsamples under models.samples."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                at = f"{path}.{key}" if path else str(key)
                if key in ("keep", "indicator") and isinstance(value, str):
                    found.append((at, value))
                elif key == "samples" and isinstance(value, dict):
                    found.extend((f"{at}.{n}", e) for n, e in value.items() if isinstance(e, str))
                else:
                    walk(value, at)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(read_yaml(ROOT / "config.yaml"), "")
    return found


CONFIG_EXPRESSIONS = config_expressions()


def test_config_expressions_are_all_found():
    # Sample keeps of four studies, subsamples, equation keeps, table columns, figure keep and indicator.
    assert len(CONFIG_EXPRESSIONS) >= 25
    assert {
        "studies.benefit.figures.figure2.indicator",
        "studies.benefit.models.samples.urban",
        "studies.benefit.models.equations.amount.keep",
        "studies.benefit.tables.table1.columns[2].keep",
    } <= {path for path, _ in CONFIG_EXPRESSIONS}


def _assert_same_masks(df: pd.DataFrame, path: str, text: str) -> None:
    kept, missing = evaluate(df, text, path)
    old_kept, old_missing, old_indicator = pandas_eval_masks(df, text)
    pd.testing.assert_series_equal(kept, old_kept, check_names=False)
    pd.testing.assert_series_equal(missing, old_missing, check_names=False)
    if path.endswith(".indicator"):
        pd.testing.assert_series_equal(indicator(df, text, path), old_indicator, check_names=False)


@pytest.mark.parametrize("path, text", CONFIG_EXPRESSIONS, ids=[p for p, _ in CONFIG_EXPRESSIONS])
def test_config_expression_keeps_the_rows_pandas_eval_kept(frame, path, text):
    _assert_same_masks(frame, path, text)


@pytest.mark.parametrize("path, text", CONFIG_EXPRESSIONS, ids=[p for p, _ in CONFIG_EXPRESSIONS])
def test_config_expression_on_the_canonical_files(canonical_files, path, text):
    readers = [df for df in canonical_files.values() if set(parse(text, path).variables) <= set(df.columns)]
    assert readers, f"{path}: no canonical file has the variables of `{text}`"
    for df in readers:
        _assert_same_masks(df, path, text)


def test_synthetic_frame_has_the_canonical_dtypes(frame, canonical_files):
    for df in canonical_files.values():
        for name in set(frame.columns) & set(df.columns):
            assert type(frame[name].dtype) is type(df[name].dtype), name


# ---------------------------------------------------------------------------------------------
# Refused: each attack names the key path, quotes the text, names the construct, lists the
# allowed forms, and has no side effect.

ATTACKS = [
    (
        "visited_care_12m and age.__class__.__init__.__globals__.get('sys').modules.get('os')"
        ".system('id > out.txt') == 0",
        "the method `.system()`",
    ),
    ("reimbursed and age.to_csv('leak.csv') == 0", "the method `.to_csv()`"),
    ("age.__class__", "the underscore name `__class__`"),
    ("age.__class__.__init__.__globals__['sys']", "subscripting"),
    ("__import__('os').system('touch canary')", "the method `.system()`"),
    ("__import__('os')", "a call of `__import__(...)`"),
    ("open('canary', 'w')", "a call of `open(...)`"),
    ("age.to_csv('canary')", "the method `.to_csv()`"),
    ("(lambda: 1)()", "a lambda"),
    ("[x for x in age]", "a comprehension"),
    ("age[0]", "subscripting"),
    ("getattr(age, 'x')", "a call of `getattr(...)`"),
    ("age.isin.__self__", "the underscore name `__self__`"),
    ("f'{age}' == 'x'", "an f-string"),
    ("(y := 1) == 1", "the walrus `:=`"),
    ("eval('1')", "a call of `eval(...)`"),
    ("df.query('age > 1')", "the method `.query()`"),
    ("'a'.join(['b'])", "the method `.join()`"),
    ("'a'.join", "the attribute `.join`"),
    ("age.isin(values=[1])", "the keyword argument `values=`"),
    ("age.between(1, 2, inclusive='both')", "the keyword argument `inclusive=`"),
    ("age.isin(*[1])", "starred `*`"),
    ("1 if age else 0", "a conditional expression"),
    ("age in {1, 2}", "`in` with something other than a list of literals"),
    ("{'a': 1}", "a dict"),
    ("age == b'x'", "a bytes literal"),
    ("age == 1j", "a complex number"),
    ("age is None", "the operator `is`"),
    ("age == None", "None"),
    ("inpatient_12m & reimbursed", "the operator `& (write and)`"),
    ("_private > 1", "the underscore name `_private`"),
    ("age.values", "the attribute `.values`"),
    ("age.isna().sum()", "the method `.sum()`"),
    ("(age + 1).isna()", "`.isna()` on something other than a variable"),
    ("True.__class__", "the underscore name `__class__`"),
    ("age.isna", "`.isna` without calling it on a variable"),
    ("age in [reimbursed]", "a list holding something other than literals"),
    ("age in other_age", "`in` with something other than a list of literals"),
    ("age.between(low, 2)", "`.between()` with something other than two numbers"),
    ("age @ age", "the operator `@`"),
    ("globals()", "a call of `globals(...)`"),
    ("not " * 60 + "reimbursed", f"nesting deeper than {expressions.MAX_DEPTH} levels"),
    ("-" * 1990 + "1", f"nesting deeper than {expressions.MAX_DEPTH} levels"),
    ("1" * 400 + " > age", "a number too large"),
]


@pytest.mark.parametrize("text, construct", ATTACKS, ids=[t[:40] for t, _ in ATTACKS])
def test_attack_is_refused_naming_the_construct(frame, tmp_path, monkeypatch, text, construct):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as refused:
        evaluate(frame, text, WHERE)
    message = str(refused.value)
    assert message.startswith(f"{WHERE}: filter `{text[:200]}")
    assert construct in message
    assert "Allowed: canonical variables" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []  # no canary, no out.txt, no leak.csv


@pytest.mark.parametrize(
    "text",
    [
        "age > 1 and " * 200 + "reimbursed",
        "[" * 300 + "]" * 300,
        "age >>= 3",
        "age\x00",
        "",
        "*age",
        "`age` > 1",
        "@limit < age",
    ],
)
def test_long_or_unparsable_text_is_refused(frame, text):
    with pytest.raises(InputError, match="characters long; the limit is 2000|does not parse") as refused:
        evaluate(frame, text, WHERE)
    assert str(refused.value).startswith(WHERE) and "Allowed:" in str(refused.value)


def test_text_that_is_not_a_string_is_refused():
    with pytest.raises(InputError, match=r"a filter must be text, not bool \(True\)"):
        parse(True, WHERE)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("'x' * 1000000000 == 'x'", "uses text where a number is needed"),
        ("insurance_programme < 'NCMS'", "orders text"),
        ("insurance_programme == 1", "compares text with number"),
        ("insurance_programme in ['NCMS', 1]", "compares text with number"),
        ("age", "does not give true/false for each row"),
        ("insurance_programme", "does not give true/false for each row"),
        ("not age", "uses number where true/false is needed"),
        ("reimbursed and age", "uses number where true/false is needed"),
        ("city_name.between(1, 2)", "uses text where a number is needed"),
    ],
)
def test_ill_typed_expression_is_refused_when_evaluated(frame, text, problem):
    parse(text, WHERE)  # the language allows the form; the variables' types do not
    with pytest.raises(InputError) as refused:
        evaluate(frame, text, WHERE)
    assert str(refused.value).startswith(f"{WHERE}: filter `{text}`") and problem in str(refused.value)


def test_unknown_variables_are_named_with_the_closest_ones(frame):
    with pytest.raises(
        InputError,
        match=r"names unknown variables: 'agee'; closest: age; 'reimbursd'; "
        r"closest: reimbursed.*Use a canonical variable",
    ):
        evaluate(frame, "agee > 18 and reimbursd", WHERE)


def test_huge_powers_are_floats_not_endless_integers(frame):
    kept, _ = evaluate(frame, "10 ** 10 ** 10 > age and 2 ** 99999 == 2 ** 99999", WHERE)
    assert kept.equals(frame["age"].notna())


# ---------------------------------------------------------------------------------------------
# Each construct's behaviour, with missing values.


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0, 35.0, np.nan, 59.0, 16.0],
            "visits": pd.array([0, 2, 5, None, 1], dtype="Int64"),
            "inpatient_12m": pd.array([True, False, True, None, True], dtype="boolean"),
            "reimbursed": pd.array([True, True, None, False, False], dtype="boolean"),
            "place": pd.Categorical(["current_city", "hometown", None, "current_city", "elsewhere"]),
            "city_name": pd.Series(["Jinan", None, "Qingdao", "Jinan", "Yantai"], dtype=object),
        }
    )


def rows(df: pd.DataFrame, text: str) -> list[int]:
    return np.flatnonzero(evaluate(df, text, WHERE)[0]).tolist()


def yes(df: pd.DataFrame, text: str) -> list[int]:
    return np.flatnonzero(indicator(df, text, WHERE)).tolist()


@pytest.mark.parametrize(
    "text, kept",
    [
        ("inpatient_12m", [0, 2, 4]),  # a true/false variable; missing not kept
        ("true", [0, 1, 2, 3, 4]),
        ("True", [0, 1, 2, 3, 4]),
        ("false", []),
        ("inpatient_12m == true", [0, 2, 4]),
        ("inpatient_12m != False", [0, 2, 4]),
        ("age >= 35", [1, 3]),
        ("age < 20", [4]),
        ("age <= 20.0", [0, 4]),
        ("age > 59", []),
        ("visits == 2", [1]),
        ("visits != 0", [1, 2, 4]),  # Int64, missing not kept
        ("place == 'current_city'", [0, 3]),
        ("place != 'hometown'", [0, 3, 4]),  # the missing place is not kept
        ("city_name == 'Jinan'", [0, 3]),
        ("city_name != 'Jinan'", [2, 4]),
        ("place in ['hometown', 'elsewhere']", [1, 4]),
        ("place not in ['hometown']", [0, 3, 4]),
        ("place in ('hometown',)", [1]),
        ("place in []", []),
        ("reimbursed in [True]", [0, 1]),
        ("reimbursed not in [true]", [3, 4]),
        ("visits in [0, 1]", [0, 4]),
        ("age in [-1, 20]", [0]),
        ("inpatient_12m and reimbursed", [0]),
        ("inpatient_12m or reimbursed", [0, 1, 4]),
        ("not reimbursed", [3, 4]),
        ("~reimbursed", [3, 4]),
        ("not (inpatient_12m and reimbursed)", [1, 4]),
        ("age + 1 > 36", [3]),
        ("age - 20 == 0", [0]),
        ("age * 2 == 70", [1]),
        ("age / 2 == 10", [0]),
        ("age // 10 == 3", [1]),
        ("age % 2 == 1", [1, 3]),
        ("age ** 2 == 400", [0]),
        ("-age < -50", [3]),
        ("+age == 16", [4]),
        ("visits / 0 > 1", [1, 2, 4]),  # 2/0 is inf, 0/0 is nan
        ("16 <= age <= 20", [0, 4]),
        ("age < 30 < visits", []),
        ("(age > 30 or inpatient_12m) and not reimbursed", [4]),  # row 3's inpatient_12m is missing
        ("place.notna()", [0, 1, 3, 4]),
        ("visits.notna() and age.notna()", [0, 1, 4]),
        ("age.isna()", []),  # a filter keeps only rows where the variables it names are observed
        ("place.isin(['hometown', 'current_city'])", [0, 1, 3]),
        ("reimbursed.isin([False])", [3, 4]),
        ("age.between(20, 59)", [0, 1, 3]),
        ("age.between(-1.5, 19)", [4]),
        ("age.between(35, 35)", [1]),  # both ends included
    ],
)
def test_construct_keeps_the_right_rows(people, text, kept):
    assert rows(people, text) == kept


def test_missing_marks_rows_where_a_named_variable_is_missing(people):
    kept, missing = evaluate(people, "age > 18 or place.isna()", WHERE)
    assert missing.tolist() == [False, False, True, False, False]
    assert not (kept & missing).any()  # age.isna() is true on row 2, but age is missing there


def test_and_or_not_follow_three_valued_logic(people):
    # Row 3: inpatient_12m missing, reimbursed False; row 2: reimbursed missing, inpatient_12m True.
    assert yes(people, "inpatient_12m and reimbursed") == [0]  # missing and false is false
    assert yes(people, "inpatient_12m or reimbursed") == [0, 1, 2, 4]  # true or missing is true
    assert yes(people, "not (inpatient_12m and reimbursed)") == [1, 3, 4]
    assert yes(people, "not (inpatient_12m or reimbursed)") == []
    # A filter still keeps only rows where every named variable is observed.
    assert rows(people, "inpatient_12m or reimbursed") == [0, 1, 4]


def test_indicator_counts_a_missing_result_as_no(people):
    assert yes(people, "place == 'current_city'") == [0, 3]
    assert yes(people, "place != 'hometown'") == [0, 3, 4]  # pandas' NaN != 'x' would say yes
    assert yes(people, "not reimbursed") == [3, 4]
    assert yes(people, "reimbursed.isna()") == [2]
    assert yes(people, "visits.isna() or age.isna()") == [2, 3]


def test_expression_knows_its_variables():
    expression = parse("reimbursed and reimbursement_amount.notna() or age.between(1, 2) or true", WHERE)
    assert expression.variables == ("age", "reimbursed", "reimbursement_amount")
    assert expression.text.startswith("reimbursed and")
    assert sample.variables_named("place in ['a'] and not false", WHERE) == ["place"]


def test_evaluate_takes_a_parsed_expression_or_its_text(people):
    expression = parse("age > 18", WHERE)
    assert evaluate(people, expression, WHERE)[0].equals(evaluate(people, "age > 18", WHERE)[0])
    assert sample.evaluate(people, "age > 18", WHERE)[0].equals(evaluate(people, expression, WHERE)[0])


def test_masks_keep_the_frame_index(people):
    shifted = people.set_index(pd.Index([10, 11, 12, 13, 14]))
    kept, missing = evaluate(shifted, "age > 18", WHERE)
    assert kept.index.equals(shifted.index) and missing.index.equals(shifted.index)
    assert kept.dtype == bool and missing.dtype == bool


def test_an_empty_frame_keeps_no_rows(people):
    kept, missing = evaluate(people.iloc[:0], "place == 'hometown' and age > 1", WHERE)
    assert len(kept) == len(missing) == 0


# ---------------------------------------------------------------------------------------------
# Fuzzing: only InputError ever escapes, and the grammar decides acceptance exactly.

FUZZ = settings(
    max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ_FRAME = synthetic_frame(n=40, seed=7)
VARIABLES = [
    "age",
    "reimbursement_amount",
    "city",  # numbers (float64, Int64)
    "inpatient_12m",
    "reimbursed",
    "female",  # true/false (boolean)
    "insurance_programme",
    "city_name",
]  # text (categorical, object)
TOKENS = VARIABLES + [
    "1",
    "2.5",
    "-3",
    "'NCMS'",
    '"x"',
    "true",
    "False",
    "None",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "and",
    "or",
    "not",
    "~",
    "in",
    "is",
    "if",
    "else",
    "for",
    "lambda",
    "==",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "&",
    "|",
    "@",
    ":=",
    ".isna()",
    ".notna()",
    ".isin(",
    ".between(",
    "__class__",
    "__import__",
    "open",
    "eval",
    "f'",
    "b'",
    "1j",
    "_x",
    "os",
    "system",
]


@FUZZ
@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # Python's parser on `1and`, `1j2`...
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join),
        st.lists(st.sampled_from(TOKENS), max_size=25).map("".join),
    )
)
def test_random_text_raises_nothing_but_input_error(text):
    try:
        evaluate(FUZZ_FRAME, text, WHERE)
        indicator(FUZZ_FRAME, text, WHERE)
    except InputError:
        pass


LITERAL = st.one_of(
    st.integers(-(10**6), 10**6).map(repr),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(max_size=4).map(repr),
    st.sampled_from(["True", "False", "true", "false"]),
)


def _literal_list(items: list[str], as_tuple: bool) -> str:
    return f"({', '.join(items)},)" if as_tuple and items else f"[{', '.join(items)}]"


LITERAL_LIST = st.builds(_literal_list, st.lists(LITERAL, max_size=3), st.booleans())
ALLOWED_LEAF = st.one_of(
    st.sampled_from(VARIABLES),
    LITERAL,
    st.builds("{}.isna()".format, st.sampled_from(VARIABLES)),
    st.builds("{}.notna()".format, st.sampled_from(VARIABLES)),
    st.builds("{}.isin({})".format, st.sampled_from(VARIABLES), LITERAL_LIST),
    st.builds(
        "{}.between({}, {})".format,
        st.sampled_from(VARIABLES),
        st.integers(-100, 100).map(repr),
        st.floats(-1e3, 1e3).map(repr),
    ),
)
FORBIDDEN_LEAF = st.sampled_from(
    [text for text, _ in ATTACKS]
    + [
        "None",
        "...",
        "_age",
        "age.isin([None])",
        "age.isin([age])",
        "age.isin([1j])",
        "age.isna(1)",
        "age.between(1)",
        "age.between('a', 'b')",
        "age.notna(*[])",
        "{age}",
        "[age]",
        "(age, 1)",
        "age.isin([--1])",
        "age.isin([-True])",
        "true.isna()",
        "(lambda x: x)",
        "age[1:2]",
        "(age for age in [1])",
        "{x: 1 for x in [1]}",
        "not_a_method()",
        "age.isin(lambda: 1)",
    ]
)
ALLOWED_BINARY = ["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "and", "or"]
FORBIDDEN_BINARY = ["&", "|", "^", "<<", ">>", "@", "is", "is not"]


def _combine(children):
    """Expressions over smaller ones, each with whether it is in the language."""
    pair = st.tuples(children, children)
    return st.one_of(
        st.builds(
            lambda ab, op: (f"({ab[0][0]}) {op} ({ab[1][0]})", ab[0][1] and ab[1][1]),
            pair,
            st.sampled_from(ALLOWED_BINARY),
        ),
        st.builds(lambda ab, op: (f"({ab[0][0]}) {op} ({ab[1][0]})", False), pair, st.sampled_from(FORBIDDEN_BINARY)),
        st.builds(lambda a, op: (f"{op}({a[0]})", a[1]), children, st.sampled_from(["not ", "~", "-", "+"])),
        st.builds(
            lambda a, op, items: (f"({a[0]}) {op} {items}", a[1]),
            children,
            st.sampled_from(["in", "not in"]),
            LITERAL_LIST,
        ),
        st.builds(lambda a, v: (f"({a[0]}) in {v}", False), children, st.sampled_from(VARIABLES)),  # not a list
        st.builds(lambda a: (f"({a[0]} + 1).isna()", False), children),  # a method on an expression
        st.builds(lambda a: (f"[{a[0]}]", False), children),  # a list outside `in`
    )


# Allowed leaves three times as often as forbidden ones, so that many expressions get evaluated.
ALLOWED_CASE, FORBIDDEN_CASE = ALLOWED_LEAF.map(lambda t: (t, True)), FORBIDDEN_LEAF.map(lambda t: (t, False))
GRAMMAR = st.recursive(st.one_of(ALLOWED_CASE, ALLOWED_CASE, ALLOWED_CASE, FORBIDDEN_CASE), _combine, max_leaves=8)
ALLOWED_NODES = set(evaluation.EVALUATORS)
ALLOWED_METHODS = {"isna", "notna", "isin", "between"}
# Python's eval machinery, pandas' eval/query, files and processes: none of it may run.
FORBIDDEN_CALLS = {
    "eval",
    "exec",
    "compile",
    "open",
    "__import__",
    "system",
    "popen",
    "to_csv",
    "query",
    "breakpoint",
    "globals",
    "locals",
    "vars",
    "getattr",
}


PANDAS_EVAL = "pandas/core/computation/eval"  # DataFrame.eval and .query end up here


class CallRecorder:
    """What a piece of code calls, seen by the profiler: builtins by name, Python functions by
    name and file (getattr is recorded from this module's evaluator only, where a call would
    mean a name from the text reached an attribute lookup)."""

    def __init__(self):
        self.forbidden = []

    def __call__(self, frame, event, arg):
        if event == "c_call":
            name = getattr(arg, "__name__", "")
            in_evaluator = frame.f_code.co_filename in (expressions.__file__, evaluation.__file__)
            if name in FORBIDDEN_CALLS and (name != "getattr" or in_evaluator):
                self.forbidden.append(name)
        elif event == "call" and (
            frame.f_code.co_name in FORBIDDEN_CALLS - {"getattr"} or PANDAS_EVAL in frame.f_code.co_filename
        ):
            self.forbidden.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")


def test_call_recorder_sees_the_old_pandas_eval_route(frame):
    recorder = CallRecorder()
    sys.setprofile(recorder)
    try:
        pandas_eval_masks(frame, "age > 18")
    finally:
        sys.setprofile(None)
    assert recorder.forbidden


@settings(FUZZ, max_examples=500)
@given(GRAMMAR)
def test_grammar_decides_acceptance_and_evaluation_calls_only_the_whitelist(case):
    text, allowed = case
    try:
        expression = parse(text, WHERE)
    except InputError:
        assert not allowed, f"refused an expression in the language: {text}"
        return
    assert allowed, f"accepted an expression outside the language: {text}"
    visited, methods, recorder = set(), [], CallRecorder()

    def recording(table, key, seen):
        function = table[key]

        def wrapper(*args):
            seen(key)
            return function(*args)

        return wrapper

    with pytest.MonkeyPatch.context() as mp:
        for node_type in list(evaluation.EVALUATORS):
            mp.setitem(evaluation.EVALUATORS, node_type, recording(evaluation.EVALUATORS, node_type, visited.add))
        for name in list(evaluation.METHODS):
            mp.setitem(evaluation.METHODS, name, recording(evaluation.METHODS, name, methods.append))
        sys.setprofile(recorder)
        try:
            evaluate(FUZZ_FRAME, expression, WHERE)
        except InputError:
            pass  # ill-typed (text + number...): refused, with nothing run
        finally:
            sys.setprofile(None)
    assert visited <= ALLOWED_NODES
    assert set(methods) <= ALLOWED_METHODS
    assert recorder.forbidden == []
