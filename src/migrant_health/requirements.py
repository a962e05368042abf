"""Which canonical variables each study uses, and whether each dataset's codebook provides them.

A study reads variables in its sample filters, quantile groups, tables, models, figures and
concentration stage; a variable the codebook does not declare may still be derived by the
survey's derivations (derive.py), which then need their own inputs. The workflow checks this
for every dataset of every study when it starts (rules/common.smk), before any job writes
anything, and lists everything missing with where it is used; `migrant-health codebook draft`
lists the same variables for a new codebook.

Free of numerical imports: Snakemake runs it while parsing the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import derive, expressions, multiverse
from .errors import InputError, closest
from .io.codebook_file import WAVE, check_header, read_document
from .model_spec import covariate_variables
from .outputs import study_datasets

# Filled by the pipeline itself (the codebook's `wave:`), never needed from a codebook.
PROVIDED = (WAVE,)
SHOWN_PLACES = 3


def study_needs(name: str, study: dict) -> dict[str, list[str]]:
    """Canonical variable -> the config keys that use it (quantile groups formed within the
    sample and the pipeline's own `wave` left out)."""
    where = f"studies.{name}"
    needs: dict[str, list[str]] = {}

    def add(variable, place):
        if isinstance(variable, str):
            needs.setdefault(variable, []).append(place)

    def read(text, place):
        for variable in expressions.parse(text, place).variables:
            add(variable, place)

    def covariate(item, place):
        try:
            for variable in covariate_variables(item):
                add(variable, place)
        except InputError as e:
            raise InputError(f"config.yaml: {place}: {e}") from None

    for i, step in enumerate(study["sample"]):
        read(step["keep"], f"{where}.sample[{i}] '{step['name']}'")
    groups = study.get("quantile_groups") or {}
    for group, spec in groups.items():
        add(spec["variable"], f"{where}.quantile_groups.{group}")
    for table, spec in (study.get("tables") or {}).items():
        at = f"{where}.tables.{table}"
        if spec.get("by"):
            add(spec["by"], f"{at}.by")
        for i, column in enumerate(spec["columns"]):
            if column.get("keep"):
                read(column["keep"], f"{at}.columns[{i}]")
        for i, row in enumerate(spec["rows"]):
            add(row["term"], f"{at}.rows[{i}] '{row['term']}'")
    models = study.get("models") or {}
    if models:
        at = f"{where}.models"
        for item in models.get("covariates") or []:
            covariate(item, f"{at}.covariates")
        vces = {eq.get("vce", models.get("vce", "oim")) for eq in models["equations"].values()}
        if models.get("cluster") and "cluster" in vces:
            add(models["cluster"], f"{at}.cluster")
        if models.get("weights"):
            add(models["weights"], f"{at}.weights")
        for sample, keep in (models.get("samples") or {}).items():
            if keep:
                read(keep, f"{at}.samples.{sample}")
        for equation, eq in models["equations"].items():
            here = f"{at}.equations.{equation}"
            add(eq["outcome"], f"{here}.outcome")
            for item in eq.get("covariates") or []:
                covariate(item, f"{here}.covariates")
            if eq.get("keep"):
                read(eq["keep"], f"{here}.keep")
            if eq.get("group"):
                add(eq["group"], f"{here}.group")
    for figure, spec in (study.get("figures") or {}).items():
        at = f"{where}.figures.{figure}"
        for key in ("variable", "by"):
            if spec.get(key):
                add(spec[key], f"{at}.{key}")
        for key in ("keep", "indicator"):
            if spec.get(key):
                read(spec[key], f"{at}.{key}")
    concentration = study.get("concentration")
    if concentration:
        at = f"{where}.concentration"
        add(concentration["rank"], f"{at}.rank")
        for outcome in concentration["outcomes"]:
            add(outcome, f"{at}.outcomes")
        for key in ("compare_by", "weights"):
            if concentration.get(key):
                add(concentration[key], f"{at}.{key}")
        if concentration.get("vce") == "cluster" and concentration.get("cluster"):
            add(concentration["cluster"], f"{at}.cluster")
    for place, text in multiverse.choice_expressions(study, where):
        read(text, place)
    for place, item in multiverse.choice_covariates(study, where):
        covariate(item, place)
    for produced in [*groups, *PROVIDED]:
        needs.pop(produced, None)
    return {v: list(dict.fromkeys(places)) for v, places in needs.items()}


@dataclass(frozen=True)
class Declared:
    """What a codebook says without being applied: survey, wave and the variables it declares."""

    path: str
    survey: str
    wave: object
    names: tuple


def declared(path) -> Declared:
    doc = read_document(path)
    survey, wave, _ = check_header(doc, path)
    return Declared(str(path), survey, wave, tuple(doc["variables"]))


def unmet(needs: dict[str, list[str]], book: Declared) -> dict[str, list[str]]:
    """Needed variables the codebook neither declares nor lets its survey derive -> where used
    ("(via d)" naming the derivations of the survey that would need them)."""
    available = set(book.names) | set(PROVIDED)
    by_output = {d.name: d for d in derive.derivations(book.survey, book.path)}
    missing: dict[str, list[str]] = {}

    def resolve(variable, places, via):
        if variable in available:
            return
        derivation = by_output.get(variable)
        if derivation is None or variable in via:
            shown = [f"{p} (via {', '.join(via)})" if via else p for p in places]
            missing.setdefault(variable, [])
            missing[variable] += [p for p in shown if p not in missing[variable]]
            return
        for name in derivation.inputs:
            resolve(name, places, (variable, *via))

    for variable, places in needs.items():
        resolve(variable, places, ())
    return missing


def leaves(needs: dict[str, list[str]], survey: str) -> dict[str, list[str]]:
    """What a new codebook of `survey` must declare for these needs: the needed variables, the
    derivable ones replaced by their derivations' inputs (a draft's list to map)."""
    return unmet(needs, Declared("(draft)", survey, None, ()))


def config_needs(config: dict, studies=None) -> dict[str, dict[str, list[str]]]:
    """Dataset -> needed variable -> places, over the configured studies (or those named)."""
    out: dict[str, dict[str, list[str]]] = {}
    for name, study in config["studies"].items():
        if studies is not None and name not in studies:
            continue
        for variable, places in study_needs(name, study).items():
            for dataset in study_datasets(study):
                out.setdefault(dataset, {}).setdefault(variable, [])
                out[dataset][variable] += [p for p in places if p not in out[dataset][variable]]
    return out


def describe_places(places: list[str]) -> str:
    shown = "; ".join(places[:SHOWN_PLACES])
    return shown + (f"; and {len(places) - SHOWN_PLACES} more" if len(places) > SHOWN_PLACES else "")


def check(config: dict, config_name: str = "config.yaml") -> dict[str, Declared]:
    """Every dataset's codebook provides what its studies use, and pooled datasets are distinct
    waves; InputError listing every missing variable with where it is used. Returns each used
    dataset's codebook declarations."""
    books = {}
    for dataset, needs in config_needs(config).items():
        spec = config["datasets"][dataset]
        book = declared(spec["codebook"])
        books[dataset] = book
        missing = unmet(needs, book)
        if missing:
            known = [*book.names, *(d.name for d in derive.derivations(book.survey, book.path)), *PROVIDED]
            known += [
                group
                for study in config["studies"].values()
                if dataset in study_datasets(study)
                for group in study.get("quantile_groups") or {}
            ]
            known = list(dict.fromkeys(known))
            lines = "\n  ".join(
                f"{v}: used by {describe_places(p)}{closest(v, known)}" for v, p in sorted(missing.items())
            )
            raise InputError(
                f"{spec['codebook']} (datasets.{dataset}.codebook) does not provide variables the studies use:\n  "
                f"{lines}\nDeclare each under `variables:` in the codebook (`migrant-health codebook draft "
                f"{spec['path']}` lists them beside the file's items), or change the study in {config_name}."
            )
    for name, study in config["studies"].items():
        pooled = study_datasets(study)
        waves = {}
        for dataset in pooled:
            waves.setdefault(str(books[dataset].wave), []).append(dataset)
        repeated = {w: d for w, d in waves.items() if len(d) > 1}
        if repeated:
            wave, datasets = next(iter(repeated.items()))
            raise InputError(
                f"{config_name}: studies.{name}.dataset: {' and '.join(datasets)} are both wave {wave} (their "
                f"codebooks' `wave:`); pooled datasets are distinct waves. Correct `wave:` in a codebook."
            )
        surveys = {books[d].survey for d in pooled}
        if len(surveys) > 1:
            raise InputError(
                f"{config_name}: studies.{name}.dataset pools codebooks of different surveys "
                f"({', '.join(sorted(surveys))}); pooled waves share a survey and its derivations."
            )
    return books
