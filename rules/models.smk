# Analytic sample -> tidy estimates: one job per unit of a study's models (an equation, or a
# two-part model's parts and their combination), then gathered in config order.
from migrant_health.outputs import (CONCENTRATION_UNIT, TWO_PART, bootstrap_chunks, bootstrapped_units, model_units,
                                    study_bootstrap_units, unit_bootstrap, without_bootstrap)


def units_of(study):
    return list(model_units(STUDIES[study]["models"]))


def unit_models(study, unit):
    """What a unit's fit reads of the models: editing one equation refits that unit only, and editing
    a bootstrap's settings refits nothing (its own jobs read them as their `settings`)."""
    models = without_bootstrap(STUDIES[study]["models"])
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


def bootstrap_settings(study, unit):
    return unit_bootstrap(STUDIES[study].get("models") or {"equations": {}}, unit, STUDIES[study].get("concentration"))


def bootstrap_models(study, unit):
    """What a bootstrapped unit's jobs read of the config: the unit's models, or the concentration stage."""
    if unit == CONCENTRATION_UNIT:
        return {"concentration": STUDIES[study]["concentration"]}
    return unit_models(study, unit)


def bootstrap_uses_design(study, unit):
    """Whether a bootstrapped unit's jobs read the whole file's survey design."""
    if bootstrap_settings(study, unit).get("cluster") == "survey":
        return True
    if unit == CONCENTRATION_UNIT:
        return STUDIES[study]["concentration"]["vce"] == "survey"
    return unit_uses_survey(study, unit)


def bootstrap_where(study, unit):
    """The key path of a unit's bootstrap settings, for messages."""
    path = {CONCENTRATION_UNIT: "concentration", TWO_PART: "models.two_part"}.get(unit, f"models.equations.{unit}")
    return f"{CONFIG_NAME}: studies.{study}.{path}.bootstrap"


def bootstrap_outputs(study, kind):
    """The gathered intervals (kind ''), or their messages (kind '_messages'), of every bootstrapped unit."""
    models = STUDIES[study].get("models") or {"equations": {}}
    return [f"results/{study}/bootstrap/{unit}{kind}.csv" for unit in bootstrapped_units(models)]


BOOTSTRAPPED_UNITS = "|".join(sorted({u for s in STUDIES.values() for u in study_bootstrap_units(s)})) or "no_bootstrap"


# A bootstrap's replications are cut into chunk jobs (one seed per replication: the same replicates
# whatever the chunk size), beside one jackknife job (BCa's acceleration); a gather job writes the
# intervals, which gather_estimates puts beside the analytic ones.
rule bootstrap_chunk:
    wildcard_constraints:
        unit=BOOTSTRAPPED_UNITS,
        chunk=r"\d+",
    input:
        analytic="data/analytic/{study}.parquet",
        interim=lambda w: design_file(w.study, bootstrap_uses_design(w.study, w.unit)),
        code=code("bootstrap_chunk"),
    output:
        replicates="results/{study}/bootstrap/{unit}_chunk{chunk}.csv",
    params:
        models=lambda w: bootstrap_models(w.study, w.unit),
        settings=lambda w: bootstrap_settings(w.study, w.unit),
        survey=lambda w: survey_of(w.study),
    log:
        "logs/bootstrap_chunk_{study}_{unit}_{chunk}.log",
    message:
        "Bootstrap of {wildcards.study} {wildcards.unit}: chunk {wildcards.chunk}"
    run:
        run_step(rule, log[0], study=wildcards.study, unit=wildcards.unit, index=int(wildcards.chunk),
                 models=params.models, settings=params.settings, analytic=input.analytic,
                 replicates=output.replicates, survey=params.survey, interim=list(input.interim))


