"""Validating config.yaml before any job starts: its JSON schema (with defaults filled in),
then every cross-reference between its parts.

Snakemake's own `validate` does the first with jsonschema; this wrapper names the key path
of the first problem and what is allowed there, instead of dumping the schema. The
cross-references (an effect table naming a model, a figure naming an equation, an equation
its estimator cannot honour ...) are checked here with the closest valid names; what needs
the data (a variable, a level) is checked by the first step that reads the data.
"""

import jsonschema
import yaml

from . import expressions, multiverse
from .errors import InputError, closest
from .io.yamlfile import read_yaml
from .model_spec import SUPPORTS
from .outputs import TWO_PART, study_datasets
from .waves import check_by_wave


def _with_defaults(validator_class):
    set_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        for name, sub in properties.items():
            if isinstance(instance, dict) and "default" in sub:
                instance.setdefault(name, sub["default"])
        yield from set_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def validate_config(config: dict, schema_path, config_name: str = "config.yaml") -> dict:
    """Validated config with defaults; InputError naming the key path on the first problem."""
    schema = read_yaml(schema_path)
    validator = _with_defaults(jsonschema.Draft7Validator)(schema)
    errors = sorted(_type_overrides(validator, config), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e.absolute_path)
        path = path.replace(".[", "[") or "(top level)"
        raise InputError(f"{config_name}: {path}: {_explain(e)}")
    for name, study in config["studies"].items():
        where = f"{config_name}: studies.{name}"
        for dataset in study_datasets(study):
            _one_of(dataset, config["datasets"], f"{where}.dataset", "a dataset")
        survey = study_survey(study, config, where)
        if study.get("models"):
            _check_models(study["models"], f"{where}.models", survey)
            check_by_wave(study, where)
        _check_effect_tables(study, where)
        _check_figures(study, where)
        _check_concentration(study, where, survey)
        if study.get("multiverse"):
            multiverse.check(study, where, survey)
        for at, text in study_expressions(study, where):
            expressions.parse(text, at)
    _check_table_names(config, config_name)
    _check_layouts(config, config_name)
    return config


def study_survey(study: dict, config: dict, where: str = "studies") -> dict | None:
    """A study's sampling design: its own `survey`, or its datasets' (pooled waves must declare the
    same one, or the study its own)."""
    if study.get("survey"):
        return study["survey"]
    designs = [config["datasets"].get(d, {}).get("survey") for d in study_datasets(study)]
    if any(design != designs[0] for design in designs):
        raise InputError(
            f"{where}.dataset: the pooled datasets declare different survey designs; declare the pooled "
            f"design as `survey:` on the study."
        )
    return designs[0]


def study_expressions(study: dict, where: str):
    """(key path, text) of every expression a study's config holds: all are parsed (and any
    construct outside the language refused) before a job starts."""
    for i, step in enumerate(study["sample"]):
        yield f"{where}.sample[{i}] '{step['name']}'", step["keep"]
    models = study.get("models") or {}
    for name, keep in (models.get("samples") or {}).items():
        if keep is not None:
            yield f"{where}.models.samples.{name}", keep
    for name, eq in models.get("equations", {}).items():
        if eq.get("keep"):
            yield f"{where}.models.equations.{name}.keep", eq["keep"]
    for table, spec in study.get("tables", {}).items():
        for i, column in enumerate(spec["columns"]):
            if column.get("keep"):
                yield f"{where}.tables.{table}.columns[{i}] '{column['name']}'", column["keep"]
    for figure, spec in study.get("figures", {}).items():
        for key in ("keep", "indicator"):
            if spec.get(key):
                yield f"{where}.figures.{figure}.{key}", spec[key]


