"""Ingestion of 8 pooled waves of 200,000 respondents each: wall time and peak memory.

Setup (not timed): the synthetic CMDS 2014 in the real release's layout, 200,000 respondents,
written as 8 waves (2011-2018) with their own codebooks; from 2015 on the items have other names
(`q15_gender_1` ...), as the real waves' do. Each file is a dataset read as real data (its file
label is the bench's) and one study pools the 8.

Timed: the workflow as `make` runs it (2 cores, the job pool), from nothing to the pooled
analytic sample: 8 ingest jobs (metadata and labels checked, the codebook applied, the survey's
derivations, parquet, the codebook report, the file's sha256) and the pooling with its flow per
wave. Peak memory is the largest sum of the resident memory of Snakemake and its workers,
sampled every 50 ms, as is their CPU time (on a busy machine the wall time exceeds what two free
cores would take, about half the CPU time). Target (issue 15): at most 30 s and 4 GB on 2 cores.

Usage: .venv/bin/python bench/bench_ingest_pooled.py [--keep DIR [--reuse]]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import published_docs, validated_config  # noqa: E402

from migrant_health.io import codebook as cb  # noqa: E402
from migrant_health.synth import GENERATORS  # noqa: E402

WAVES = range(2011, 2019)
RESPONDENTS = 200_000
TARGETS = {"time_s": 30, "memory_gb": 4}


def release_frame():
    """The synthetic CMDS 2014, 200,000 respondents, in the release's layout (with its labels)."""
    config = validated_config()
    settings = {**config["datasets"]["cmds2014"]["generator"], "n_respondents": RESPONDENTS, "layout": "release"}
    book = cb.load_codebook(ROOT / "data/codebooks/cmds2014.yaml")
    return GENERATORS["cmds2014"].generate(settings, published_docs("cmds2014"), config["studies"], book)


def renamed(doc: dict, prefix: str) -> dict:
    """The release codebook with every item renamed `prefix + name`."""
    out = dict(doc)
    out["items"] = {f"{prefix}{k}": v for k, v in doc["items"].items()}
    variables = {}
    for name, spec in doc["variables"].items():
        spec = dict(spec)
        for key in ("source", "any_of", "all_of", "count", "first_of"):
            if key in spec:
                value = spec[key]
                spec[key] = [f"{prefix}{v}" for v in value] if isinstance(value, list) else f"{prefix}{value}"
        variables[name] = spec
    out["variables"] = variables
    return out


def write_waves(workdir: Path) -> dict:
    release = release_frame()
    base = yaml.safe_load((ROOT / "data/codebooks/cmds2014_release.yaml").read_text(encoding="utf-8"))
    datasets = {}
    for wave in WAVES:
        prefix = f"q{wave % 100}_" if wave >= 2015 else ""
        raw = release.raw.rename(columns={c: f"{prefix}{c}" for c in release.raw.columns})
        wave_release = type(release)(
            raw,
            release.truth,
            [],
            f"CMDS bench wave {wave}",
            {f"{prefix}{k}": v for k, v in release.variable_labels.items()},
            {f"{prefix}{k}": v for k, v in release.value_labels.items()},
            {f"{prefix}{k}": v for k, v in release.user_missing.items()},
            compressed=True,
        )
        path = workdir / "data" / "raw" / f"cmds{wave}.sav"
        path.parent.mkdir(parents=True, exist_ok=True)
        wave_release.write_sav(path)
        # The same respondents in each wave (interviewed in May 2014): the timing is the point.
        doc = {**renamed(base, prefix), "wave": wave}
        book = workdir / "data" / "codebooks" / f"cmds{wave}.yaml"
        book.parent.mkdir(parents=True, exist_ok=True)
        book.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        datasets[f"cmds{wave}"] = {"synthetic": False, "path": str(path.relative_to(workdir)),
                                   "codebook": str(book.relative_to(workdir))}  # fmt: skip
    return datasets


def config(datasets: dict) -> dict:
    return {
        "datasets": datasets,
        "studies": {
            "pooled": {
                "dataset": list(datasets),
                "sample": [
                    {"name": "working_age", "keep": "age >= 16 and age <= 59", "reason": "not of working age"},
                    {"name": "inpatient", "keep": "inpatient_12m", "reason": "not hospitalised"},
                ],
            }
        },
    }


def run_measured(workdir: Path, targets: list[str]) -> tuple[float, float, float, float, int]:
    """(wall seconds, CPU seconds of every process, peak summed RSS in GB, peak largest process in
    GB, exit status)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--cores", "2", *targets, "--quiet", "progress"]  # fmt: skip
    start = time.perf_counter()
    process = psutil.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"sum": 0, "max": 0}
    cpu = {}  # pid -> its latest user + system CPU seconds

    def sample():
        while process.poll() is None:
            try:
                tree = [process, *process.children(recursive=True)]
                rss = [p.memory_info().rss for p in tree if p.is_running()]
                for p in tree:
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
            except psutil.Error:
                continue
            peak["sum"], peak["max"] = max(peak["sum"], sum(rss)), max(peak["max"], max(rss, default=0))
            time.sleep(0.05)

    watcher = threading.Thread(target=sample)
    watcher.start()
    _, err = process.communicate()
    elapsed = time.perf_counter() - start
    watcher.join()
    if process.returncode:
        sys.stderr.write(err.decode()[-3000:])
    return elapsed, sum(cpu.values()), peak["sum"] / 1e9, peak["max"] / 1e9, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", help="build the project in this directory and keep it")
    parser.add_argument("--reuse", action="store_true", help="time again in --keep's project (its waves kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.reuse and (workdir / "config.yaml").exists():
            datasets = yaml.safe_load((workdir / "config.yaml").read_text())["datasets"]
            for stale in ("data/interim", "data/analytic", "results", ".snakemake"):
                shutil.rmtree(workdir / stale, ignore_errors=True)
        else:
            setup = time.perf_counter()
            datasets = write_waves(workdir)
            (workdir / "config.yaml").write_text(yaml.safe_dump(config(datasets), sort_keys=False))
            print(f"setup (generate, write 8 waves): {time.perf_counter() - setup:.0f} s")
        targets = ["data/analytic/pooled.parquet", *(f"results/data/{d}_codebook.csv" for d in datasets)]
        load = os.getloadavg()[0]
        elapsed, cpu, total, largest, status = run_measured(workdir, targets)
        if status:
            sys.exit(f"the workflow failed (exit {status})")
        import pandas as pd

        flow = pd.read_csv(workdir / "results/pooled/flow.csv")
        first, last = flow["n_after"].iloc[0], flow["n_after"].iloc[-1]
        print(f"rows pooled: {first:,} ({len(datasets)} waves); analytic sample {last:,}")
        print(f"ingest 8 waves + pool, wall time: {elapsed:6.1f} s   (target <= {TARGETS['time_s']} s)")
        print(f"  CPU time of all its processes:  {cpu:6.1f} s   (load average before the run: {load:.1f})")
        print(f"peak memory, all processes:     {total:6.2f} GB  (target <= {TARGETS['memory_gb']} GB)")
        print(f"peak memory, largest process:   {largest:6.2f} GB")


if __name__ == "__main__":
    main()