rule bootstrap_jackknife:
    wildcard_constraints:
        unit=BOOTSTRAPPED_UNITS,
        part=r"\d+",
    input:
        analytic="data/analytic/{study}.parquet",
        interim=lambda w: design_file(w.study, bootstrap_uses_design(w.study, w.unit)),
        code=code("bootstrap_jackknife"),
    output:
        replicates="results/{study}/bootstrap/{unit}_jackknife{part}.csv",
    params:
        models=lambda w: bootstrap_models(w.study, w.unit),
        # The jackknife does not depend on the number of replications, their chunks or seed.
        settings=lambda w: {"cluster": bootstrap_settings(w.study, w.unit).get("cluster")},
        survey=lambda w: survey_of(w.study),
        # Cut as the replications are, so that the jackknife spreads over the same number of jobs.
        parts=lambda w: bootstrap_chunks(bootstrap_settings(w.study, w.unit)),
    log:
        "logs/bootstrap_jackknife_{study}_{unit}_{part}.log",
    message:
        "Jackknife of {wildcards.study} {wildcards.unit} (BCa acceleration), part {wildcards.part}"
    run:
        run_step(rule, log[0], study=wildcards.study, unit=wildcards.unit, part=int(wildcards.part),
                 parts=params.parts, models=params.models,
                 settings=params.settings, analytic=input.analytic, replicates=output.replicates,
                 survey=params.survey, interim=list(input.interim))


rule bootstrap_gather:
    wildcard_constraints:
        unit=BOOTSTRAPPED_UNITS,
    input:
        # The unit's full-sample numbers: its fit, or (concentration) recomputed from the analytic sample.
        estimates=lambda w: [] if w.unit == CONCENTRATION_UNIT else [f"results/{w.study}/fits/{w.unit}_estimates.csv"],
        analytic=lambda w: [f"data/analytic/{w.study}.parquet"] if w.unit == CONCENTRATION_UNIT else [],
        interim=lambda w: design_file(w.study, w.unit == CONCENTRATION_UNIT and bootstrap_uses_design(w.study, w.unit)),
        chunks=lambda w: [f"results/{w.study}/bootstrap/{w.unit}_chunk{k}.csv"
                          for k in range(bootstrap_chunks(bootstrap_settings(w.study, w.unit)))],
        jackknife=lambda w: [f"results/{w.study}/bootstrap/{w.unit}_jackknife{k}.csv"
                             for k in range(bootstrap_chunks(bootstrap_settings(w.study, w.unit)))],
        code=code("bootstrap_gather"),
    output:
        intervals="results/{study}/bootstrap/{unit}.csv",
        messages="results/{study}/bootstrap/{unit}_messages.csv",
    params:
        # Not the chunk size: the gathered intervals do not depend on it.
        settings=lambda w: {k: v for k, v in bootstrap_settings(w.study, w.unit).items() if k != "chunk"},
        concentration=lambda w: STUDIES[w.study]["concentration"] if w.unit == CONCENTRATION_UNIT else None,
        survey=lambda w: survey_of(w.study) if w.unit == CONCENTRATION_UNIT else None,
    log:
        "logs/bootstrap_gather_{study}_{unit}.log",
    message:
        "Bootstrap intervals of {wildcards.study} {wildcards.unit}"
    run:
        # The key path for messages is not a parameter: naming the config's overrides reruns nothing.
        run_step(rule, log[0], where=bootstrap_where(wildcards.study, wildcards.unit), settings=params.settings, estimates=list(input.estimates),
                 chunks=list(input.chunks), jackknife=list(input.jackknife), intervals=output.intervals,
                 messages=output.messages, study=wildcards.study, concentration=params.concentration,
                 analytic=list(input.analytic), survey=params.survey, interim=list(input.interim))


rule gather_estimates:
    input:
        estimates=lambda w: unit_files(w.study, "estimates"),
        flows=lambda w: unit_files(w.study, "flow"),
        messages=lambda w: unit_files(w.study, "messages"),
        bootstrap_estimates=lambda w: bootstrap_outputs(w.study, ""),
        bootstrap_messages=lambda w: bootstrap_outputs(w.study, "_messages"),
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
                 unit_flows=list(input.flows), unit_messages=list(input.messages),
                 bootstrap_estimates=list(input.bootstrap_estimates),
                 bootstrap_messages=list(input.bootstrap_messages), estimates=output.estimates,
                 flow=output.flow, messages=output.messages)
