"""Time of 1,000 bootstrap replications of the benefit study's two-part model (probit + Gamma-log GLM,
both refitted in each replication, with the combined effects on E[y]), beside its target (issue 17:
<= 30 s locally), on the analytic sample of the default run (run `make` first).

1. 1,000 replications of the total sample (1,165 inpatients), in one process.
2. The default run's whole bootstrap of the unit: 1,000 replications of each of its three subsamples
   and their jackknife (BCa), as the workflow's jobs cut it (4 chunks and 4 jackknife parts), on 2
   worker processes.
Usage: .venv/bin/python bench/bench_bootstrap.py
"""

import os

# One BLAS thread per process, as the workflow's jobs run (rules/common.smk): set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from migrant_health import model_bootstrap  # noqa: E402
from migrant_health.config import validate_config  # noqa: E402
from migrant_health.io.yamlfile import read_yaml  # noqa: E402
from migrant_health.outputs import TWO_PART, bootstrap_chunks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ANALYTIC = ROOT / "data" / "analytic" / "benefit.parquet"
TARGET = 30.0


def _setup():
    config = validate_config(read_yaml(ROOT / "config.yaml"), ROOT / "schemas" / "config.schema.yaml")
    models = config["studies"]["benefit"]["models"]
    return pd.read_parquet(ANALYTIC), models, models["two_part"]["bootstrap"]


def _job(kind: str, index: int, parts: int) -> float:
    """One workflow job (a chunk or a jackknife part) with its own set-up, as a job runs it."""
    data, models, settings = _setup()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problems = model_bootstrap.problems(data, models, "benefit", TWO_PART, settings)
        if kind == "chunk":
            model_bootstrap.chunk(problems, settings, index)
        else:
            model_bootstrap.jackknife(problems, index, parts)
    return time.perf_counter() - start


def main() -> None:
    if not ANALYTIC.exists():
        sys.exit(f"{ANALYTIC} is missing: run `make` first (the benchmark uses the default run's analytic sample).")
    data, models, settings = _setup()
    total_only = {**models, "samples": {"total": None}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        problems = model_bootstrap.problems(data, total_only, "benefit", TWO_PART, settings)
        setup = time.perf_counter() - start
        replicates = model_bootstrap.chunk(problems, {**settings, "chunk": settings["reps"]}, 0)
        elapsed = time.perf_counter() - start
    failed = int((replicates["failed"].fillna("") != "").sum())
    print(
        f"1. benefit two-part model, total sample ({len(data):,} rows): {settings['reps']:,} bootstrap replications "
        f"{elapsed:5.1f} s on one core (full-sample fit {setup:.1f} s of it; {failed} failed)   "
        f"(target <= {TARGET:.0f} s)"
    )
    parts = bootstrap_chunks(settings)
    jobs = [("chunk", k, parts) for k in range(parts)] + [("jackknife", k, parts) for k in range(parts)]
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        seconds = list(pool.map(_job, *zip(*jobs)))
    wall = time.perf_counter() - start
    print(
        f"2. the default run's bootstrap of the unit (3 subsamples x {settings['reps']:,} replications, jackknife; "
        f"{len(jobs)} jobs on 2 processes): {wall:5.1f} s wall, {sum(seconds):5.1f} s of job time"
    )


if __name__ == "__main__":
    main()
