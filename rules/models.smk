# Analytic sample -> tidy estimates: one job per unit of a study's models (an equation, or a
# two-part model's parts and their combination), then gathered in config order.
from migrant_health.outputs import model_units


def units_of(study):
    return list(model_units(STUDIES[study]["models"]))


def unit_models(study, unit):
    """What a unit's fit reads of the models: editing one equation refits that unit only."""
    models = STUDIES[study]["models"]
    equations = model_units(models)[unit]
    return {**{k: v for k, v in models.items() if k not in ("equations", "by_wave")},  # by_wave adds jobs, fits nothing
            "equations": {name: models["equations"][name] for name in equations}}


def unit_uses_survey(study, unit):
    models = STUDIES[study]["models"]
    return any(models["equations"][name].get("vce", models.get("vce", "oim")) == "survey"
               for name in model_units(models)[unit])


def unit_files(study, kind):
    return [f"results/{study}/fits/{unit}_{kind}.csv" for unit in units_of(study)]


rule fit_models:
    input:
        analytic="data/analytic/{study}.parquet",
        # With vce survey, the whole file's design (samples are subpopulations of it).
        interim=lambda w: design_file(w.study, unit_uses_survey(w.study, w.unit)),
        code=code("fit_models"),
    output:
        estimates="results/{study}/fits/{unit}_estimates.csv",
        flow="results/{study}/fits/{unit}_flow.csv",
        messages="results/{study}/fits/{unit}_messages.csv",
    params:
        models=lambda w: unit_models(w.study, w.unit),
        survey=lambda w: survey_of(w.study) if unit_uses_survey(w.study, w.unit) else None,
    log:
        "logs/fit_models_{study}_{unit}.log",
    message:
        "Fitting {wildcards.study} {wildcards.unit}"
    run:
        run_step(rule, log[0], study=wildcards.study, unit=wildcards.unit, models=params.models,
                 analytic=input.analytic, estimates=output.estimates, flow=output.flow, messages=output.messages,
                 survey=params.survey, interim=list(input.interim))


rule gather_estimates:
    input:
        estimates=lambda w: unit_files(w.study, "estimates"),
        flows=lambda w: unit_files(w.study, "flow"),
        messages=lambda w: unit_files(w.study, "messages"),
        code=code("gather_estimates"),
    output:
        estimates="results/{study}/estimates.csv",
        flow="results/{study}/model_flow.csv",
        messages="results/{study}/model_messages.txt",
    params:
        # The order only: samples, equation names, the two-part pair.
        models=lambda w: {"samples": STUDIES[w.study]["models"].get("samples"),
                          "equations": {name: {} for name in STUDIES[w.study]["models"]["equations"]},
                          "two_part": STUDIES[w.study]["models"].get("two_part")},
    log:
        "logs/gather_estimates_{study}.log",
    message:
        "Gathering the {wildcards.study} estimates"
    run:
        run_step(rule, log[0], models=params.models, unit_estimates=list(input.estimates),
                 unit_flows=list(input.flows), unit_messages=list(input.messages), estimates=output.estimates,
                 flow=output.flow, messages=output.messages)
