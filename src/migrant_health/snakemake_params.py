"""How Snakemake compares a rule's params with the last run's, without importing pandas needlessly.

To decide whether a finished job must rerun, Snakemake 9 serialises each rule's params. Its
serialiser imports pandas whenever pandas is installed, to hash a DataFrame param. This workflow's
params are plain config values, and pandas' import is a third of a no-op rerun (0.5 s of 1.5 s
on a 2-core machine, bench/bench_workflow.py). `serialise_pandas_params_only` keeps Snakemake's
serialisation exactly (a pandas object is still hashed by Snakemake's own code) and imports
pandas only for a value that is a pandas object. It patches one private method of Snakemake's
PersistenceBase; if a Snakemake version lacks it, nothing is patched and Snakemake works as it does.
"""


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
