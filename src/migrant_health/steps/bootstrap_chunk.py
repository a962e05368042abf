"""Rule bootstrap_chunk: replicates k*chunk .. (k+1)*chunk - 1 of a model unit's bootstrap, each
from its own seed (model_bootstrap.py), whatever the chunk size."""

from ..io.files import EXACT_FLOAT, write_csv
from ..model_bootstrap import chunk, read_problems


def bootstrap_chunk(
    study: str,
    unit: str,
    index: int,
    models: dict,
    settings: dict,
    analytic: str,
    replicates: str,
    survey: dict | None = None,
    interim: list | None = None,
) -> None:
    unit_problems = read_problems(analytic, models, study, unit, settings, survey, interim)
    write_csv(chunk(unit_problems, settings, index), replicates, float_format=EXACT_FLOAT)