def _type_overrides(validator, config: dict) -> list:
    """Values given on the command line (`--config key=value`) reach us as text when nested: read
    each text where the schema wants a number, boolean or null as the YAML scalar it spells. The
    schema's errors that remain (the last pass validated the whole config)."""
    wanted = {"integer": int, "number": (int, float), "boolean": bool, "null": type(None)}
    for _ in range(100):  # one pass per retyped value; a config has far fewer
        errors = []
        for e in validator.iter_errors(config):
            errors.append(e)
            types = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
            if e.validator == "type" and isinstance(e.instance, str) and set(types) & set(wanted):
                try:
                    value = yaml.safe_load(e.instance)
                except yaml.YAMLError:
                    continue
                if any(
                    isinstance(value, wanted[t]) and not (t != "boolean" and isinstance(value, bool))
                    for t in types
                    if t in wanted
                ):
                    parent = config
                    for key in list(e.absolute_path)[:-1]:
                        parent = parent[key]
                    parent[e.absolute_path[-1]] = value
                    break
        else:
            return errors
    return list(validator.iter_errors(config))


def _suggest_name(text: str) -> str:
    import re

    words = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    return words if re.match(r"^[a-z]", words) else f"x_{words}" if words else "my_name"


def _one_of(name, allowed, where: str, what: str) -> None:
    """`name` must be one of `allowed` (an InputError naming the key and the closest names)."""
    if name not in allowed:
        raise InputError(
            f"{where}: '{name}' is not {what}; allowed: {', '.join(map(str, allowed)) or 'none'}"
            f"{closest(str(name), map(str, allowed))}."
        )


def _check_models(models: dict, where: str, survey: dict | None = None) -> None:
    equations = models["equations"]
    if not equations:
        raise InputError(f"{where}.equations: no equations; declare at least one (outcome and kind).")
    for name, eq in equations.items():
        kind_supports = SUPPORTS[eq["kind"]]
        vce = eq.get("vce", models.get("vce", "oim"))
        at = f"{where}.equations.{name}"
        if vce not in kind_supports.vce:
            raise InputError(
                f"{at}: kind {eq['kind']} supports vce {', '.join(kind_supports.vce)}, but the "
                f"equation's vce is '{vce}' (set at {'the equation' if 'vce' in eq else where + '.vce'})."
            )
        if models.get("weights") and not kind_supports.weights:
            raise InputError(
                f"{at}: kind {eq['kind']} does not take probability weights ({where}.weights: "
                f"{models['weights']}); fit it without weights or choose another kind."
            )
        if models.get("weights") and vce in ("oim", "eim"):
            raise InputError(f"{at}: probability weights need vce robust, cluster or survey (as in Stata).")
        if vce == "survey" and not survey:
            raise InputError(
                f"{at}: vce survey needs the sampling design: declare `survey:` (strata, psu, weights, fpc) "
                f"on the study or its dataset."
            )
        if vce == "survey" and models.get("weights") and models["weights"] != survey.get("weights"):
            raise InputError(
                f"{at}: {where}.weights ({models['weights']}) differ from the survey design's weights "
                f"({survey.get('weights')}); with vce survey the design's weights are used."
            )
        if vce == "cluster" and not models.get("cluster"):
            raise InputError(f"{at}: vce cluster needs {where}.cluster (the variable identifying clusters).")
        if ("group" in eq or "nagq" in eq) and not kind_supports.group:
            raise InputError(f"{at}: `group`/`nagq` belong to kind melogit; kind {eq['kind']} would ignore them.")
        if eq["kind"] == "glm" and not (eq.get("family") and eq.get("link")):
            raise InputError(f"{at}: kind glm needs `family` and `link`.")
        if "ame" in eq.get("report", []) and not kind_supports.margins:
            raise InputError(f"{at}.report: kind {eq['kind']} has no marginal effects; report coef or odds_ratio.")
        if eq.get("approximation") and not kind_supports.group:
            raise InputError(f"{at}.approximation: belongs to kind melogit; kind {eq['kind']} would ignore it.")
        for i, request in enumerate(eq.get("margins") or []):
            if not kind_supports.margins:
                raise InputError(f"{at}.margins: kind {eq['kind']} has no margins.")
            _check_margins_request(request, f"{at}.margins[{i}]")
    pair = models.get("two_part")
    if pair:
        for part in ("first", "second"):
            _one_of(pair[part], equations, f"{where}.two_part.{part}", "an equation")
        if TWO_PART in equations:
            raise InputError(f"{where}.equations: '{TWO_PART}' names the two-part combination; rename the equation.")
        for part in ("first", "second"):
            if equations[pair[part]].get("bootstrap"):
                raise InputError(
                    f"{where}.equations.{pair[part]}.bootstrap: this equation is a part of the two-part model, "
                    f"fitted with the other part in one unit; move `bootstrap:` to {where}.two_part.bootstrap, "
                    f"which resamples both parts and their combination."
                )
        if pair.get("bootstrap"):
            _check_bootstrap(pair["bootstrap"], f"{where}.two_part.bootstrap", survey)
    for name, eq in equations.items():
        if eq.get("bootstrap"):
            _check_bootstrap(eq["bootstrap"], f"{where}.equations.{name}.bootstrap", survey)


