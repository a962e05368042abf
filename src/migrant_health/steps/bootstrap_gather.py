"""Rule bootstrap_gather: a model unit's bootstrap chunks and jackknife -> percentile and BCa
intervals as tidy rows (gather_estimates adds them to estimates.csv) and the failures' messages."""

import pandas as pd

from ..io.files import EXACT_FLOAT, read_tidy, write_csv
from ..model_bootstrap import gather


def bootstrap_gather(
    where: str, settings: dict, estimates: str, chunks: list, jackknife: list, intervals: str, messages: str
) -> None:
    def read(path):
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"failed": str})

    tidy, notes = gather(read_tidy(estimates), [read(c) for c in chunks], [read(j) for j in jackknife], settings, where)
    write_csv(tidy, intervals, float_format=EXACT_FLOAT)
    write_csv(notes, messages, float_format=None)
