"""Timings of the statistical core on 2 cores, each the median of 5 runs, beside its target.

1. Probit with 30 regressors (factors included) on 200,000 rows: fit, and its AMEs with
   delta-method SEs (issue 18: fit + AMEs <= 1 s).
2. The same AMEs with interactions (x0#x1, 1.f0#c.x2, f1#f2 cells): at most 1.5x the cost without.
3. Survey variance (strata, PSUs, weights, fpc; Taylor linearisation) against the cluster-robust
   variance of the same fit's scores: at most 1.2x.
4. 1,000 bootstrap replicates of a two-part model (probit + Gamma-log GLM) with combined AMEs,
   1,165 rows (issue 3: <= 60 s).
Usage: .venv/bin/python bench/bench_stats.py [--quick]   (--quick: items 1-3 only)
"""

import statistics
import sys
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from migrant_health.stats import ModelSpec, fit, fit_two_part, margins
from migrant_health.stats.bootstrap import bootstrap
from migrant_health.stats.survey import DesignRows, SurveyDesign
from migrant_health.stats.variance import sandwich

REPEATS = 5


def survey_like(n: int, seed: int = 0) -> tuple[pd.DataFrame, list]:
    """20 continuous covariates and 4 factors (10 indicator columns): 30 regressors; a design of
    32 strata, PSUs of 20 rows and weights."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(20)})
    covariates = [f"x{i}" for i in range(20)]
    for j, k in enumerate([3, 3, 4, 4]):
        data[f"f{j}"] = pd.Categorical(rng.integers(0, k, n))
        covariates.append({"factor": f"f{j}", "reference": 0})
    eta = 0.2 * data[[f"x{i}" for i in range(5)]].sum(axis=1) + 0.3 * (data["f0"].astype(int) == 1)
    data["y"] = (rng.random(n) < 1 / (1 + np.exp(-(eta - 0.5)))).astype(float)
    data["amount"] = np.where(data["y"] > 0, rng.gamma(2, np.exp(8 + 0.3 * data["x0"]) / 2), 0.0)
    data["psu"] = np.arange(n) // 20
    data["stratum"] = data["psu"] % 32
    data["weight"] = rng.uniform(0.5, 2.0, n)
    return data, covariates


def median_time(run, repeats: int = REPEATS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def paired_medians(first, second, repeats: int = REPEATS) -> tuple[float, float]:
    """Medians of two runs taken in turn, so that a burst of load on a shared machine falls on both."""
    times = ([], [])
    for _ in range(repeats):
        for run, out in zip((first, second), times):
            start = time.perf_counter()
            run()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def probit_and_ames(data: pd.DataFrame, covariates: list) -> None:
    spec = ModelSpec("y", covariates, kind="probit")
    fit_time, fitted = median_time(lambda: fit(spec, data))
    ame_time, m = median_time(lambda: margins(fitted))
    total, _ = median_time(lambda: margins(fit(spec, data)))  # what the target is about
    print(
        f"1. probit, {fitted.X.shape[1] - 1} regressors + constant, {len(data):,} rows: fit {fit_time:.2f} s, "
        f"{len(m.estimates)} AMEs with SEs {ame_time:.2f} s, together {total:.2f} s   (target <= 1 s)"
    )
    f0 = {"factor": "f0", "reference": 0}
    f1, f2 = {"factor": "f1", "reference": 0}, {"factor": "f2", "reference": 0}
    interactions = [{"interaction": ["x0", "x1"]}, {"interaction": [f0, "x2"]}, {"interaction": [f1, f2]}]
    with_interactions = fit(ModelSpec("y", covariates + interactions, kind="probit"), data)
    same_terms = fit(ModelSpec("y", covariates, kind="probit"), data)
    interacted, plain = paired_medians(lambda: margins(with_interactions), lambda: margins(same_terms))
    print(
        f"2. AMEs with interactions ({with_interactions.X.shape[1] - same_terms.X.shape[1]} product columns): "
        f"{interacted:.2f} s against {plain:.2f} s without, {interacted / plain:.2f}x   (target <= 1.5x)"
    )


def survey_against_cluster(data: pd.DataFrame, covariates: list) -> None:
    survey = {"strata": "stratum", "psu": "psu", "weights": "weight"}
    weighted = fit(ModelSpec("y", covariates, kind="probit", vce="robust", weights="weight"), data)
    model = sm.GLM(weighted.y, weighted.X, family=sm.families.Binomial(sm.families.links.Probit()),
                   freq_weights=weighted.weights)  # fmt: skip
    bread = np.linalg.inv(-model.hessian(weighted.params, observed=True))
    scores = model.score_obs(weighted.params)
    design = SurveyDesign.from_data(data, survey)
    survey_time, cluster_time = paired_medians(
        lambda: sandwich(bread, scores, "survey", design_rows=DesignRows.of(design, data)),
        lambda: sandwich(bread, scores, "cluster", clusters=data["psu"]),
    )
    cluster_spec = ModelSpec("y", covariates, kind="probit", vce="cluster", cluster="psu", weights="weight")
    survey_spec = ModelSpec("y", covariates, kind="probit", vce="survey", survey=survey)
    whole_survey, whole_cluster = paired_medians(lambda: fit(survey_spec, data), lambda: fit(cluster_spec, data))
    print(
        f"3. survey variance (32 strata, {data['psu'].nunique():,} PSUs, weights) {survey_time:.3f} s against "
        f"cluster-robust {cluster_time:.3f} s, {survey_time / cluster_time:.2f}x   (target <= 1.2x); the whole "
        f"weighted fits {whole_survey:.2f} s against {whole_cluster:.2f} s, {whole_survey / whole_cluster:.2f}x"
    )


def two_part_bootstrap() -> None:
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
    print(
        f"4. two-part model with combined AMEs, 1,165 rows, {len(reps):,} bootstrap replicates: "
        f"{time.perf_counter() - start:5.1f} s   (target <= 60 s)"
    )


def main() -> None:
    data, covariates = survey_like(200_000)
    probit_and_ames(data, covariates)
    survey_against_cluster(data, covariates)
    if "--quick" not in sys.argv:
        two_part_bootstrap()


if __name__ == "__main__":
    main()
