"""Waves as wildcards: a study pooling several waves also fits each wave apart (`models.by_wave`).

With `by_wave: true` on a pooled study's `models:`, the workflow (rules/waves.smk) adds, for each
wave of the study's datasets, a job drawing that wave's analytic sample alone (the study's sample
steps, every exclusion counted) and a job per model unit fitting it (steps.fit_models, as a study
on that one dataset would), then gathers the waves' estimates in the order of `dataset:`. Each job
has a `{wave}` wildcard, so that a cluster spreads them.

Within one wave `wave` does not vary: a covariate naming it (`{factor: wave, ...}`, or an
interaction with it) is dropped from the per-wave fits, with a note in their messages; any other
use of `wave` in the models (a subsample, an equation's `keep`, margins, a group, ...) would make a
per-wave fit meaningless and is refused before any job.

Free of numerical imports: the workflow reads it while it is parsed.
"""

from __future__ import annotations

import re

from . import expressions
from .errors import InputError
from .io.codebook_file import WAVE
from .model_spec import covariate_variables
from .outputs import study_datasets

# A wave becomes part of paths (results/<study>/waves/<wave>/, data/analytic/<study>/wave_<wave>.parquet).
WAVE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def by_wave(study: dict) -> bool:
    """Whether a study asks for per-wave jobs."""
    return bool((study.get("models") or {}).get("by_wave"))


def check_by_wave(study: dict, where: str) -> None:
    """`models.by_wave` of a study (`where`: its key path, studies.<name>): refused on a study of one
    dataset, and where `wave` is used in the models otherwise than as a covariate."""
    if not by_wave(study):
        return
    at = f"{where}.models.by_wave"
    datasets = study_datasets(study)
    if len(datasets) < 2:
        raise InputError(
            f"{at}: the study reads one dataset ({datasets[0]}); by_wave fits each wave of pooled datasets "
            f"apart. Pool waves (dataset: [{datasets[0]}, another_wave]) or remove by_wave."
        )
    places = wave_uses(study["models"], f"{where}.models")
    if places:
        raise InputError(
            f"{places[0]}: uses `{WAVE}`, which does not vary within one wave, so the per-wave fits of by_wave "
            f"cannot honour it. Remove it there, or remove {at}. (A covariate naming `{WAVE}` is dropped from "
            f"the per-wave fits, with a note.)"
        )


def wave_uses(models: dict, where: str) -> list[str]:
    """Key paths of the models where `wave` is read otherwise than as a covariate."""
    places = []

    def read(text, place):
        if text and WAVE in expressions.parse(text, place).variables:
            places.append(place)

    for name, keep in (models.get("samples") or {}).items():
        read(keep, f"{where}.samples.{name}")
    for key in ("cluster", "weights"):
        if models.get(key) == WAVE:
            places.append(f"{where}.{key}")
    for name, eq in models["equations"].items():
        at = f"{where}.equations.{name}"
        for key in ("outcome", "group"):
            if eq.get(key) == WAVE:
                places.append(f"{at}.{key}")
        read(eq.get("keep"), f"{at}.keep")
        for i, request in enumerate(eq.get("margins") or []):
            at_values = request.get("at")
            scenarios = at_values if isinstance(at_values, list) else [at_values]
            named = [request.get("over"), request.get("predict"), *(request.get("dydx") or [])]
            named += [variable for s in scenarios if isinstance(s, dict) for variable in s]
            if WAVE in named:
                places.append(f"{at}.margins[{i}]")
    return places


def within_wave(models: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The models as fitted within one wave, and (equation, note) for each covariate dropped from an
    equation because it names `wave` (a factor, or an interaction with it). Models without such a
    covariate are returned as they are."""

    def names_wave(item) -> bool:
        return WAVE in covariate_variables(item)

    notes, equations = [], {}
    for name, eq in models["equations"].items():
        own = "covariates" in eq
        dropped = [c for c in (eq["covariates"] if own else models["covariates"]) if names_wave(c)]
        notes += [
            (name, f"{_shown(c)} dropped from the covariates: {WAVE} does not vary within one wave") for c in dropped
        ]
        equations[name] = {**eq, "covariates": [c for c in eq["covariates"] if not names_wave(c)]} if own else eq
    if not notes:
        return models, []
    shared = [c for c in models["covariates"] if not names_wave(c)]
    return {**models, "covariates": shared, "equations": equations}, notes


def _shown(item) -> str:
    """A covariate as config writes it: {factor: wave, reference: 2013}."""
    if isinstance(item, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in item.items()) + "}"
    if isinstance(item, list):
        return "[" + ", ".join(_shown(v) for v in item) + "]"
    return str(item)


def study_waves(config: dict, name: str, config_name: str = "config.yaml") -> dict[str, str]:
    """Wave label -> dataset of a study's datasets, in the order of `dataset:` (each codebook's `wave:`,
    read without applying it); InputError when a label cannot be part of a path."""
    from .requirements import declared

    out = {}
    for dataset in study_datasets(config["studies"][name]):
        path = config["datasets"][dataset]["codebook"]
        label = str(declared(path).wave)
        if not WAVE_LABEL.match(label):
            raise InputError(
                f"{path} (datasets.{dataset}.codebook): wave: '{label}' becomes part of file names with "
                f"{config_name}: studies.{name}.models.by_wave; write it with letters, digits, _ . and - only "
                f"(e.g. wave: 2014)."
            )
        out[label] = dataset
    return out
