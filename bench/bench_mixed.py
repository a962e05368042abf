"""Speed of the random-intercept logit (fitted as lme4's glmer, Laplace) on the inequality
study's analytic sample: its two melogit equations (about 94,000 workers in 348 cities, 18
fixed effects), each fitted several times. Target: <= 3 s per fit on the 2-core machine.

Prints each fit's median wall time (and CPU time: on a shared machine the wall time also
counts other processes' turns), and where the time goes: glmer's nAGQ = 0 first stage, the
metric of Newton's steps, Newton on the second-stage deviance, deriv12's Hessian, and the
single-level logit of the LR test, with the number of deviance evaluations.

Usage: .venv/bin/python bench/bench_mixed.py [--repeat N] [sample.parquet]
(the sample defaults to data/analytic/inequality.parquet, which `make` builds)
"""

import argparse
import contextlib
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from migrant_health.stats import mixed
from migrant_health.stats.design import Design

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 3.0
# The fit's steps, as attributes of stats/mixed.py (internals: the breakdown is skipped if renamed).
PHASES = {
    "first stage": (mixed._GlmerDeviance, "first_stage"),
    "metric": (mixed, "_newton_metric"),
    "Newton": (mixed, "_newton_minimise"),
    "deriv12": (mixed, "_glmer_covariance"),
    "logit": (mixed, "_logit_loglik"),
}


@contextlib.contextmanager
def phase_clock(seconds: dict, evaluations: dict):
    """Adds each phase's wall time to `seconds` and its deviance evaluations to `evaluations`."""
    current = [None]
    originals = {
        name: getattr(owner, attribute) for name, (owner, attribute) in PHASES.items() if hasattr(owner, attribute)
    }
    if len(originals) < len(PHASES):
        yield False
        return

    def timed(name, function):
        def call(*args, **kwargs):
            current[0], start = name, time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start
                current[0] = None

        return call

    def counted(function):
        def call(self, par):
            evaluations[current[0]] += 1
            return function(self, par)

        return call

    deviance_call = mixed._GlmerDeviance.__call__
    try:
        for name, (owner, attribute) in PHASES.items():
            setattr(owner, attribute, timed(name, originals[name]))
        mixed._GlmerDeviance.__call__ = counted(deviance_call)
        yield True
    finally:
        for name, (owner, attribute) in PHASES.items():
            setattr(owner, attribute, originals[name])
        mixed._GlmerDeviance.__call__ = deviance_call


def phase_summary(phase: str, seconds: float, evaluations: int, fits: int) -> str:
    """'Newton 0.30 s (273 deviances)': per fit."""
    return f"{phase} {seconds / fits:.2f} s" + (f" ({evaluations // fits} deviances)" if evaluations else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sample", nargs="?", default=ROOT / "data" / "analytic" / "inequality.parquet", type=Path)
    parser.add_argument("--repeat", type=int, default=3, help="fits per equation (the median is reported)")
    args = parser.parse_args()
    if not args.sample.exists():
        print(f"bench_mixed: skipped, {args.sample} is absent: run `make` first (it builds the analytic samples).")
        return 0
    models = yaml.safe_load((ROOT / "config.yaml").read_text())["studies"]["inequality"]["models"]
    data = pd.read_parquet(args.sample)
    design = Design.from_data(models["covariates"], data)
    X = design.matrix(data)
    for name, equation in models["equations"].items():
        if equation["kind"] != "melogit":
            continue
        y, groups = data[equation["outcome"]].astype(float), data[equation["group"]]
        walls, cpus = [], []
        seconds, evaluations = defaultdict(float), defaultdict(int)
        for _ in range(args.repeat):
            with phase_clock(seconds, evaluations) as breakdown:
                wall, cpu = time.perf_counter(), time.process_time()
                fitted = mixed.fit_random_intercept_logit(X, y, groups, design.column_names(), equation.get("nagq", 1))
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
        wall = float(np.median(walls))
        print(
            f"random-intercept logit {name}: {fitted.n_obs:,} rows, {fitted.n_groups} groups, "
            f"{len(fitted.params)} fixed effects: {wall:5.2f} s per fit (median of {args.repeat}; "
            f"CPU {np.median(cpus):.2f} s), target <= {TARGET_SECONDS:.0f} s: "
            f"{'met' if wall <= TARGET_SECONDS else 'NOT met'} (converged {fitted.converged})"
        )
        if breakdown:
            print(
                "    "
                + ", ".join(phase_summary(phase, seconds[phase], evaluations[phase], args.repeat) for phase in PHASES)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