def _check_bootstrap(settings: dict, at: str, survey: dict | None) -> None:
    if settings.get("cluster") == "survey" and not (survey or {}).get("psu"):
        raise InputError(
            f"{at}.cluster: survey resamples the survey design's PSUs, but the study (or its dataset) declares "
            f"no `survey:` with a psu; name a cluster variable instead, or declare the design."
        )


AT_STATISTICS = ("mean", "median")


def _check_margins_request(request: dict, at: str) -> None:
    """A margins request is data: literals for `at`, and only combinations Stata's margins has."""
    if request.get("predict") and (request.get("dydx") or request.get("elasticity")):
        raise InputError(f"{at}: predict gives predictive margins; dydx and elasticity ask for effects. Choose one.")
    if request.get("contrast") and not request.get("over"):
        raise InputError(f"{at}.contrast: contrasts compare the groups of `over`; add over: <variable>.")
    if "reference" in request and not request.get("contrast"):
        raise InputError(f"{at}.reference: the reference group of a contrast; add contrast: true.")
    value = request.get("at")
    if value is None:
        return
    if isinstance(value, str):
        if value != "means":
            raise InputError(f"{at}.at: '{value}' is not a scenario; write means, or {{variable: value}}.")
        if request.get("over") or request.get("predict") or request.get("contrast"):
            raise InputError(f"{at}.at: means (atmeans) is not combined with over, predict or contrast.")
        return
    for scenario in value if isinstance(value, list) else [value]:
        if not isinstance(scenario, dict) or not scenario:
            raise InputError(f"{at}.at: each scenario is {{variable: value}}, not {scenario!r}.")
        for variable, setting in scenario.items():
            for literal in setting if isinstance(setting, list) else [setting]:
                if not isinstance(literal, (int, float, str, bool)):
                    raise InputError(
                        f"{at}.at.{variable}: {literal!r} is not a literal; write a number, a level, "
                        f"{' or '.join(AT_STATISTICS)}."
                    )


def _check_effect_tables(study: dict, where: str) -> None:
    models = study.get("models") or {}
    columns = list(models.get("equations", {})) + ([TWO_PART] if models.get("two_part") else [])
    samples = list(models.get("samples") or {"total": None})
    for table, spec in study.get("effect_tables", {}).items():
        at = f"{where}.effect_tables.{table}"
        if not models:
            raise InputError(f"{at}: the study has no `models`; an effect table prints a model's estimates.")
        for model in spec["models"]:
            _one_of(model, columns, f"{at}.models", "a model of the study")
        for sample in spec["samples"]:
            _one_of(sample, samples, f"{at}.samples", "a subsample of the study's models")
        if spec.get("bootstrap"):
            if spec.get("layout") == "stacked":
                raise InputError(
                    f"{at}.bootstrap: the bootstrap interval is a column of the side layout; remove it or use "
                    f"layout: side."
                )
            for model in spec["models"]:
                boot = (models.get("two_part") or {}) if model == TWO_PART else models["equations"][model]
                if not boot.get("bootstrap"):
                    where_boot = f"{where}.models." + ("two_part" if model == TWO_PART else f"equations.{model}")
                    raise InputError(
                        f"{at}.bootstrap: model '{model}' has no bootstrap; declare {where_boot}.bootstrap "
                        f"(reps, seed, ...) or remove the table's bootstrap."
                    )


