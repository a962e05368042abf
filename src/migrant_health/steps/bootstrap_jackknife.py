"""Rule bootstrap_jackknife: part of a model unit's estimates leaving out one row (or cluster) at a
time (every `parts`-th unit from `part`), for the BCa intervals' acceleration."""

from ..io.files import EXACT_FLOAT, write_csv
from ..model_bootstrap import jackknife, read_problems


def bootstrap_jackknife(
    study: str,
    unit: str,
    part: int,
    parts: int,
    models: dict,
    settings: dict,
    analytic: str,
    replicates: str,
    survey: dict | None = None,
    interim: list | None = None,
) -> None:
    unit_problems = read_problems(analytic, models, study, unit, settings, survey, interim)
    write_csv(jackknife(unit_problems, part, parts), replicates, float_format=EXACT_FLOAT)
