"""Every rule's code inputs are the import closure of its step: editing a module reruns exactly
the steps that can run it."""

import json
import re
import subprocess
import sys

import pytest
from workflow_helpers import ROOT

from migrant_health import code_closure

STEPS = sorted(
    p.stem for p in (ROOT / "src/migrant_health/steps").glob("*.py") if p.stem not in ("__init__", "preload")
)


def test_every_rule_runs_the_step_of_its_name_with_its_closure_as_code():
    """A rule's `run:` calls run_step(rule, ...), which calls steps.<rule>.<rule>; its code input
    is code(<rule>). Rules without a step (all) have neither."""
    rules = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for name, body in re.findall(r"^rule (\w+):\n((?:    .*\n|\n)*)", smk.read_text(), flags=re.M):
            rules[name] = body
    assert set(rules) == set(STEPS), "each rule is a step module of its name, and each step a rule"
    for name, body in rules.items():
        assert f'code=code("{name}")' in body, name
        assert "run_step(rule, log[0]" in body, name


# One interpreter imports the third-party libraries the steps use (none of the package), then
# forks a child per step that imports the step and lists what of the package it loaded: each
# child starts as a fresh interpreter would as far as the package is concerned, without paying
# numpy, pandas, scipy, statsmodels and matplotlib again.
PROBE = """
import importlib, json, os, sys
import numpy, pandas, pyarrow.parquet, scipy.stats, statsmodels.api, matplotlib.figure, yaml
assert not [m for m in sys.modules if m.startswith("migrant_health")]
loaded = {}
for step in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        importlib.import_module("migrant_health.steps." + step)
        os.write(write, json.dumps([m for m in sys.modules if m.startswith("migrant_health")]).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as stream:
        loaded[step] = json.loads(stream.read())
    os.wait()
print(json.dumps(loaded))
"""


@pytest.fixture(scope="module")
def loaded_by_step() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *STEPS], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_closure_holds_every_module_the_step_imports(step, loaded_by_step):
    """What importing the step (and calling nothing) loads of the package is in its closure; the
    closure also follows imports inside functions, which only the static reading can see."""
    files = {str(p) for p in code_closure.step_sources(step)}
    missing = [m for m in loaded_by_step[step] if str(code_closure._module_file(m)) not in files]
    assert loaded_by_step[step] and not missing, (
        f"steps.{step} imports {missing} but its rule would not rerun when they change"
    )


def test_closure_follows_imports_inside_functions():
    """The synthetic generators are imported only when they run (synth/__init__.py): the
    synthesize rule must still rerun when one of them, or a module they use, changes."""
    files = {p.relative_to(code_closure.ROOT).as_posix() for p in code_closure.step_sources("synthesize")}
    assert {"synth/cmds2014.py", "synth/benefit.py", "synth/jinan_mefc.py", "stats/models.py", "derive.py"} <= files
    assert "synth/pages.py" not in files  # the page is another rule's


@pytest.mark.slow
def test_moving_the_checkout_reruns_nothing(tmp_path):
    """A checkout with its own source, run (the Jinan data steps), then moved to a folder of
    another depth: nothing to do, because code inputs are relative to the project."""
    import shutil

    first = tmp_path / "first"
    for item in ("Snakefile", "config.yaml", "rules", "schemas", "profiles", "src", "data/codebooks", "data/published"):
        target = first / item
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if (ROOT / item).is_dir() else shutil.copy)(ROOT / item, target)

    def snakemake(project, *args):
        return subprocess.run(
            [sys.executable, "-m", "snakemake", "--cores", "1", *args, "results/data/jinan_mefc_codebook.csv"],
            capture_output=True,
            text=True,
            cwd=project,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project / "src")},
        )

    done = snakemake(first)
    assert done.returncode == 0, done.stderr[-2000:]
    moved = tmp_path / "elsewhere" / "deeper" / "checkout"
    shutil.copytree(first, moved, symlinks=True)
    done = snakemake(moved, "--dry-run")
    assert done.returncode == 0 and "Nothing to be done" in done.stdout + done.stderr, done.stderr[-2000:]
