# Waves as wildcards (models.by_wave; src/migrant_health/waves.py): a study pooling several waves also
# draws each wave's sample alone and fits each of its model units within each wave, in jobs of their own
# whose {wave} wildcard a cluster spreads, then gathers them wave by wave in the order of `dataset:`.
import re

from migrant_health.waves import by_wave, study_waves

# Study -> {wave label: dataset}, in the order of `dataset:`, for each study with models.by_wave
# (the labels are the codebooks' `wave:`, read before any job).
WAVES = {}
for _name, _study in STUDIES.items():
    if by_wave(_study):
        try:
            WAVES[_name] = study_waves(config, _name, CONFIG_NAME)
        except InputError as e:
            stop(e)


def wave_targets():
    """What the per-wave jobs write under results/ (rule all asks for it; nothing without by_wave)."""
    return [f for name, waves in WAVES.items() for f in outputs.wave_files(name, STUDIES[name], list(waves))]


def wave_dataset(study, wave):
    return WAVES[study][wave]


def wave_unit_files(study, kind):
    """Every unit's files of the study's first wave, then of the next."""
    return [f"results/{study}/waves/{wave}/fits/{unit}_{kind}.csv" for wave in WAVES[study] for unit in units_of(study)]


def wave_design_file(study, wave, unit):
    """With vce survey, the wave's whole file (the wave's samples are subpopulations of it)."""
    used = unit_uses_survey(study, unit) and survey_of(study)
    return [f"data/interim/{wave_dataset(study, wave)}.parquet"] if used else []


# A study wildcard is a study's name and a wave wildcard one of the by_wave studies' waves, so that
# results/<study>/waves/<wave>/... is never read as the files of a study named "<study>/waves/<wave>"
# (analytic_sample's, fit_models'), nor theirs as a wave's.
wildcard_constraints:
    study="|".join(re.escape(name) for name in STUDIES) or "no_studies",
    wave="|".join(sorted({re.escape(w) for waves in WAVES.values() for w in waves})) or "no_waves",

BY_WAVE_STUDIES = "|".join(re.escape(name) for name in WAVES) or "no_by_wave_studies"


rule analytic_sample_by_wave:
    wildcard_constraints:
        study=BY_WAVE_STUDIES,
    input:
        interim=lambda w: f"data/interim/{wave_dataset(w.study, w.wave)}.parquet",
        code=code("analytic_sample_by_wave"),
    output:
        analytic="data/analytic/{study}/wave_{wave}.parquet",
        flow="results/{study}/waves/{wave}/flow.csv",
    params:
        # As analytic_sample's: only the sample definition.
        spec=lambda w: {k: STUDIES[w.study].get(k) for k in ("sample", "quantile_groups")},
        dataset=lambda w: wave_dataset(w.study, w.wave),
    log:
        "logs/analytic_sample_by_wave_{study}_{wave}.log",
    message:
        "Applying the {wildcards.study} sample filters to wave {wildcards.wave} alone"
    run:
        run_step(rule, log[0], study=wildcards.study, wave=wildcards.wave, dataset=params.dataset, spec=params.spec,
                 interim=input.interim, analytic=output.analytic, flow=output.flow)


rule fit_models_by_wave:
    wildcard_constraints:
        study=BY_WAVE_STUDIES,
    input:
        analytic="data/analytic/{study}/wave_{wave}.parquet",
        interim=lambda w: wave_design_file(w.study, w.wave, w.unit),
        code=code("fit_models_by_wave"),
    output:
        estimates="results/{study}/waves/{wave}/fits/{unit}_estimates.csv",
        flow="results/{study}/waves/{wave}/fits/{unit}_flow.csv",
        messages="results/{study}/waves/{wave}/fits/{unit}_messages.csv",
    params:
        # As fit_models': what the unit reads of the models (the step drops covariates naming wave).
        models=lambda w: unit_models(w.study, w.unit),
        survey=lambda w: survey_of(w.study) if unit_uses_survey(w.study, w.unit) else None,
    log:
        "logs/fit_models_by_wave_{study}_{wave}_{unit}.log",
    message:
        "Fitting {wildcards.study} {wildcards.unit} within wave {wildcards.wave}"
    run:
        run_step(rule, log[0], study=wildcards.study, wave=wildcards.wave, unit=wildcards.unit,
                 models=params.models, analytic=input.analytic, estimates=output.estimates, flow=output.flow,
                 messages=output.messages, survey=params.survey, interim=list(input.interim))


rule gather_estimates_by_wave:
    wildcard_constraints:
        study=BY_WAVE_STUDIES,
    input:
        estimates=lambda w: wave_unit_files(w.study, "estimates"),
        flows=lambda w: wave_unit_files(w.study, "flow"),
        messages=lambda w: wave_unit_files(w.study, "messages"),
        code=code("gather_estimates_by_wave"),
    output:
        estimates="results/{study}/estimates_by_wave.csv",
        flow="results/{study}/model_flow_by_wave.csv",
        messages="results/{study}/model_messages_by_wave.txt",
    params:
        # The order only, as gather_estimates': samples, equation names, the two-part pair; and the waves.
        models=lambda w: {"samples": STUDIES[w.study]["models"].get("samples"),
                          "equations": {name: {} for name in STUDIES[w.study]["models"]["equations"]},
                          "two_part": STUDIES[w.study]["models"].get("two_part")},
        waves=lambda w: list(WAVES[w.study]),
    log:
        "logs/gather_estimates_by_wave_{study}.log",
    message:
        "Gathering the {wildcards.study} estimates wave by wave"
    run:
        run_step(rule, log[0], models=params.models, waves=params.waves, unit_estimates=list(input.estimates),
                 unit_flows=list(input.flows), unit_messages=list(input.messages), estimates=output.estimates,
                 flow=output.flow, messages=output.messages)
