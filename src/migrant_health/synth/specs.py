"""What the generators read from config.yaml: the models of the studies they calibrate.

A generator solves its outcome equations so that a study's model, as config.yaml declares it
(studies.<study>.models), has the published effects, and documents that model's probability
limit as the truth. Reading the models from config, not copying them into the generators,
keeps one declaration of each model: editing it regenerates the synthetic survey.
"""

from __future__ import annotations

from ..errors import InputError
from ..estimation import equation_spec
from ..stats import ModelSpec


def study_models(studies: dict, study: str, survey: str) -> dict:
    """studies.<study>.models, or InputError naming what the generator needs."""
    models = (studies.get(study) or {}).get("models")
    if not models:
        raise InputError(
            f"config.yaml: studies.{study}.models is needed: the synthetic {survey} survey solves "
            f"the {study} study's outcome equations for its models. Declare the study with its "
            f"models, or set datasets.<dataset>.synthetic: false."
        )
    return models


def equation(models: dict, name: str, study: str) -> dict:
    """studies.<study>.models.equations.<name>, or InputError naming it."""
    eq = models.get("equations", {}).get(name)
    if eq is None:
        raise InputError(
            f"config.yaml: studies.{study}.models.equations.{name} is needed: the synthetic "
            f"survey solves this equation's outcome for it."
        )
    return eq


def model_spec(models: dict, name: str, study: str) -> ModelSpec:
    """The study's model of equation `name`, as the pipeline fits it."""
    return equation_spec(name, equation(models, name, study), models)


def limit_spec(models: dict, name: str, study: str) -> ModelSpec:
    """Equation `name` as fitted to expected outcomes, which gives its probability limit:
    with fractional outcomes it is a quasi-likelihood GLM of the equation's family and link
    (a probit is the binomial GLM with probit link)."""
    spec = model_spec(models, name, study)
    family, link = spec.family_and_link()
    return ModelSpec(spec.outcome, spec.covariates, kind="glm", family=family, link=link, name=f"truth {name}")
