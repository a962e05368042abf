"""Wall time of the benefit study's part of the workflow, from the interim parquet to the report
(sample, Tables 1-5, models, figures, comparison, report), on the synthetic default.
Usage: .venv/bin/python bench/bench_benefit.py
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from workflow_helpers import prepare, run_workflow  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = prepare(Path(tmp))
        first = run_workflow(workdir)
        if first.returncode != 0:
            sys.exit(first.stderr)
        start = time.perf_counter()
        again = run_workflow(workdir, "--forcerun", "sample")
        elapsed = time.perf_counter() - start
        if again.returncode != 0:
            sys.exit(again.stderr)
        print(f"benefit study, interim parquet -> report (forcerun sample and downstream): {elapsed:5.1f} s")


if __name__ == "__main__":
    main()
