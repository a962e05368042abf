"""Config validation: unknown keys, wrong types and missing keys are named by path."""

import copy

import pytest
from conftest import ROOT, load_config

from migrant_health.config import validate_config
from migrant_health.errors import InputError

SCHEMA = ROOT / "schemas" / "config.schema.yaml"


def test_shipped_config_is_valid_and_defaults_are_filled():
    config = load_config()
    del config["datasets"]["cmds2014"]["undeclared_codes"]
    validated = validate_config(config, SCHEMA)
    assert validated["datasets"]["cmds2014"]["undeclared_codes"] == "error"


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda c: c["datasets"]["cmds2014"].update(colour="red"),
            "datasets.cmds2014: Additional properties are not allowed ('colour' was unexpected); "
            "allowed keys here: synthetic",
        ),
        (
            lambda c: c["datasets"]["cmds2014"]["generator"].update(seed="abc"),
            "datasets.cmds2014.generator.seed: 'abc' is not of type 'integer'",
        ),
        (
            lambda c: c["studies"]["benefit"]["sample"][0].pop("reason"),
            "studies.benefit.sample[0]: 'reason' is a required property",
        ),
        (
            lambda c: c["datasets"]["cmds2014"].update(undeclared_codes="ignore"),
            "datasets.cmds2014.undeclared_codes: 'ignore' is not allowed; choose one of error, missing",
        ),
        (
            lambda c: c["studies"]["benefit"].update(dataset="cmds2015"),
            "studies.benefit.dataset: 'cmds2015' is not a dataset; allowed: cmds2014",
        ),
        (
            lambda c: c["studies"]["medical_return"]["effect_tables"].update(
                table1={"title": "t", "samples": [], "models": {}}
            ),
            "table name 'table1' is a descriptive table in studies.benefit.tables and an effect table in "
            "studies.medical_return.effect_tables; rename one of them",
        ),
    ],
)
def test_bad_config_names_the_key(edit, expected):
    config = copy.deepcopy(load_config())
    edit(config)
    with pytest.raises(InputError) as err:
        validate_config(config, SCHEMA)
    assert expected in str(err.value)
    assert str(err.value).startswith("config.yaml: ")
