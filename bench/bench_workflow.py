"""Wall time of the full workflow, of a no-op rerun, of reading the raw file; peak memory.

Runs in a scratch directory on the synthetic default (the install is not timed), on 2 cores
as `make` does. Targets (issue 13): full run <= 20 s, no-op rerun <= 1.5 s (median of 5). The
full run is timed twice: the default (with issue 17's 1,000-replication bootstrap and 32-variant
multiverse, which more than double the work) and without those two, the workload the target was
set on. Snakemake's own floor for a no-op rerun is printed beside ours.
Usage: .venv/bin/python bench/bench_workflow.py
"""

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import yaml  # noqa: E402
from workflow_helpers import ROOT, prepare, run_workflow  # noqa: E402

from migrant_health.io import codebook, read  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


# Snakemake's own floor for a no-op rerun on this machine: a workflow of one rule, done, with and
# without a `params:` entry (Snakemake imports pandas to compare any rule's params with the last
# run's), and `snakemake --version` (its imports and command line alone).
FLOOR_SNAKEFILE = """rule all:
    input: "done.txt"

rule done:
    output: "done.txt"
{params}    shell: "touch {{output}}"
"""


def snakemake_floor(params: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        snakefile = Path(tmp) / "Snakefile"
        snakefile.write_text(FLOOR_SNAKEFILE.format(params="    params: x=1\n" if params else ""))
        command = [sys.executable, "-m", "snakemake", "--cores", "1", "--quiet", "-d", tmp, "-s", str(snakefile)]
        subprocess.run(command, check=True, capture_output=True)
        return sorted(timed(lambda: subprocess.run(command, check=True, capture_output=True))[1] for _ in range(5))[2]


def without_scale_out(config_text: str) -> str:
    """The default config without its bootstrap and multiverse (issue 17's jobs): the workload
    that issue 13's 20 s target was set on."""
    config = yaml.safe_load(config_text)
    for study in config["studies"].values():
        study.pop("multiverse", None)
        models = study.get("models") or {}
        for block in [models.get("two_part") or {}, *models.get("equations", {}).values()]:
            block.pop("bootstrap", None)
        for table in study.get("effect_tables", {}).values():
            table.pop("bootstrap", None)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = prepare(Path(tmp))
        done, full = timed(lambda: run_workflow(workdir))
        if done.returncode != 0:
            sys.exit(done.stderr)
        noop = sorted(timed(lambda: run_workflow(workdir))[1] for _ in range(5))[2]
        book = codebook.load_codebook(workdir / "data/codebooks/cmds2014.yaml")
        raw, reading = timed(lambda: read.read_raw(workdir / "data/raw/cmds2014_synthetic.sav", book.sources))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"full workflow (synthetic default, bootstrap and multiverse included): {full:6.1f} s")
        print(f"no-op rerun (median of 5):         {noop:6.2f} s   (target <= 1.5 s)")
        print(f"read raw file ({len(raw):,} rows x {raw.shape[1]} cols): {reading:6.1f} s")
        print(f"peak memory of a workflow process: {peak_mb:6.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        lighter = prepare(Path(tmp), without_scale_out((ROOT / "config.yaml").read_text()))
        done, full = timed(lambda: run_workflow(lighter))
        if done.returncode != 0:
            sys.exit(done.stderr)
        print(f"full workflow without the bootstrap and the multiverse: {full:6.1f} s   (target <= 20 s)")
    version = [sys.executable, "-m", "snakemake", "--version"]
    start = sorted(timed(lambda: subprocess.run(version, check=True, capture_output=True))[1] for _ in range(5))[2]
    print("Snakemake's own floor (median of 5):")
    print(f"  snakemake --version:                       {start:6.2f} s")
    print(f"  no-op rerun of a one-rule workflow:        {snakemake_floor(params=False):6.2f} s")
    print(f"  the same with a params: entry (pandas):    {snakemake_floor(params=True):6.2f} s")


if __name__ == "__main__":
    main()
