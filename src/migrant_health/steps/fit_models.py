"""Rule fit_models: one unit of a study's models (an equation, or a two-part model's parts
and their combination) in every subsample."""

import pandas as pd

from ..estimation import fit_unit
from ..io.files import EXACT_FLOAT, write_csv


def fit_models(study: str, unit: str, models: dict, analytic: str, estimates: str, flow: str, messages: str) -> None:
    """The unit's tidy rows at full precision (gather_estimates rounds them once)."""
    result = fit_unit(pd.read_parquet(analytic), models, study, unit)
    write_csv(result.estimates, estimates, float_format=EXACT_FLOAT)
    write_csv(result.flow, flow, float_format=None)
    write_csv(result.messages, messages, float_format=None)
