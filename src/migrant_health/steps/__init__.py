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
