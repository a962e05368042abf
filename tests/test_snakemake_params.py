"""Snakemake's params comparison without pandas' import (src/migrant_health/snakemake_params.py):
the same serialisation as Snakemake's own, pandas imported only for a pandas value."""

import subprocess
import sys

import pandas as pd
from snakemake import persistence

from migrant_health.snakemake_params import serialise_pandas_params_only

_CURRENT = persistence.PersistenceBase._serialize_param_pandas
ORIGINAL = getattr(_CURRENT, "original", _CURRENT)  # Snakemake's own, even if patched already


class _Self:
    """What the serialiser reads of its Persistence object."""

    _serialize_param_builtin = persistence.PersistenceBase._serialize_param_builtin


def test_params_serialise_as_snakemake_serialises_them():
    assert serialise_pandas_params_only() and serialise_pandas_params_only()  # patched, once
    patched = persistence.PersistenceBase._serialize_param_pandas
    assert patched is not ORIGINAL
    values = [
        {"sample": [{"name": "adults", "keep": "age >= 18"}], "quantile_groups": None},
        ["data/interim/cmds2014.parquet"],
        "benefit",
        3,
        2.5,
        True,
        None,
        object(),  # unrepresentable: left out of the comparison, as before
        pd.DataFrame({"x": [1.0, 2.0]}),  # still hashed by Snakemake's own code
        pd.Series([1, 2]),
    ]
    for value in values:
        assert patched(_Self(), value) == ORIGINAL(_Self(), value), value


def test_a_config_value_does_not_import_pandas():
    probe = (
        "import sys\n"
        "from snakemake import persistence\n"
        "from migrant_health.snakemake_params import serialise_pandas_params_only\n"
        "assert 'pandas' not in sys.modules, 'imported before the test'\n"
        "serialise_pandas_params_only()\n"
        "class S: _serialize_param_builtin = persistence.PersistenceBase._serialize_param_builtin\n"
        "persistence.PersistenceBase._serialize_param_pandas(S(), {'a': [1, 'b']})\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
