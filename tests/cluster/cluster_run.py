"""The workflow through profiles/cluster on a running SLURM, beside a local run, and what SLURM saw.

`python tests/cluster/cluster_run.py WORKDIR` (what tests/cluster/test_cluster.sh runs, with a
SLURM started by tests/cluster/local_slurm.sh): runs the default workflow locally in
WORKDIR/local and through the cluster profile in WORKDIR/cluster (two fresh copies of the
project's configuration at the same depth), then checks, failing with what differs:

* both runs succeed;
* every job of the local run ran inside a SLURM allocation: each SLURM job's own log (kept with
  --slurm-keep-successful-logs) records the `srun` that ran it, the count per rule equals the
  local run's, and the main process ran none itself (no `localrule` but `all`);
* SLURM itself reports every submitted job COMPLETED with exit code 0 (`scontrol show job`,
  no accounting database needed: the test's MinJobAge keeps finished jobs long enough);
* results/ of the cluster run is byte-identical to the local run's.

bench/bench_slurm.py uses the same functions for its timings.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# A hung run (e.g. a status command that never answers) fails the test instead of CI's budget.
RUN_TIMEOUT = int(os.environ.get("CLUSTER_RUN_TIMEOUT", "1800"))


@dataclass
class Run:
    workdir: Path
    seconds: float
    returncode: int
    output: str  # Snakemake's stdout and stderr
    log: Path  # where output was saved
    submitted: dict[str, str] = field(default_factory=dict)  # Snakemake job (or group) id -> SLURM job id


def prepare(workdir: Path) -> Path:
    """A project-shaped scratch directory: config, codebooks and published numbers (as the tests'
    workflow_helpers.prepare); the Snakefile and the package stay in the checkout."""
    if workdir.exists():
        shutil.rmtree(workdir)
    for sub in ("data/codebooks", "data/published"):
        shutil.copytree(ROOT / sub, workdir / sub)
    shutil.copy2(ROOT / "config.yaml", workdir / "config.yaml")
    return workdir


def _snakemake(workdir: Path, profile: Path, *extra: str) -> Run:
    command = [PYTHON, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    # --workflow-profile, not --profile: Snakemake always reads profiles/default as the workflow
    # profile, whose keys would override those of a --profile (cores: 2, force-use-threads).
    command += ["--workflow-profile", str(profile), *extra]
    log = workdir.parent / f"{workdir.name}.snakemake.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        try:
            returncode = process.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()  # Snakemake cancels its SLURM jobs on SIGTERM
            process.wait(timeout=120)
            out.write(f"\n[cluster_run.py] stopped after {RUN_TIMEOUT} s (CLUSTER_RUN_TIMEOUT)\n")
            returncode = -1
        except BaseException:  # interrupted (SIGTERM, Ctrl-C): the run does not outlive us
            process.terminate()
            process.wait(timeout=120)
            raise
    seconds = time.perf_counter() - start
    output = log.read_text(errors="replace")
    return Run(workdir, seconds, returncode, output, log)


def run_local(workdir: Path) -> Run:
    """The default run, as `make` runs it (profiles/default: both cores, one worker pool)."""
    return _snakemake(prepare(workdir), ROOT / "profiles" / "default")


def run_cluster(workdir: Path, profile: Path = ROOT / "profiles" / "cluster") -> Run:
    """The default run through the cluster profile. --verbose makes each SLURM job's log record
    the srun it runs; the logs of successful jobs are kept to be checked."""
    run = _snakemake(prepare(workdir), profile, "--slurm-keep-successful-logs", "--verbose")
    run.submitted = dict(re.findall(r"Job (\S+) has been submitted with SLURM jobid (\d+)", run.output))
    return run


def job_counts(output: str) -> Counter:
    """Jobs per rule from Snakemake's first `Job stats` table, without the target rule `all`."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    counts = Counter({rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)})
    counts.pop("all", None)
    return counts


def slurm_logs(run: Run) -> dict[str, Path]:
    """The log of each SLURM job of the run, by SLURM job id (the file is named by it)."""
    return {path.stem: path for path in (run.workdir / ".snakemake" / "slurm_logs").rglob("*.log")}


def jobs_in_slurm(run: Run) -> dict[str, list[tuple[str, str]]]:
    """For each SLURM job, the Snakemake jobs it ran with srun inside its allocation: (rule,
    wildcards), from the jobstep executor's record of its call."""
    pattern = re.compile(r"The call for this job is: srun .*? --target-jobs '([^']+)'")
    found = {}
    for slurm_id, path in slurm_logs(run).items():
        calls = pattern.findall(path.read_text(errors="replace"))
        found[slurm_id] = [tuple(call.split(":", 1)) for call in calls]
    return found


def slurm_job_states(ids) -> dict[str, tuple[str, str]]:
    """(JobState, ExitCode) of each SLURM job, as slurmctld reports it (no accounting database)."""
    states = {}
    for slurm_id in ids:
        done = subprocess.run(["scontrol", "-o", "show", "job", slurm_id], capture_output=True, text=True)
        state = re.search(r"JobState=(\S+)", done.stdout)
        code = re.search(r"ExitCode=(\S+)", done.stdout)
        states[slurm_id] = (
            state.group(1) if state else f"unknown ({(done.stderr or done.stdout).strip()})",
            code.group(1) if code else "?",
        )
    return states


