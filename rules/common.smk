# Helpers shared by the rules: config validation, paths, and running a package step.
import sys
import threading
from pathlib import Path

from snakemake.exceptions import WorkflowError

from migrant_health.config import CONCENTRATION_FIGURES, CONCENTRATION_TABLES, validate_config
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


TABLE_FORMATS = ["csv", "md", "tex", "docx"]


def table_names(kind):
    """Names of a kind of table ('tables' or 'effect_tables') across studies, for wildcards."""
    return sorted({t for s in config["studies"].values() for t in s.get(kind, {})})


def estimates_of(study):
    return [f"results/{study}/estimates.csv"] if config["studies"][study].get("models") else []


def concentration_of(study):
    return [f"results/{study}/concentration.csv"] if config["studies"][study].get("concentration") else []


CONCENTRATION_OUTPUTS = (["concentration.csv", "decomposition.csv"]
                         + [f"tables/{t}.{ext}" for t in CONCENTRATION_TABLES for ext in TABLE_FORMATS]
                         + [f"figures/{f}.{ext}" for f in CONCENTRATION_FIGURES for ext in ("png", "pdf")])


def descriptives_of(study):
    return [f"results/{study}/descriptives_{t}.csv" for t in config["studies"][study].get("tables", {})]


def truth_of(study):
    dataset = dataset_of(study)
    return [f"results/data/{dataset}_synthetic_truth.csv"] if is_synthetic(dataset) else []


def study_targets():
    """Everything a study produces: flow, tables, figures, estimates, comparison."""
    targets = []
    for study, spec in config["studies"].items():
        targets.append(f"results/{study}/flow.csv")
        for table in list(spec.get("tables", {})) + list(spec.get("effect_tables", {})):
            targets += expand(f"results/{study}/tables/{table}.{{ext}}", ext=TABLE_FORMATS)
        for name in spec.get("figures", {}):
            targets += expand(f"results/{study}/figures/{name}.{{ext}}", ext=["png", "pdf"])
        targets += estimates_of(study)
        if spec.get("concentration"):
            targets += [f"results/{study}/{name}" for name in CONCENTRATION_OUTPUTS]
        if Path(f"data/published/{study}.yaml").exists():
            targets.append(f"results/{study}/comparison.csv")
    return targets


def all_targets():
    targets = study_targets() + ["results/report.html"]
    for dataset in {s["dataset"] for s in config["studies"].values()}:
        targets.append(f"results/data/{dataset}_codebook.csv")
        if is_synthetic(dataset):
            targets.append(f"results/data/{dataset}_synthetic.md")
    return targets


# One job body at a time: with the profile's force-use-threads, jobs share this process.
JOB_LOCK = threading.Lock()


def run_step(log_path, step: str, *args, **kwargs):
    """Call one function of migrant_health.workflow by name; bad input ends the job with its
    message, not a traceback. Imported here, not when the workflow is parsed, so that a dry or
    no-op run does not load pandas, scipy and statsmodels."""
    from migrant_health import workflow

    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        with JOB_LOCK:
            getattr(workflow, step)(*args, **kwargs)
    except InputError as e:
        Path(log_path).write_text(f"{e}\n")
        raise WorkflowError(str(e)) from None
    Path(log_path).write_text("ok\n")
