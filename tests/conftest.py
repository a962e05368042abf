"""Shared fixtures: one synthetic release and its canonical frame per test session."""

import os
import pickle

# One BLAS thread, as the workflow's jobs use (rules/common.smk): set before numpy is imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
# No transparent huge pages for numpy's large arrays (numpy asks for them on Linux): where the
# kernel compacts memory at such a fault (defrag "madvise", as on this project's machines), the 100x
# recovery checks spent a third of their time in the kernel (medical return: 10.4 s of 27.8 s with
# them, 4.5 s of 20.5 s without). Results are the same either way.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

from pathlib import Path

import pandas as pd
import pytest

from migrant_health import derive, published
from migrant_health.io import codebook, read
from migrant_health.io.yamlfile import read_yaml
from migrant_health.synth import GENERATORS

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "data" / "published"
CODEBOOK = ROOT / "data" / "codebooks" / "cmds2014.yaml"


def load_config() -> dict:
    """config.yaml as written (read with libyaml, as the workflow reads it: the pure-Python
    loader takes a quarter of a second, at every test module's import)."""
    return read_yaml(ROOT / "config.yaml")


def validated_config() -> dict:
    """config.yaml with the schema's defaults filled in, as the workflow sees it."""
    from migrant_health.config import validate_config

    return validate_config(load_config(), ROOT / "schemas" / "config.schema.yaml")


def analytic_sample(frame: pd.DataFrame, study: dict, name: str) -> pd.DataFrame:
    """A study's filters and sample-level derivations, as the `sample` rule applies them."""
    from migrant_health import sample

    kept, _ = sample.apply_filters(frame, study["sample"], name)
    return sample.add_sample_derivations(kept, study)


def published_docs(survey: str) -> dict:
    """The data/published files a survey's generator is calibrated to, by study."""
    return {n: published.load(PUBLISHED / f"{n}.yaml") for n in GENERATORS[survey].published}


def generate(seed: int, **settings):
    """A synthetic CMDS release, as `make` generates it: config.yaml's generator settings
    (`settings` overriding them) and studies, solved on the project's codebook."""
    config = validated_config()
    book = codebook.load_codebook(CODEBOOK)
    return GENERATORS["cmds2014"].generate(
        {**config["datasets"]["cmds2014"]["generator"], "seed": seed, **settings},
        published_docs("cmds2014"),
        config["studies"],
        book,
    )


def once_per_session(tmp_path_factory, worker_id: str, name: str, make):
    """make(directory)'s value, made once for the whole session: under pytest-xdist the first
    worker to ask makes it (its files in `directory`, beside the workers' own directories and as
    deep as theirs, which copy_project needs) and pickles the value beside that directory; the
    others wait for it and read the pickle (a full run, the synthetic release and its reading take
    seconds to a minute, which each worker would otherwise pay again)."""
    if worker_id == "master":  # no xdist: this process is the session
        return make(tmp_path_factory.mktemp(name))
    from workflow_helpers import build_once

    directory = tmp_path_factory.getbasetemp().parent / "shared" / name
    value = directory.with_name(name + ".pickle")

    def build(directory: Path) -> None:
        directory.mkdir()
        value.write_bytes(pickle.dumps(make(directory), protocol=pickle.HIGHEST_PROTOCOL))

    build_once(directory, build)
    return pickle.loads(value.read_bytes())


@pytest.fixture(scope="session")
def release(tmp_path_factory, worker_id):
    """The default synthetic release (config.yaml's seed) and its truth."""
    seed = load_config()["datasets"]["cmds2014"]["generator"]["seed"]
    return once_per_session(tmp_path_factory, worker_id, "release", lambda _: generate(seed))


@pytest.fixture(scope="session")
def raw_release(release) -> pd.DataFrame:
    """The default synthetic release, in raw codes."""
    return release.raw


@pytest.fixture(scope="session")
def sav_path(release, tmp_path_factory, worker_id) -> Path:
    def write(directory: Path) -> Path:
        release.write_sav(directory / "cmds2014_synthetic.sav")
        return directory / "cmds2014_synthetic.sav"

    return once_per_session(tmp_path_factory, worker_id, "raw", write)


@pytest.fixture(scope="session")
def canonical(sav_path, tmp_path_factory, worker_id) -> pd.DataFrame:
    """The release read through the codebook, with respondent-level derivations."""

    def read_through_the_codebook(_) -> pd.DataFrame:
        book = codebook.load_codebook(CODEBOOK)
        frame, _ = codebook.apply_codebook(read.read_raw(sav_path, book.sources), book)
        return derive.derive_all(frame, book.survey, book.interview)

    return once_per_session(tmp_path_factory, worker_id, "canonical", read_through_the_codebook)


@pytest.fixture(scope="session")
def finished_project(tmp_path_factory, worker_id) -> Path:
    """The whole workflow run once on the synthetic default (as `make` runs it), once for the
    whole session and shared by the workers (tests read it or copy it, never change it)."""
    from workflow_helpers import prepare, run_workflow

    def build(workdir: Path) -> Path:
        done = run_workflow(prepare(workdir))
        assert done.returncode == 0, done.stderr[-3000:]
        return workdir

    return once_per_session(tmp_path_factory, worker_id, "finished", build)


# The suite's own order, for pytest-xdist's `--dist loadfile --no-loadscope-reorder` (make test),
# which hands whole files to the workers in collection order: at the start the first and third file
# to one worker, the second and fourth to the other, then one file to whichever is free.
# LEAD's first file runs the workflow a second time: its worker builds the session's finished
# project first, then that second run. Meanwhile the other worker runs LEAD's second file, which
# needs no workflow run and is long (the 100x recovery), then LEAD's fourth, the longest of the
# files that read the finished project, which is ready about then; LEAD's third is short. Then the
# other files that read the finished project, those with more tests first, so that no long file is
# left for the end, then the files that need no workflow run.
LEAD = ("test_workflow.py", "test_benefit.py", "test_derive.py", "test_trust.py")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> tuple:
        if item.path.name in LEAD:
            return (0, LEAD.index(item.path.name))
        return (1, 0) if "finished_project" in item.fixturenames else (2, 0)

    ranks, tests = {}, {}
    for item in items:  # a file needing the project for any of its tests is ranked as one that does
        ranks[item.path] = min(ranks.get(item.path, (2, 0)), rank(item))
        tests[item.path] = tests.get(item.path, 0) + 1
    items.sort(key=lambda item: (ranks[item.path], -tests[item.path], str(item.path)))  # stable within a file
