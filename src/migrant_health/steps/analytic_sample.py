"""Rule analytic_sample: a study's ordered filters with their flow, then sample-level derivations."""

import pandas as pd

from .. import sample
from ..io.files import write_csv, write_parquet


def analytic_sample(study: str, spec: dict, interim: str, analytic: str, flow: str) -> None:
    kept, counted = sample.apply_filters(
        pd.read_parquet(interim), spec["sample"], f"config.yaml: studies.{study}.sample"
    )
    write_parquet(sample.add_sample_derivations(kept, spec), analytic)
    write_csv(counted, flow, float_format=None)
