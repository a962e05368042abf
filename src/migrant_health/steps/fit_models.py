"""Rule fit_models: one unit of a study's models (an equation, or a two-part model's parts
and their combination) in every subsample."""

import pandas as pd

from ..estimation import fit_unit, whole_file_design
from ..io.files import EXACT_FLOAT, write_csv


def fit_models(
    study: str,
    unit: str,
    models: dict,
    analytic: str,
    estimates: str,
    flow: str,
    messages: str,
    survey: dict | None = None,
    interim: list | None = None,
) -> None:
    """The unit's tidy rows at full precision (gather_estimates rounds them once). With vce survey,
    `survey` is the design and `interim` the whole files (every wave) it is read from (samples are subpopulations)."""
    design = whole_file_design(survey, interim, f"config.yaml: studies.{study}.survey")
    result = fit_unit(pd.read_parquet(analytic), models, study, unit, survey, design)
    write_csv(result.estimates, estimates, float_format=EXACT_FLOAT)
    write_csv(result.flow, flow, float_format=None)
    write_csv(result.messages, messages, float_format=None)
