"""Speed of the inequality study's concentration index: with its city-clustered standard error
(conindex's convenient regression) on 1,000,000 rows. The study's random-intercept logits are
timed by bench/bench_mixed.py, on its analytic sample.
Usage: .venv/bin/python bench/bench_inequality.py
"""

import time

import numpy as np

from migrant_health.stats.conindex import concentration_index


def index_on_a_million_rows() -> None:
    rng = np.random.default_rng(1)
    n = 1_000_000
    income = np.round(rng.lognormal(7.7, 0.7, n), -1)
    city = rng.integers(0, 350, n)
    use = (rng.random(n) < 0.08 - 0.04 * (income > np.median(income))).astype(float)
    start = time.perf_counter()
    result = concentration_index(use, income, vce="cluster", clusters=city)
    elapsed = time.perf_counter() - start
    print(
        f"concentration index, cluster SE, 1,000,000 rows: {elapsed:5.2f} s "
        f"(C = {result.estimate:.4f}, SE {result.std_error:.4f})"
    )


if __name__ == "__main__":
    index_on_a_million_rows()
