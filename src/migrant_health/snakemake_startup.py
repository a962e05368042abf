"""Two costs of every Snakemake start that this workflow does not need, removed without changing
what Snakemake does. Each patches one private function of Snakemake; with a Snakemake that lacks
it, nothing is patched and Snakemake works as it does. A no-op rerun is mostly Snakemake's start
(bench/bench_workflow.py), and on SLURM every job starts Snakemake twice.

1. Params without pandas (`serialise_pandas_params_only`). To decide whether a finished job must
rerun, Snakemake 9 serialises each rule's params. Its serialiser imports pandas whenever pandas is
installed, to hash a DataFrame param. This workflow's params are plain config values, and pandas'
import is a third of a no-op rerun (0.5 s of 1.5 s on a 2-core machine). The patch keeps Snakemake's
serialisation exactly (a pandas object is still hashed by Snakemake's own code) and imports
pandas only for a value that is a pandas object (PersistenceBase._serialize_param_pandas).

2. The config file through libyaml (`read_configfiles_with_libyaml`). Snakemake reads a `configfile:`
through yte, the template engine, whose pure-Python YAML loader takes 0.2 s on config.yaml. A file
that does not ask for templating (no top-level `__use_yte__`) is the same document when libyaml's
safe loader reads it, and is read so; any other file, or one libyaml cannot read, goes to
Snakemake's own loader (snakemake.common.configfile._load_configfile), with Snakemake's messages.
"""

from pathlib import Path


def serialise_pandas_params_only() -> bool:
    """Patch Snakemake's param serialiser (see above); whether it was patched."""
    from snakemake import persistence

    Persistence = getattr(persistence, "PersistenceBase", None)
    original = getattr(Persistence, "_serialize_param_pandas", None)
    builtin = getattr(Persistence, "_serialize_param_builtin", None)
    if original is None or builtin is None:  # another Snakemake: left as it is
        return False
    if getattr(original, "pandas_only", False):  # patched already
        return True

    def serialize_param(self, value):
        if type(value).__module__.partition(".")[0] != "pandas":
            return builtin(self, value)
        return original(self, value)

    serialize_param.pandas_only, serialize_param.original = True, original
    Persistence._serialize_param_pandas = serialize_param
    return True


def read_configfiles_with_libyaml() -> bool:
    """Patch Snakemake's config file loader (see above); whether it was patched."""
    from snakemake.common import configfile

    from .errors import InputError
    from .io.yamlfile import read_yaml

    original = getattr(configfile, "_load_configfile", None)
    if original is None:  # another Snakemake: left as it is
        return False
    if getattr(original, "libyaml", False):  # patched already
        return True

    def load_configfile(configpath_or_obj, filetype="Config"):
        if isinstance(configpath_or_obj, str | Path) and Path(configpath_or_obj).suffix in (".yaml", ".yml"):
            try:
                document = read_yaml(configpath_or_obj)  # the project's libyaml reader
            except (OSError, UnicodeDecodeError, InputError):
                document = None  # Snakemake's own loader says what is wrong
            if isinstance(document, dict) and "__use_yte__" not in document:
                return document
        return original(configpath_or_obj, filetype)

    load_configfile.libyaml, load_configfile.original = True, original
    configfile._load_configfile = load_configfile
    return True
