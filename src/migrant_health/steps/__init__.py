"""The steps the Snakemake rules run: one module per rule, named as the rule, holding one
function of the same name called with keyword arguments named as the rule's inputs,
outputs and params. Never imports snakemake.

`run` is what a job executes (in a worker process of rules/common.smk's pool, or in the job's
own process on a cluster): bad input ends the job with its message in the log, never a
traceback.
"""

import importlib
from pathlib import Path

from ..errors import InputError


def run(step: str, log: str, kwargs: dict) -> None:
    """Call steps.<step>.<step>(**kwargs); write the log; re-raise bad input as InputError."""
    function = getattr(importlib.import_module(f"{__name__}.{step}"), step)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    try:
        function(**kwargs)
    except InputError as e:
        Path(log).write_text(f"{e}\n")
        raise
    Path(log).write_text("ok\n")


def die_with_the_run(run_pid: int, every: float = 0.5) -> None:
    """A worker process (rules/common.smk's pool) ends within `every` seconds of the Snakemake
    process that runs the workflow, so that a killed run leaves no job writing behind it (a
    worker would otherwise finish its job first: its parent is the pool's server, which the
    workers themselves keep alive)."""
    import os
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(every)
            try:
                os.kill(run_pid, 0)
            except ProcessLookupError:
                os._exit(1)

    threading.Thread(target=watch, name="die-with-the-run", daemon=True).start()
