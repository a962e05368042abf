"""The steps the Snakemake rules run: one module per rule, named as the rule, holding one
function of the same name called with keyword arguments named as the rule's inputs,
outputs and params. Never imports snakemake.

`run` is what a job executes (in a worker process of rules/common.smk's pool, or in the job's
own process on a cluster): bad input ends the job with its message in the log, never a
traceback.

The job's log (logs/<rule>_<wildcards>.log) holds what a Stata log would: the files the step
read and wrote with their rows, what the package's modules report while the step runs (each
fit's sample size, iterations, convergence, log likelihood and warnings; the progress of long
fits), each line with the seconds since the job started, written as it happens (`tail -f`
follows a long job). Timings make logs differ between runs; results never hold them.
"""

import importlib
import logging
import time
from pathlib import Path

from ..errors import InputError

# Suffixes of the files a job's arguments name (a table or figure `stem` names its files by suffix).
DATA_SUFFIXES = (".csv", ".parquet", ".sav", ".zsav", ".dta", ".txt", ".md")


class _JobLog(logging.Handler):
    """The records of the package's loggers, with the seconds since the job started, into the log file."""

    def __init__(self, stream, started: float):
        super().__init__(logging.INFO)
        self.stream, self.started = stream, started

    def emit(self, record: logging.LogRecord) -> None:
        self.line(record.getMessage())

    def line(self, text: str) -> None:
        self.stream.write(f"[{time.perf_counter() - self.started:7.1f} s] {text}\n")
        self.stream.flush()


def run(step: str, log: str, kwargs: dict) -> None:
    """Call steps.<step>.<step>(**kwargs); write the log; re-raise bad input as InputError."""
    function = getattr(importlib.import_module(f"{__name__}.{step}"), step)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    package = logging.getLogger(__name__.rpartition(".")[0])
    before = _files(kwargs, directories=True)
    with open(log, "w") as stream:
        handler = _JobLog(stream, time.perf_counter())
        package.addHandler(handler)
        previous_level = package.level
        package.setLevel(logging.INFO)
        try:
            handler.line(f"{step}: started")
            for path, rows in _described(_files(kwargs, directories=False)):
                handler.line(f"read {path}{rows}")
            try:
                function(**kwargs)
            except InputError as e:
                handler.line(f"stopped: {e}")
                raise
            after = _files(kwargs, directories=True)
            for path, rows in _described({p: m for p, m in after.items() if before.get(p) != m}):
                handler.line(f"wrote {path}{rows}")
            handler.line(f"{step}: done")
        finally:
            package.removeHandler(handler)
            package.setLevel(previous_level)


def _paths(value, directories: bool) -> list[Path]:
    """Files an argument names: a path, a list of paths, a stem (its files by suffix), and with
    `directories` the files under a directory (an output directory: what changed there is written)."""
    if isinstance(value, dict):  # a rule parameter: the files it names (a dataset's codebook, ...)
        return [p for v in value.values() for p in _paths(v, directories)]
    if isinstance(value, list | tuple):
        return [p for v in value for p in _paths(v, directories)]
    if not isinstance(value, str) or "/" not in value or "\n" in value or len(value) > 300:
        return []
    path = Path(value)
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file()) if directories else []
    if path.suffix:
        return [path]
    return sorted(path.parent.glob(f"{path.name}.*")) if path.parent.is_dir() else []


def _files(kwargs: dict, directories: bool) -> dict[Path, tuple]:
    """Each file the arguments name that exists, with its size and modification time."""
    out = {}
    for value in kwargs.values():
        for path in _paths(value, directories):
            if path.is_file() and path.suffix != ".py":
                stat = path.stat()
                out[path] = (stat.st_size, stat.st_mtime_ns)
    return out


def _described(files: dict) -> list[tuple[str, str]]:
    return [(str(path), _rows(path)) for path in sorted(files)]


def _rows(path: Path) -> str:
    """': N rows' of a data file (columns too where cheap to read), else its size."""
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return f": {meta.num_rows:,} rows, {meta.num_columns} columns"
        if path.suffix in (".sav", ".zsav", ".dta"):
            import pyreadstat

            reader = pyreadstat.read_sav if path.suffix != ".dta" else pyreadstat.read_dta
            _, meta = reader(str(path), metadataonly=True)
            return f": {meta.number_rows:,} rows, {meta.number_columns} columns"
        if path.suffix == ".csv":
            import csv

            with open(path, newline="") as f:
                return f": {max(sum(1 for _ in csv.reader(f)) - 1, 0):,} rows"
        if path.suffix in (".txt", ".md"):
            return f": {len(path.read_text().splitlines()):,} lines"
    except Exception as e:  # a log line must never fail the job
        return f" (not read: {e})"
    return f" ({path.stat().st_size:,} bytes)"


def die_with_the_run(run_pid: int, every: float = 0.5) -> None:
    """A worker process (rules/common.smk's pool) ends within `every` seconds of the Snakemake
    process that runs the workflow, so that a killed run leaves no job writing behind it (a
    worker would otherwise finish its job first: its parent is the pool's server, which the
    workers themselves keep alive)."""
    import os
    import threading

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(run_pid, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="die-with-the-run", daemon=True).start()
