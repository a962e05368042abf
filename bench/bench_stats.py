"""Timings of the statistical core on 2 cores (issue 3's targets).

1. Probit with 30 regressors (factors included) and its AMEs with delta-method SEs, 200,000 rows
   (target <= 3 s).
2. 1,000 bootstrap replicates of a two-part model (probit + Gamma-log GLM) with combined AMEs,
   1,165 rows (target <= 60 s).
Usage: .venv/bin/python bench/bench_stats.py
"""

import time
import warnings

import numpy as np
import pandas as pd

from migrant_health.stats import ModelSpec, fit, fit_two_part, margins
from migrant_health.stats.bootstrap import bootstrap


def survey_like(n: int, seed: int = 0) -> tuple[pd.DataFrame, list]:
    """20 continuous covariates and 4 factors (10 indicator columns): 30 regressors."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(20)})
    covariates = [f"x{i}" for i in range(20)]
    for j, k in enumerate([3, 3, 4, 4]):
        data[f"f{j}"] = pd.Categorical(rng.integers(0, k, n))
        covariates.append({"factor": f"f{j}", "reference": 0})
    eta = 0.2 * data[[f"x{i}" for i in range(5)]].sum(axis=1) + 0.3 * (data["f0"].astype(int) == 1)
    data["y"] = (rng.random(n) < 1 / (1 + np.exp(-(eta - 0.5)))).astype(float)
    data["amount"] = np.where(data["y"] > 0, rng.gamma(2, np.exp(8 + 0.3 * data["x0"]) / 2), 0.0)
    return data, covariates


def main() -> None:
    data, covariates = survey_like(200_000)
    start = time.perf_counter()
    f = fit(ModelSpec("y", covariates, kind="probit"), data)
    m = margins(f)
    big = time.perf_counter() - start
    print(
        f"probit, {f.X.shape[1] - 1} regressors + constant, {len(data):,} rows, fit + {len(m.estimates)} AMEs "
        f"with SEs: {big:5.2f} s   (target <= 3 s)"
    )

    small, covs = survey_like(1165, seed=1)
    covs = covs[:8] + covs[20:22]

    def combined_ames(sample):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tp = fit_two_part(
                ModelSpec("y", covs, kind="probit"),
                ModelSpec("amount", covs, kind="glm", family="gamma", link="log"),
                sample,
                sample["y"] > 0,
            )
            return tp.combined_margins().estimates

    start = time.perf_counter()
    reps = bootstrap(combined_ames, small, reps=1000, seed=2)
    boot = time.perf_counter() - start
    print(
        f"two-part model with combined AMEs, 1,165 rows, {len(reps):,} bootstrap replicates: "
        f"{boot:5.1f} s   (target <= 60 s)"
    )


if __name__ == "__main__":
    main()
