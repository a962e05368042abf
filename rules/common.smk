# Helpers shared by the rules: config validation, paths, and running a package step.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

from migrant_health.config import validate_config
from migrant_health.errors import InputError

BASE = Path(workflow.basedir)
PKG = BASE / "src" / "migrant_health"

try:
    validate_config(config, BASE / "schemas" / "config.schema.yaml")
except InputError as e:
    # A clear message and no traceback: the run stops before any job starts.
    sys.stderr.write(f"\nConfiguration error: {e}\n\n")
    sys.exit(1)


def code(*parts):
    """Package source files as rule inputs: editing them reruns what they produce."""
    return [str(PKG / p) for p in parts]


def dataset_of(study):
    return config["studies"][study]["dataset"]


def raw_path(dataset):
    return config["datasets"][dataset]["path"]


def is_synthetic(dataset):
    return config["datasets"][dataset]["synthetic"]


def all_targets():
    targets = []
    for study, spec in config["studies"].items():
        targets.append(f"results/{study}/flow.csv")
        for table in spec.get("tables", {}):
            targets += expand(f"results/{study}/tables/{table}.{{ext}}", ext=["csv", "md", "tex", "docx"])
    for dataset in {s["dataset"] for s in config["studies"].values()}:
        targets.append(f"results/data/{dataset}_codebook.csv")
    return targets


def run_step(log_path, step, *args, **kwargs):
    """Call one package function; bad input ends the job with its message, not a traceback."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        step(*args, **kwargs)
    except InputError as e:
        Path(log_path).write_text(f"{e}\n")
        raise WorkflowError(str(e)) from None
    Path(log_path).write_text("ok\n")
