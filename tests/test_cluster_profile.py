"""profiles/cluster as shipped: settings that keep it from hanging or being refused, and names
that still match the workflow. (make test-cluster runs it on a real SLURM.)"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "cluster" / "config.yaml"
SLURM_DEFAULT_MIN_JOB_AGE = 300  # seconds (slurm.conf(5))


def profile():
    return yaml.safe_load(PROFILE.read_text())


def workflow_rules():
    return {
        name for path in (ROOT / "rules").glob("*.smk") for name in re.findall(r"^rule (\w+):", path.read_text(), re.M)
    }


def test_status_from_squeue_with_a_short_first_poll():
    settings = profile()
    # sacct waits forever on a cluster without an accounting database.
    assert settings["slurm-status-command"] == "squeue"
    init = settings["slurm-init-seconds-before-status-checks"]
    assert 1 <= init <= 10
    # The executor falls back to sacct unless MinJobAge >= 3 x the first poll.
    assert 3 * init <= SLURM_DEFAULT_MIN_JOB_AGE


def test_resources_are_modest_and_name_existing_rules():
    settings = profile()
    rules = workflow_rules()
    defaults = settings["default-resources"]
    assert 500 <= defaults["mem_mb"] <= 2000, "a request far above the measured peaks (360-675 MB) wastes the node"
    assert 1 <= defaults["runtime"] <= 60
    for rule, resources in settings.get("set-resources", {}).items():
        assert rule in rules, f"{PROFILE}: set-resources names {rule}, which no rule in rules/*.smk defines"
        assert resources["mem_mb"] <= 4000
    # Groups run their jobs one after another in one CPU, asking the largest memory, not the sum.
    assert settings["cores"] == 1
    for entry in settings.get("groups", []):
        rule, _, group = entry.partition("=")
        assert rule in rules and group, f"{PROFILE}: groups entry {entry!r} must be RULE=GROUP with an existing rule"


def test_account_and_partition_are_documented_placeholders():
    text = PROFILE.read_text()
    assert re.search(r"^\s*# slurm_account: ", text, re.M)
    assert re.search(r"^\s*# slurm_partition: ", text, re.M)
    assert "slurm_account" not in profile()["default-resources"]


def test_plugins_pinned_exactly():
    lines = [
        line
        for line in (ROOT / "requirements-cluster.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    names = {line.split("==")[0] for line in lines}
    assert names == {"snakemake-executor-plugin-slurm", "snakemake-executor-plugin-slurm-jobstep"}
    assert all(re.fullmatch(r"[\w.-]+==[\w.]+", line) for line in lines), lines


def _cluster_run():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("cluster_run", ROOT / "tests" / "cluster" / "cluster_run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["cluster_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_cluster_checks_see_a_job_outside_slurm_and_a_changed_result(tmp_path, monkeypatch):
    """What make test-cluster checks, on made-up logs: a job the SLURM logs do not show, a job the
    main process ran itself, and a result that differs are each reported."""
    cluster_run = _cluster_run()
    local_output = "Job stats:\njob       count\n------  -------\nfit   2\nreport 1\nall 1\ntotal 4\n"
    assert cluster_run.job_counts(local_output) == {"fit": 2, "report": 1}
    logs = tmp_path / "cluster" / ".snakemake" / "slurm_logs" / "rule_fit"
    logs.mkdir(parents=True)
    call = "The call for this job is: srun -n1 --cpus-per-task=1 python -m snakemake --target-jobs '{}' --mode 'remote'"
    (logs / "11.log").write_text(call.format("fit:unit=a") + "\n")
    (logs / "12.log").write_text(call.format("fit:unit=b") + "\n")
    output = (
        "Job 1 has been submitted with SLURM jobid 11 (log: x).\n"
        "Job 2 has been submitted with SLURM jobid 12 (log: x).\n"
        "localrule report:\n"
    )
    run = cluster_run.Run(tmp_path / "cluster", 1.0, 0, output, tmp_path / "log", {"1": "11", "2": "12"})
    assert cluster_run.jobs_in_slurm(run) == {"11": [("fit", "unit=a")], "12": [("fit", "unit=b")]}
    monkeypatch.setattr(cluster_run, "slurm_job_states", lambda ids: {i: ("COMPLETED", "0:0") for i in ids})
    problems = cluster_run.check_cluster_only(run, cluster_run.job_counts(local_output))
    assert any("differ from the local run's" in p for p in problems)
    assert any("ran jobs of ['report'] itself" in p for p in problems)
    assert cluster_run.differences({"a.csv": b"1", "b.csv": b"2"}, {"a.csv": b"1", "b.csv": b"3", "c.csv": b""}) == [
        "only in the cluster run: results/c.csv",
        "differs: results/b.csv",
    ]
