"""Validating config.yaml against its JSON schema, with defaults filled in.

Snakemake's own `validate` does the same with jsonschema; this wrapper names the key
path of the first problem and what is allowed there, instead of dumping the schema.
"""
from pathlib import Path

import jsonschema
import yaml

from .errors import InputError

# What a study's `concentration` step writes under results/<study>/tables and figures.
CONCENTRATION_TABLES = ("concentration_indices", "decomposition")
CONCENTRATION_FIGURES = ("concentration_curves", "decomposition")


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
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = _with_defaults(jsonschema.Draft7Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in e.absolute_path)
        path = path.replace(".[", "[") or "(top level)"
        raise InputError(f"{config_name}: {path}: {_explain(e)}")
    for name, study in config["studies"].items():
        if study["dataset"] not in config["datasets"]:
            raise InputError(f"{config_name}: studies.{name}.dataset: '{study['dataset']}' is not a "
                             f"dataset; allowed: {', '.join(config['datasets'])}.")
    _check_table_names(config, config_name)
    return config


def _check_table_names(config: dict, config_name: str) -> None:
    """Descriptive and effect tables share results/<study>/tables/, and the rules tell them
    apart by name across studies: a name must be one kind of table everywhere."""
    def names(kind):
        return {t: s for s, study in config["studies"].items() for t in study.get(kind, {})}

    descriptive, effects = names("tables"), names("effect_tables")
    for table in sorted(set(descriptive) & set(effects)):
        raise InputError(f"{config_name}: table name '{table}' is a descriptive table in studies."
                         f"{descriptive[table]}.tables and an effect table in studies.{effects[table]}"
                         f".effect_tables; rename one of them.")


def _explain(e: jsonschema.ValidationError) -> str:
    if e.validator == "additionalProperties":
        allowed = ", ".join(e.schema.get("properties", {})) or "none"
        return f"{e.message}; allowed keys here: {allowed}."
    if e.validator == "required":
        return f"{e.message}."
    if e.validator == "enum":
        return f"{e.instance!r} is not allowed; choose one of {', '.join(map(str, e.validator_value))}."
    hint = e.schema.get("description")
    return f"{e.message}." + (f" Expected: {hint}" if hint else "")
