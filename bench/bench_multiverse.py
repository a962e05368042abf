"""Wall time of a 500-variant multiverse of the benefit study, run by the workflow on 2 cores.

In a scratch directory: the synthetic data are generated and ingested first (not timed), then
the workflow builds results/benefit/multiverse.csv and its specification curve with the benefit
study's multiverse widened to 500 variants (5 x 5 x 5 x 4: the childbirth step, the insurance
step, the urban subsample, variance and age choices; 50 variants a job). Target (issue 17): <= 10 min.
Usage: .venv/bin/python bench/bench_multiverse.py [--variants-per-job N]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from workflow_helpers import ROOT, prepare, run_workflow  # noqa: E402

from migrant_health import multiverse  # noqa: E402

TARGET_S = 600

CHOICES = {
    "childbirth": {
        "vary": "sample_step",
        "step": "not_childbirth",
        "options": {
            "excluded": True,
            "included": False,
            "illness_only": "hospitalisation_reason == 'illness'",
            "not_injury": "hospitalisation_reason != 'injury'",
            "illness_or_injury": "hospitalisation_reason in ['illness', 'injury']",
        },
    },
    "insurance": {
        "vary": "sample_step",
        "step": "insured",
        "options": {
            "one_programme": True,
            "any_programme": "has_social_insurance",
            "ncms_or_uebmi": "insurance_programme in ['NCMS', 'UEBMI']",
            "single_or_multiple": "insurance_programme != 'none'",
            "left_out": False,
        },
    },
    "urban_subsample": {
        "vary": "subsample",
        "subsample": "urban",
        "options": {
            "urbmi_and_uebmi": "insurance_programme in ['URBMI', 'UEBMI']",
            "uebmi_only": "insurance_programme == 'UEBMI'",
            "urban_area": "insurance_programme in ['URBMI', 'UEBMI'] and urban_area",
            "working": "insurance_programme in ['URBMI', 'UEBMI'] and employed",
            "under_50": "insurance_programme in ['URBMI', 'UEBMI'] and age < 50",
        },
    },
    "variance": {"vary": "vce", "options": {"oim": "oim", "robust": "robust"}},
    "age": {"vary": "covariates", "options": {"quadratic": {}, "linear": {"drop": ["age2"]}}},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants-per-job", type=int, default=50)
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    spec = config["studies"]["benefit"]["multiverse"]
    spec.update(choices=CHOICES, chunk=args.variants_per_job, title="500 variants")
    n, jobs = multiverse.n_variants(spec), multiverse.n_chunks(spec)
    assert n == 500, n
    with tempfile.TemporaryDirectory() as tmp:
        workdir = prepare(Path(tmp), yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        done = run_workflow(workdir, "--until", "ingest")
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        start = time.perf_counter()
        done = run_workflow(workdir, "--until", "multiverse_gather")
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        rows = (workdir / "results/benefit/multiverse.csv").read_text().count("\n") - 1
        assert rows == n * len(spec["estimates"]), rows
        print(
            f"multiverse of {n} variants ({jobs} jobs of {args.variants_per_job}, {rows:,} rows), 2 cores: "
            f"{wall:6.1f} s   (target <= {TARGET_S} s)   {wall / n * 2:.2f} s of CPU a variant"
        )


if __name__ == "__main__":
    main()
