"""Rule analytic_sample: a study's ordered filters with their flow, then sample-level derivations."""

import pandas as pd

from .. import sample
from ..io.files import write_csv, write_parquet


def analytic_sample(study: str, spec: dict, datasets: list, interim: list, analytic: str, flow: str) -> None:
    """`datasets` and `interim`: the study's datasets and their canonical files; several are waves
    pooled into one sample, whose flow counts each wave (n_after_<wave>)."""
    where = f"config.yaml: studies.{study}"
    frames = [pd.read_parquet(path) for path in interim]
    pooled = len(frames) > 1
    data = sample.pool(frames, datasets, f"{where}.dataset") if pooled else frames[0]
    kept, counted = sample.apply_filters(data, spec["sample"], f"{where}.sample", by="wave" if pooled else None)
    write_parquet(sample.add_sample_derivations(kept, spec), analytic)
    write_csv(counted, flow, float_format=None)
