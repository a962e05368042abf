"""Wall time of the test suite: the whole of it (what `make test` and CI run) and the edit-test
loop (`make test-fast`, tests not marked slow).

Targets (issue 13): the whole suite <= 3 min, the fast set <= 30 s, on a quiet 2-core machine.
Usage: .venv/bin/python bench/bench_suite.py
"""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    return time.perf_counter() - start, summary


def main() -> None:
    fast, fast_summary = timed("-m", "not slow")
    print(f"test-fast (not slow): {fast:6.1f} s   (target <= 30 s)   {fast_summary}")
    whole, whole_summary = timed("-n", "2", "--dist", "loadfile")  # as `make test` runs it
    print(f"whole suite:          {whole:6.1f} s   (target <= 180 s)  {whole_summary}")


if __name__ == "__main__":
    main()
