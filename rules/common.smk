# Shared by the rules: config validation, what each study produces, and running a step.
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from snakemake.exceptions import WorkflowError

from migrant_health import outputs, requirements
from migrant_health.code_closure import step_sources
from migrant_health.config import study_survey, validate_config
from migrant_health.errors import InputError
from migrant_health.provenance import code_version
from migrant_health.snakemake_startup import serialise_pandas_params_only

BASE = Path(workflow.basedir)

# Snakemake compares params with the last run's without importing pandas (a third of a no-op rerun).
serialise_pandas_params_only()

# One BLAS thread per process: jobs already run in parallel processes, and a multithreaded BLAS
# on a model's small matrices oversubscribes the cores (measured on this 2-core machine under
# load: lstsq of 1,165 x 32 takes 1.2 ms on one thread and 39 ms on two). Set before any job
# imports numpy; a value the user set is kept.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# What the configuration is called in messages: config.yaml, and the command line's overrides.
CONFIG_NAME = "config.yaml" + (" with --config overrides" if workflow.config_settings.overwrite_config else "")


def stop(message):
    """A clear message and no traceback: the run stops before any job starts."""
    sys.stderr.write(f"\nConfiguration error: {message}\n\n")
    sys.exit(1)


try:
    validate_config(config, BASE / "schemas" / "config.schema.yaml", CONFIG_NAME)
except InputError as e:
    stop(e)

STUDIES, DATASETS = config["studies"], config["datasets"]
USED_DATASETS = sorted({d for s in STUDIES.values() for d in outputs.study_datasets(s)})
# The code's version (git describe of this checkout), printed in the report's provenance.
CODE_VERSION = code_version(BASE)

for _name in USED_DATASETS:
    _dataset = DATASETS[_name]
    if not _dataset["synthetic"] and not Path(_dataset["path"]).is_file():
        stop(f"{CONFIG_NAME}: datasets.{_name}.path: {_dataset['path']} does not exist, and the dataset is not "
             f"synthetic (synthetic: false reads your own copy of the survey). Put the file there, correct the "
             f"path, or set synthetic: true to generate one.")
    if not Path(_dataset["codebook"]).is_file():
        stop(f"{CONFIG_NAME}: datasets.{_name}.codebook: {_dataset['codebook']} does not exist.")

# Before any job: every variable a study uses is declared by each of its datasets' codebooks or
# derived by their survey, and pooled datasets are distinct waves of one survey.
try:
    requirements.check(config, CONFIG_NAME)
except InputError as e:
    stop(e)


def code(step):
    """The package modules a step imports (its rule's code inputs), relative to the working
    directory: editing any of them reruns the step, and moving the checkout reruns nothing."""
    return [os.path.relpath(path) for path in step_sources(step)]


def datasets_of(study):
    """The study's datasets: one, or several waves pooled."""
    return outputs.study_datasets(STUDIES[study])


def survey_of(study):
    """The study's sampling design (its own, or its dataset's), None when it declares none."""
    return study_survey(STUDIES[study], config)


def design_file(study, used):
    """The whole file a survey design is read from, when `used` (a job with vce survey)."""
    return [f"data/interim/{d}.parquet" for d in datasets_of(study)] if used and survey_of(study) else []


def is_synthetic(dataset):
    return DATASETS[dataset]["synthetic"]


def study_synthetic(study):
    """Whether any of the study's data are synthetic (its tables and figures then say so)."""
    return any(is_synthetic(d) for d in datasets_of(study))


def sources_of(study):
    """The provenance records of the study's real datasets (file, sha256, rows): every table and
    figure names them."""
    return [outputs.source_file(d) for d in datasets_of(study) if not is_synthetic(d)]


def published_file(study):
    return f"data/published/{study}.yaml"


def has_published(study):
    return Path(published_file(study)).exists()


def names_of(kind):
    """Names of a kind of table or figure across studies, for wildcard constraints."""
    return "|".join(sorted({name for s in STUDIES.values() for name in s.get(kind, {})})) or "no_" + kind


def all_targets():
    targets = [f for name, study in STUDIES.items() for f in outputs.study_files(name, study, has_published(name))]
    targets += [f for name in USED_DATASETS for f in outputs.dataset_files(name, DATASETS[name])]
    return targets + ["results/report.html"]


# Job bodies run in worker processes forked from one server that has imported the package and
# its numerical libraries once: jobs run in parallel (one per core) without each paying a new
# interpreter, a parse of the workflow and the imports. Created at the first job, so that a dry
# or no-op run imports none of it. With one core, or on a cluster (each job its own process),
# a job runs in place.
_POOL = None


def _pool():
    from migrant_health.steps import die_with_the_run

    global _POOL
    if _POOL is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["migrant_health.steps.preload"])
        _POOL = ProcessPoolExecutor(max_workers=max(1, workflow.cores), mp_context=context,
                                    initializer=die_with_the_run, initargs=(os.getpid(),))
    return _POOL


def run_step(step, log, **kwargs):
    """Run steps.<step>.<step>(**kwargs); bad input ends the job with its message (in the log
    too), not a traceback."""
    from migrant_health.steps import run

    try:
        if workflow.is_main_process and workflow.cores > 1:
            _pool().submit(run, step, log, kwargs).result()
        else:
            run(step, log, kwargs)
    except InputError as e:
        raise WorkflowError(str(e)) from None
