"""Rule bootstrap_gather: a unit's bootstrap chunks and jackknife -> percentile and BCa intervals as
tidy rows (gather_estimates adds a model unit's to estimates.csv, the concentration stage its own to
concentration.csv) and the failures' messages."""

import pandas as pd

from ..estimation import whole_file_design
from ..io.files import EXACT_FLOAT, read_tidy, write_csv
from ..model_bootstrap import concentration_estimates, gather


def bootstrap_gather(
    where: str,
    settings: dict,
    estimates: list,
    chunks: list,
    jackknife: list,
    intervals: str,
    messages: str,
    study: str = "",
    concentration: dict | None = None,
    analytic: list | None = None,
    survey: dict | None = None,
    interim: list | None = None,
) -> None:
    """`estimates`: the unit's fit (a model unit); without it, the concentration stage's indices are
    recomputed from `analytic` (with vce survey, over the whole file's design read from `interim`)."""

    def read(path):
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"failed": str})

    if estimates:
        full = read_tidy(estimates[0])
    else:
        design = whole_file_design(survey, interim, f"config.yaml: studies.{study}.survey")
        full = concentration_estimates(pd.read_parquet(analytic[0]), concentration, study, design)
    tidy, notes = gather(full, [read(c) for c in chunks], [read(j) for j in jackknife], settings, where)
    write_csv(tidy, intervals, float_format=EXACT_FLOAT)
    write_csv(notes, messages, float_format=None)