def result_files(workdir: Path) -> dict[str, bytes]:
    results = workdir / "results"
    return {str(p.relative_to(results)): p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()}


def differences(local: dict[str, bytes], cluster: dict[str, bytes]) -> list[str]:
    problems = [f"only in the local run: results/{name}" for name in sorted(local.keys() - cluster.keys())]
    problems += [f"only in the cluster run: results/{name}" for name in sorted(cluster.keys() - local.keys())]
    problems += [
        f"differs: results/{name}" for name in sorted(local.keys() & cluster.keys()) if local[name] != cluster[name]
    ]
    return problems


def _failed(run: Run, name: str) -> list[str]:
    if run.returncode == 0:
        return []
    tail = "\n    ".join(run.output.splitlines()[-25:])
    return [f"the {name} run failed (exit {run.returncode}); its log is {run.log}:\n    {tail}"]


def check_cluster_only(cluster: Run, expected: Counter | None = None) -> list[str]:
    """What is wrong with a cluster run by itself: it failed, a job did not run inside a SLURM
    allocation (or, given `expected` jobs per rule, the jobs run differ), SLURM does not report
    a job COMPLETED with exit code 0."""
    problems = _failed(cluster, "cluster")
    if problems:
        return problems
    if not cluster.submitted:
        return [f"the cluster run submitted no SLURM job ({cluster.log})"]
    ran = jobs_in_slurm(cluster)
    missing_logs = sorted(set(cluster.submitted.values()) - ran.keys(), key=int)
    if missing_logs:
        problems.append(f"no SLURM log for SLURM jobs {missing_logs} under {cluster.workdir / '.snakemake/slurm_logs'}")
    inside = [job for slurm_id in cluster.submitted.values() for job in ran.get(slurm_id, [])]
    counts = Counter(rule for rule, _ in inside)
    if expected is not None and counts != expected:
        problems.append(
            f"jobs run with srun inside SLURM allocations per rule {dict(sorted(counts.items()))} "
            f"differ from the local run's {dict(sorted(expected.items()))}"
        )
    if len(set(inside)) != len(inside):
        problems.append(f"a job ran twice under SLURM: {[job for job, n in Counter(inside).items() if n > 1]}")
    local_rules = sorted(set(re.findall(r"^localrule (\w+):", cluster.output, re.M)) - {"all"})
    if local_rules:
        problems.append(f"the main Snakemake process ran jobs of {local_rules} itself, not on SLURM")
    states = slurm_job_states(cluster.submitted.values())
    not_completed = {i: s for i, s in states.items() if s != ("COMPLETED", "0:0")}
    if not_completed:
        problems.append(f"SLURM jobs not COMPLETED with exit code 0:0 (JobState, ExitCode): {not_completed}")
    return problems


def check(local: Run, cluster: Run) -> list[str]:
    """Everything that is wrong with the cluster run against the local run, as sentences (empty:
    all is well)."""
    problems = _failed(local, "local") + _failed(cluster, "cluster")
    if problems:
        return problems
    problems = check_cluster_only(cluster, job_counts(local.output))
    return problems + differences(result_files(local.workdir), result_files(cluster.workdir))


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds, stopping the running Snakemake
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", type=Path, help="scratch directory (local/ and cluster/ are made in it)")
    args = parser.parse_args()
    if not os.environ.get("SLURM_CONF") and not Path("/etc/slurm/slurm.conf").exists():
        print(
            "cluster_run.py: no SLURM configuration (SLURM_CONF unset, no /etc/slurm/slurm.conf); "
            "start one with tests/cluster/local_slurm.sh start DIR",
            file=sys.stderr,
        )
        return 2
    workdir = args.workdir.resolve()
    print(f"local run in {workdir / 'local'} ...", flush=True)
    local = run_local(workdir / "local")
    print(f"  {local.seconds:.0f} s, exit {local.returncode}", flush=True)
    print(f"cluster run (profiles/cluster) in {workdir / 'cluster'} ...", flush=True)
    cluster = run_cluster(workdir / "cluster")
    print(f"  {cluster.seconds:.0f} s, exit {cluster.returncode}", flush=True)
    problems = check(local, cluster)
    if problems:
        print("FAILED: make test-cluster:\n  " + "\n  ".join(problems))
        return 1
    ran = jobs_in_slurm(cluster)
    n_jobs = sum(len(ran[i]) for i in cluster.submitted.values())
    files = result_files(cluster.workdir)
    print(
        f"PASSED: make test-cluster: {n_jobs} jobs of {len(job_counts(local.output))} rules ran in "
        f"{len(cluster.submitted)} SLURM jobs, all COMPLETED (exit 0:0); results/: {len(files)} files "
        f"byte-identical to the local run; local {local.seconds:.0f} s, SLURM {cluster.seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
