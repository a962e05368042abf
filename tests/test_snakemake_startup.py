"""Snakemake's start without needless costs (src/migrant_health/snakemake_startup.py): params
serialised as Snakemake's own code does, pandas imported only for a pandas value; config files
read by libyaml into the documents Snakemake's own loader reads."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from snakemake import persistence
from snakemake_interface_common.exceptions import WorkflowError

from migrant_health.snakemake_startup import serialise_pandas_params_only

ROOT = Path(__file__).resolve().parents[1]

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
        "from migrant_health.snakemake_startup import serialise_pandas_params_only\n"
        "assert 'pandas' not in sys.modules, 'imported before the test'\n"
        "serialise_pandas_params_only()\n"
        "class S: _serialize_param_builtin = persistence.PersistenceBase._serialize_param_builtin\n"
        "persistence.PersistenceBase._serialize_param_pandas(S(), {'a': [1, 'b']})\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_config_files_read_as_snakemakes_own_loader_reads_them(tmp_path):
    from snakemake.common import configfile

    from migrant_health.snakemake_startup import read_configfiles_with_libyaml

    assert read_configfiles_with_libyaml() and read_configfiles_with_libyaml()  # patched, once
    patched = configfile._load_configfile
    original = patched.original
    templated = tmp_path / "templated.yaml"
    templated.write_text("__use_yte__: true\nn: ?1 + 1\n")
    for path in (ROOT / "config.yaml", *sorted((ROOT / "data" / "published").glob("*.yaml")), templated):
        assert patched(str(path)) == original(str(path)), path
    assert patched(str(templated)) == {"n": 2}  # yte's templating, as before
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(WorkflowError, match="not valid JSON or YAML"):  # Snakemake's own message
        patched(str(broken))
