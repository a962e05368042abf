"""A study's multiverse: its contestable choices expanded into variants (pure data).

Config (studies.<study>.multiverse; schemas/config.schema.yaml documents each key):

  choices      name -> {vary, options, and the target of `vary`}, each option name -> its value:
                 vary: sample_step, step: <a step of `sample`>
                       options: true (the step as declared), false (the step left out), or a filter
                       replacing the step's `keep` (expressions.py)
                 vary: subsample, subsample: <a subsample of `models.samples`>
                       options: a filter defining the subsample (null: the whole analytic sample)
                 vary: covariates
                       options: a list (the default covariates, `models.covariates`), or
                       {drop: [variables], add: [covariate entries]} applied to the default covariates
                       and to every equation's own (`{}` keeps them)
                 vary: vce
                       options: a variance type, for every equation (model_spec.VCE_TYPES)
                 vary: link, equation: <a glm equation>
                       options: a link (model_spec.LINK_NAMES)
  estimates    the key estimates: {equation, sample (default total), term, level, estimand (default
               the equation's own effect)}; `equation: two_part` names a two-part combination
  conclusions  published conclusions: {equation, sample, term, level, estimand, sign: positive or
               negative, text}, each one of the key estimates; the report gives the share of variants
               in which each holds (the sign, and p < 0.05)
  chunk        variants per job (default 8): hundreds of variants are tens of jobs
  title, note  the specification curve's caption

Variants are the product of the choices' options, in config order (the last choice varies
fastest), so that the first variant takes every choice's first option. A variant's identifier is
a digest of its (choice, option) pairs, sorted by choice name: it does not change when choices are
reordered or options are added. A variant whose sample and models are the study's own is the
main specification (`main` in multiverse.csv).

Free of numerical imports: Snakemake reads the number of chunks while parsing the workflow, and
config validation checks the choices (`check`) before any job starts.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from dataclasses import dataclass

from . import expressions
from .errors import InputError, closest
from .model_spec import LINK_NAMES, SUPPORTS, covariate_variables
from .outputs import MULTIVERSE_CHUNK as DEFAULT_CHUNK
from .outputs import MULTIVERSE_FIGURE as FIGURE
from .outputs import TWO_PART, multiverse_chunks

VARY = ("sample_step", "subsample", "covariates", "vce", "link")
# The key naming the target of each kind of choice (None: the choice has no target).
TARGET = {"sample_step": "step", "subsample": "subsample", "covariates": None, "vce": None, "link": "equation"}
# The links each GLM family takes (statsmodels' families.<Family>.links, in model_spec.LINK_NAMES).
FAMILY_LINKS = {
    "binomial": ("logit", "probit", "log", "cloglog", "identity"),
    "gamma": ("log", "identity", "inverse_power"),
    "gaussian": ("log", "identity", "inverse_power"),
    "poisson": ("log", "identity", "sqrt"),
    "inverse_gaussian": ("inverse_squared", "inverse_power", "identity", "log"),
    "negative_binomial": ("log", "cloglog", "identity"),
    "tweedie": ("log",),
}
SIGNS = ("positive", "negative")
SIGNIFICANCE = 0.05
# multiverse.csv: the variant, its choices (one column each, between `main` and `equation`), the estimate.
ESTIMATE_COLUMNS = [
    "equation",
    "sample",
    "term",
    "level",
    "estimand",
    "estimate",
    "std_error",
    "conf_low",
    "conf_high",
    "p_value",
    "n_obs",
    "message",
]


@dataclass(frozen=True)
class Variant:
    number: int  # 1, 2, ... in expansion order
    id: str  # a digest of the choices, independent of their order in config
    options: tuple  # (choice, option) in config order


def variants(multiverse: dict) -> list[Variant]:
    """Every variant, in expansion order (the product of the choices' options)."""
    choices = multiverse["choices"]
    names = list(choices)
    out = []
    for number, picked in enumerate(itertools.product(*(list(choices[c]["options"]) for c in names)), start=1):
        options = tuple(zip(names, picked))
        out.append(Variant(number, variant_id(options), options))
    return out


def variant_id(options) -> str:
    text = ";".join(f"{choice}={option}" for choice, option in sorted(options))
    return "v" + hashlib.sha256(text.encode()).hexdigest()[:10]


def n_variants(multiverse: dict) -> int:
    n = 1
    for choice in multiverse["choices"].values():
        n *= len(choice["options"])
    return n


def n_chunks(multiverse: dict) -> int:
    return multiverse_chunks(multiverse)


def chunk_variants(multiverse: dict, chunk: int) -> list[Variant]:
    """The variants of chunk `chunk` (numbered from 1): consecutive in expansion order."""
    size = multiverse.get("chunk", DEFAULT_CHUNK)
    return variants(multiverse)[(chunk - 1) * size : chunk * size]


def resolve(study: dict, variant: Variant) -> tuple[list[dict], dict]:
    """(sample steps, models) of a variant: the study's own with each choice's option applied."""
    steps = [dict(step) for step in study["sample"]]
    models = copy.deepcopy(study["models"])
    choices = study["multiverse"]["choices"]
    for name, option in variant.options:
        choice = choices[name]
        value = choice["options"][option]
        kind = choice["vary"]
        if kind == "sample_step":
            at = [i for i, step in enumerate(steps) if step and step["name"] == choice["step"]][0]
            if value is False:
                steps[at] = None
            elif isinstance(value, str):
                steps[at] = {**steps[at], "keep": value}
        elif kind == "subsample":
            models["samples"] = {**(models.get("samples") or {"total": None}), choice["subsample"]: value}
        elif kind == "covariates":
            if isinstance(value, list):
                models["covariates"] = list(value)
            else:
                models["covariates"] = _changed(models["covariates"], value)
                for eq in models["equations"].values():
                    if "covariates" in eq:
                        eq["covariates"] = _changed(eq["covariates"], value)
        elif kind == "vce":
            models["vce"] = value
            for eq in models["equations"].values():
                eq.pop("vce", None)
        elif kind == "link":
            models["equations"][choice["equation"]]["link"] = value
    return [s for s in steps if s is not None], models


def is_main(study: dict, variant: Variant) -> bool:
    """Whether the variant's sample and models are the study's own (the main specification)."""
    steps, models = resolve(study, variant)
    return steps == [dict(s) for s in study["sample"]] and _effective(models) == _effective(study["models"])


def _effective(models: dict) -> dict:
    """Models as they are fitted: each equation's variance resolved, the default subsample filled in."""
    vce = models.get("vce", "oim")
    return {
        **{k: v for k, v in models.items() if k not in ("vce", "equations", "samples")},
        "samples": models.get("samples") or {"total": None},
        "equations": {name: {**eq, "vce": eq.get("vce", vce)} for name, eq in models["equations"].items()},
    }


def _changed(covariates: list, change: dict) -> list:
    dropped = set(change.get("drop") or [])
    kept = [c for c in covariates if not set(covariate_variables(c)) & dropped]
    return kept + list(change.get("add") or [])


def key_estimates(study: dict) -> list[dict]:
    """The key estimates with their defaults filled in: sample total, the equation's own estimand."""
    models = study["models"]
    out = []
    for item in study["multiverse"]["estimates"]:
        equation = item["equation"]
        out.append(
            {
                "equation": equation,
                "sample": item.get("sample", "total"),
                "term": item["term"],
                "level": str(item.get("level", "")) if item.get("level") is not None else "",
                "estimand": item.get("estimand") or default_estimand(models, equation),
            }
        )
    return out


def default_estimand(models: dict, equation: str) -> str:
    """What an equation reports as its effect: its `estimand` (AMEs: ame), or its coefficients
    (odds ratios for a logit reporting them) when it reports no marginal effects."""
    if equation == TWO_PART:
        return "ame"
    eq = models["equations"][equation]
    report = eq.get("report") or (["coef", "odds_ratio"] if eq["kind"] == "melogit" else ["coef", "ame"])
    if "ame" in report:
        return eq.get("estimand") or "ame"
    return "odds_ratio" if "odds_ratio" in report else "coef"


def conclusion_key(item: dict, models: dict) -> tuple:
    """The key estimate a conclusion speaks of: (equation, sample, term, level, estimand)."""
    level = str(item["level"]) if item.get("level") is not None else ""
    estimand = item.get("estimand") or default_estimand(models, item["equation"])
    return (item["equation"], item.get("sample", "total"), item["term"], level, estimand)


def fitted_models(models: dict, estimates: list[dict]) -> dict:
    """The part of a variant's models the key estimates need: their equations and their subsamples,
    reporting only the estimands asked for. A two-part model's parts are fitted together (as the main
    run fits them) only when its combination is a key estimate, or its second part is one and has no
    `keep` (its rows are then the positive outcomes); otherwise each part is fitted alone, on the rows
    the main run fits it on."""
    needed = {e["equation"] for e in estimates}
    pair = models.get("two_part") or {}
    together = bool(pair) and (
        TWO_PART in needed or (pair["second"] in needed and not models["equations"][pair["second"]].get("keep"))
    )
    if together:
        needed |= {pair["first"], pair["second"]}
    equations = {}
    for name, eq in models["equations"].items():
        if name not in needed:
            continue
        wanted = {e["estimand"] for e in estimates if e["equation"] == name}
        report = [
            item
            for item in ("coef", "ame", "odds_ratio")
            if (item == "coef" and "coef" in wanted)
            or (item == "odds_ratio" and "odds_ratio" in wanted)
            or (item == "ame" and wanted - {"coef", "odds_ratio"})
        ]
        reduced = {**eq, "report": report or ["coef"]}
        if not wanted - {"coef", "odds_ratio", eq.get("estimand") or "ame"}:
            reduced.pop("margins", None)
        equations[name] = reduced
    samples = models.get("samples") or {"total": None}
    used = {e["sample"] for e in estimates}
    return {
        **models,
        "equations": equations,
        "samples": {name: keep for name, keep in samples.items() if name in used},
        "two_part": pair if together else None,
    }


def choice_expressions(study: dict, where: str):
    """(key path, text) of every filter the choices hold (parsed before any job; the variables they
    name must be provided by the study's datasets)."""
    for name, choice in (study.get("multiverse") or {}).get("choices", {}).items():
        if choice["vary"] in ("sample_step", "subsample"):
            for option, value in choice["options"].items():
                if isinstance(value, str):
                    yield f"{where}.multiverse.choices.{name}.options.{option}", value


def choice_covariates(study: dict, where: str):
    """(key path, covariate entry) of every covariate the choices add."""
    for name, choice in (study.get("multiverse") or {}).get("choices", {}).items():
        if choice["vary"] == "covariates":
            for option, value in choice["options"].items():
                for item in value if isinstance(value, list) else (value or {}).get("add") or []:
                    yield f"{where}.multiverse.choices.{name}.options.{option}", item


def _one_of(name, allowed, where: str, what: str) -> None:
    allowed = list(allowed)
    if name not in allowed:
        raise InputError(
            f"{where}: '{name}' is not {what}; allowed: {', '.join(map(str, allowed)) or 'none'}"
            f"{closest(str(name), map(str, allowed))}."
        )


def check(study: dict, where: str, survey: dict | None = None) -> None:
    """The multiverse's cross-references, with the key path and the closest valid names: each
    choice's target and options, the key estimates and conclusions. Filters are parsed here."""
    spec = study["multiverse"]
    at = f"{where}.multiverse"
    models = study.get("models")
    if not models:
        raise InputError(f"{at}: the study has no `models`; a multiverse varies a study's models and sample.")
    if FIGURE in (study.get("figures") or {}):
        raise InputError(f"{where}.figures.{FIGURE}: the name of the multiverse's figure; rename the figure.")
    steps = [step["name"] for step in study["sample"]]
    samples = list(models.get("samples") or {"total": None})
    equations = models["equations"]
    for name, choice in spec["choices"].items():
        here = f"{at}.choices.{name}"
        kind = choice["vary"]
        target = TARGET[kind]
        for key in set(TARGET.values()) - {None, target}:
            if key in choice:
                raise InputError(
                    f"{here}.{key}: belongs to another kind of choice; vary {kind} takes {target or 'no target'}."
                )
        if target and target not in choice:
            raise InputError(f"{here}: vary {kind} needs `{target}:` (which {target} the options replace).")
        if kind == "sample_step":
            _one_of(choice["step"], steps, f"{here}.step", "a step of the study's sample")
        elif kind == "subsample":
            _one_of(choice["subsample"], samples, f"{here}.subsample", "a subsample of the study's models")
        elif kind == "link":
            _one_of(choice["equation"], equations, f"{here}.equation", "an equation of the study")
            if equations[choice["equation"]]["kind"] != "glm":
                raise InputError(
                    f"{here}.equation: '{choice['equation']}' is a {equations[choice['equation']]['kind']}; "
                    f"only kind glm equations take a link."
                )
        for option, value in choice["options"].items():
            _check_option(kind, value, f"{here}.options.{option}", models, survey)
            if kind == "link":
                family = equations[choice["equation"]].get("family")
                _one_of(
                    value,
                    FAMILY_LINKS.get(family, LINK_NAMES),
                    f"{here}.options.{option}",
                    f"a link of family {family}",
                )
    for at_option, text in choice_expressions(study, where):
        expressions.parse(text, at_option)
    columns = list(equations) + ([TWO_PART] if models.get("two_part") else [])
    keys = []
    for i, item in enumerate(spec["estimates"]):
        here = f"{at}.estimates[{i}]"
        _one_of(item["equation"], columns, f"{here}.equation", "a model of the study")
        _one_of(item.get("sample", "total"), samples, f"{here}.sample", "a subsample of the study's models")
        keys.append(conclusion_key(item, models))
    if len(set(keys)) < len(keys):
        raise InputError(f"{at}.estimates: an estimate is listed twice.")
    for i, item in enumerate(spec.get("conclusions") or []):
        here = f"{at}.conclusions[{i}]"
        key = conclusion_key(item, models) if item.get("equation") in columns else None
        if key not in keys:
            listed = [f"{k[0]}/{k[1]}/{k[2]}" + (f"={k[3]}" if k[3] else "") + f" ({k[4]})" for k in keys]
            shown = f"{item.get('equation')}/{item.get('sample', 'total')}/{item.get('term')}" + (
                f"={item['level']}" if item.get("level") is not None else ""
            )
            raise InputError(
                f"{here}: {shown} is not one of the key estimates ({at}.estimates: {'; '.join(listed)})"
                f"{closest(shown, [k.split(' (')[0] for k in listed])}. A conclusion is judged on a key estimate."
            )


def _check_option(kind: str, value, at: str, models: dict, survey: dict | None) -> None:
    if kind == "sample_step" and not isinstance(value, (bool, str)):
        raise InputError(f"{at}: write true (the step as declared), false (left out) or a filter replacing it.")
    if kind == "subsample" and value is not None and not isinstance(value, str):
        raise InputError(f"{at}: write a filter defining the subsample, or null (the whole analytic sample).")
    if kind == "covariates":
        if isinstance(value, dict):
            unknown = set(value) - {"drop", "add"}
            if unknown:
                raise InputError(f"{at}: {', '.join(sorted(unknown))}: allowed keys here: drop, add.")
            present = {v for c in models["covariates"] for v in covariate_variables(c)}
            for variable in value.get("drop") or []:
                _one_of(variable, sorted(present), f"{at}.drop", "a variable of the default covariates")
        elif not isinstance(value, list):
            raise InputError(f"{at}: write a list of covariates, or {{drop: [...], add: [...]}}.")
    if kind == "vce":
        vces = list(SUPPORTS["probit"].vce)
        _one_of(value, vces, at, "a variance type")
        for name, eq in models["equations"].items():
            if value not in SUPPORTS[eq["kind"]].vce:
                raise InputError(
                    f"{at}: kind {eq['kind']} (equation {name}) supports vce {', '.join(SUPPORTS[eq['kind']].vce)}."
                )
        if value == "cluster" and not models.get("cluster"):
            raise InputError(f"{at}: vce cluster needs models.cluster (the variable identifying clusters).")
        if value == "survey" and not survey:
            raise InputError(f"{at}: vce survey needs the sampling design (`survey:` on the study or its dataset).")
        if value in ("oim", "eim") and models.get("weights"):
            raise InputError(f"{at}: probability weights need vce robust, cluster or survey (as in Stata).")
    if kind == "link":
        _one_of(value, LINK_NAMES, at, "a link")


def uses_survey(multiverse: dict, models: dict) -> bool:
    """Whether any variant fits with vce survey (its jobs then read the whole file's design)."""
    own = {eq.get("vce", models.get("vce", "oim")) for eq in models["equations"].values()}
    varied = {v for c in multiverse["choices"].values() if c["vary"] == "vce" for v in c["options"].values()}
    return "survey" in own | varied
