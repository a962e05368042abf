"""Speed of the inequality study's estimators.

1. A concentration index with its city-clustered standard error (conindex's convenient
   regression) on 1,000,000 rows.
2. The random-intercept logits (fitted as glmer, Laplace) of the study's two outcomes on its sample
   of the synthetic default (about 94,000 workers in 348 cities).
Usage: .venv/bin/python bench/bench_inequality.py
"""

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import generate, load_config  # noqa: E402

from migrant_health import derive, sample  # noqa: E402
from migrant_health.estimation import equation_spec  # noqa: E402
from migrant_health.io import codebook  # noqa: E402
from migrant_health.stats.conindex import concentration_index  # noqa: E402
from migrant_health.stats.mixed import fit_mixed_logit  # noqa: E402


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


def multilevel_fits() -> None:
    config = load_config()
    study = config["studies"]["inequality"]
    release = generate(config["datasets"]["cmds2014"]["generator"]["seed"])
    book = codebook.load_codebook(ROOT / "data" / "codebooks" / "cmds2014.yaml")
    frame, _ = codebook.apply_codebook(release.raw[book.sources], book)
    workers, _ = sample.apply_filters(derive.derive_all(frame, book.survey), study["sample"], "inequality")
    workers = sample.add_sample_derivations(workers, study)
    for name, eq in study["models"]["equations"].items():
        if eq["kind"] != "melogit":
            continue
        start = time.perf_counter()
        fitted = fit_mixed_logit(equation_spec(name, eq, study["models"]), workers, eq["group"], eq.get("nagq", 1))
        elapsed = time.perf_counter() - start
        print(
            f"random-intercept logit {name}: {fitted.n_obs:,} workers, {fitted.n_groups} cities, "
            f"{len(fitted.params)} fixed effects: {elapsed:5.2f} s (converged {fitted.converged})"
        )


if __name__ == "__main__":
    index_on_a_million_rows()
    multilevel_fits()
