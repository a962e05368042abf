"""The digest of a run's aggregates: one line `<sha256>  <path>` per file of results/ that holds
numbers or words (csv, md, tex, json, txt), in path order.

tests/data/results.sha256 is the digest of the last accepted default run, and
tests/test_results_digest.py compares a full run with it: a restructuring must leave every
result as it was. A change that moves a result on purpose regenerates it in the same commit
(`make results-digest`), and the commit and the issue note say which files moved and why.

What is digested is what a reader reads, not renderer bytes: images, Word files and the report
(which prints the code version) are left out. A CSV's numbers are digested at 9 significant
digits, so that a last-bit difference of another CPU's BLAS kernels is not a change, while any
change a table could show is.

    python tests/results_digest.py results > tests/data/results.sha256
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import sys
from pathlib import Path

DIGESTED = (".csv", ".md", ".tex", ".json", ".txt")
SIGNIFICANT = 9


def _canonical_cell(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    return text if not math.isfinite(value) else format(value, f".{SIGNIFICANT}g")


def _canonical_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".csv":
        return text
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text)):
        writer.writerow([_canonical_cell(cell) for cell in row])
    return out.getvalue()


def digest(results: Path) -> dict[str, str]:
    """Path relative to results/ -> sha256 of its canonical text."""
    results = Path(results)
    return {
        path.relative_to(results).as_posix(): hashlib.sha256(_canonical_text(path).encode()).hexdigest()
        for path in sorted(results.rglob("*"))
        if path.is_file() and path.suffix in DIGESTED
    }


def read_digest(path: Path) -> dict[str, str]:
    lines = Path(path).read_text().splitlines()
    return {name: sha for sha, name in (line.split("  ", 1) for line in lines if line)}


def format_digest(digests: dict[str, str]) -> str:
    return "".join(f"{sha}  {name}\n" for name, sha in digests.items())


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        sys.exit("usage: python tests/results_digest.py <results directory>")
    sys.stdout.write(format_digest(digest(Path(sys.argv[1]))))