def _check_figures(study: dict, where: str) -> None:
    equations = (study.get("models") or {}).get("equations", {})
    samples = list((study.get("models") or {}).get("samples") or {"total": None})
    required = {
        "shares": ("variable", "levels"),
        "share_by_group": ("indicator", "by", "levels"),
        "forest": ("model",),
        "flowchart": (),
    }
    for name, spec in study.get("figures", {}).items():
        at = f"{where}.figures.{name}"
        missing = [key for key in required[spec["kind"]] if key not in spec]
        if missing:
            raise InputError(f"{at}: kind {spec['kind']} needs {', '.join(missing)}.")
        if spec["kind"] == "forest":
            _one_of(spec["model"], equations, f"{at}.model", "an equation of the study")
            _one_of(spec.get("sample", "total"), samples, f"{at}.sample", "a subsample of the study's models")
            reports = equations[spec["model"]].get("report") or []
            if equations[spec["model"]]["kind"] != "melogit" and "odds_ratio" not in reports:
                raise InputError(
                    f"{at}.model: equation '{spec['model']}' reports no odds ratios; add odds_ratio to its `report`."
                )


def _check_concentration(study: dict, where: str, survey: dict | None = None) -> None:
    spec = study.get("concentration")
    if not spec:
        return
    equations = (study.get("models") or {}).get("equations", {})
    for outcome, info in spec["outcomes"].items():
        at = f"{where}.concentration.outcomes.{outcome}.decomposition"
        _one_of(info["decomposition"], equations, at, "an equation of the study")
        eq = equations[info["decomposition"]]
        if "ame" not in (eq.get("report") or ["coef", "ame"]) or eq["kind"] == "melogit":
            raise InputError(
                f"{at}: equation '{info['decomposition']}' reports no marginal effects; the "
                f"decomposition needs them (report: [coef, ame])."
            )
    if spec["vce"] == "cluster" and not spec.get("cluster"):
        raise InputError(f"{where}.concentration: vce cluster needs `cluster:` (the variable identifying clusters).")
    if spec.get("bootstrap"):
        _check_bootstrap(spec["bootstrap"], f"{where}.concentration.bootstrap", survey)
    if spec["vce"] == "survey" and not survey:
        raise InputError(
            f"{where}.concentration: vce survey needs the sampling design: declare `survey:` on the study "
            f"or its dataset."
        )


def _check_layouts(config: dict, config_name: str) -> None:
    from .synth import GENERATORS

    for name, dataset in config["datasets"].items():
        generator = dataset["generator"]
        layouts = GENERATORS[generator["survey"]].layouts
        if generator["layout"] not in layouts:
            raise InputError(
                f"{config_name}: datasets.{name}.generator.layout: the {generator['survey']} generator writes "
                f"the layouts {', '.join(layouts)}, not '{generator['layout']}'."
            )


def _check_table_names(config: dict, config_name: str) -> None:
    """Descriptive and effect tables share results/<study>/tables/, and the rules tell them
    apart by name across studies: a name must be one kind of table everywhere."""

    def names(kind):
        return {t: s for s, study in config["studies"].items() for t in study.get(kind, {})}

    descriptive, effects = names("tables"), names("effect_tables")
    for table in sorted(set(descriptive) & set(effects)):
        raise InputError(
            f"{config_name}: table name '{table}' is a descriptive table in studies."
            f"{descriptive[table]}.tables and an effect table in studies.{effects[table]}"
            f".effect_tables; rename one of them."
        )


def _explain(e: jsonschema.ValidationError) -> str:
    if e.validator == "pattern" and e.schema.get("description", "").startswith("A name that becomes part of a path"):
        return (
            f"'{e.instance}' cannot be used as a name: names become file names, so they are lowercase "
            f"letters, digits and _, starting with a letter (e.g. {_suggest_name(e.instance)})."
        )
    if e.validator == "additionalProperties":
        allowed = ", ".join(e.schema.get("properties", {})) or "none"
        return f"{e.message}; allowed keys here: {allowed}."
    if e.validator == "required":
        return f"{e.message}."
    if e.validator == "enum":
        return f"{e.instance!r} is not allowed; choose one of {', '.join(map(str, e.validator_value))}."
    hint = e.schema.get("description")
    return f"{e.message}." + (f" Expected: {hint}" if hint else "")
