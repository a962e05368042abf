"""Rule bootstrap_chunk: replicates k*chunk .. (k+1)*chunk - 1 of a model unit's bootstrap, each
from its own seed (model_bootstrap.py), whatever the chunk size."""

import pandas as pd

from ..estimation import whole_file_design
from ..io.files import EXACT_FLOAT, write_csv
from ..model_bootstrap import chunk, problems


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
    design = whole_file_design(survey, interim, f"config.yaml: studies.{study}.survey")
    unit_problems = problems(pd.read_parquet(analytic), models, study, unit, settings, survey, design)
    write_csv(chunk(unit_problems, settings, index), replicates, float_format=EXACT_FLOAT)
