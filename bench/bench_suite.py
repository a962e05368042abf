"""Wall time of the test suite as the Makefile runs it: `make test` (the whole suite and the linter,
what CI runs) and `make test-fast` (the edit-test loop: tests not marked slow).

Targets (issue 13): the whole suite <= 3 min, the fast set <= 30 s, on a quiet 2-core machine.
The machine's speed is printed beside, before and after: one bootstrap job of the default run
(bench_bootstrap.py's first chunk, 250 replications), timed the same way each time, so that a
figure from a shared, slowed machine can be told from a slower suite.
Usage: make, then .venv/bin/python bench/bench_suite.py
"""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(target: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return time.perf_counter() - start, summary


def machine_speed() -> float:
    """Seconds of one bootstrap chunk job (its own process, as bench_bootstrap.py times it)."""
    probe = "import sys; sys.path.insert(0, 'bench'); import bench_bootstrap as b; print(b._job('chunk', 0, 4))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    before = machine_speed()
    fast, fast_summary = timed("test-fast")
    print(f"make test-fast: {fast:6.1f} s   (target <= 30 s)   {fast_summary}")
    whole, whole_summary = timed("test")
    print(f"make test:      {whole:6.1f} s   (target <= 180 s)  {whole_summary}")
    print(f"machine speed:  one bootstrap chunk job {before:.2f} s before, {machine_speed():.2f} s after")


if __name__ == "__main__":
    main()
