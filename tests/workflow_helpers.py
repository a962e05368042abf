"""Running the Snakemake workflow in a scratch directory, as `make` does in the repo."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(workdir: Path, config_text: str | None = None) -> Path:
    """A project-shaped scratch directory: config, codebooks and published numbers."""
    workdir.mkdir(parents=True, exist_ok=True)
    for sub in ("data/codebooks", "data/published"):
        shutil.copytree(ROOT / sub, workdir / sub, dirs_exist_ok=True)
    (workdir / "config.yaml").write_text(config_text or (ROOT / "config.yaml").read_text())
    return workdir


def run_workflow(workdir: Path, *extra: str, quiet: bool = True) -> subprocess.CompletedProcess:
    """Snakemake as `make` runs it (`quiet=False`), or with its progress output silenced."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *(["--quiet"] if quiet else []),
        "all",
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)


def result_files(workdir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(workdir)): p.read_bytes() for p in sorted((workdir / "results").rglob("*")) if p.is_file()
    }


def build_once(workdir: Path, build) -> Path:
    """`build(workdir)` run by the first of several processes that ask (pytest-xdist workers),
    under a file lock; the others wait for it and reuse the directory. A build that failed is
    retried by the next process (and fails there with its own message)."""
    import fcntl

    workdir.parent.mkdir(parents=True, exist_ok=True)
    done = workdir.with_name(workdir.name + ".done")
    with open(workdir.with_name(workdir.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(workdir, ignore_errors=True)
            build(workdir)
            done.touch()
    return workdir


def copy_project(source: Path, target: Path) -> Path:
    """A finished project copied whole (config, codebooks, data, results, Snakemake's records),
    so that a change reruns only what depends on it. `target` must lie as deep as `source`:
    code inputs are paths relative to the project, and a path of another depth reads as a
    changed input (use tmp_path_factory.mktemp beside the source)."""
    assert len(Path(target).resolve().parts) == len(Path(source).resolve().parts), (source, target)
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    return target


def _collect_snakemake_plugins() -> None:
    """Snakemake's plugin registries, each of which scans every installed package the first time
    it is asked for, collected here once (they are singletons): each forked run finds them
    collected instead of scanning again (0.1 s of a 0.3 s run that stops at the config)."""
    from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry
    from snakemake_interface_logger_plugins.registry import LoggerPluginRegistry
    from snakemake_interface_report_plugins.registry import ReportPluginRegistry
    from snakemake_interface_scheduler_plugins.registry import SchedulerPluginRegistry
    from snakemake_interface_storage_plugins.registry import StoragePluginRegistry

    for registry in (
        ExecutorPluginRegistry,
        LoggerPluginRegistry,
        ReportPluginRegistry,
        SchedulerPluginRegistry,
        StoragePluginRegistry,
    ):
        registry()


def run_forked(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake's command line run in a forked copy of this process, with one core, so that
    the interpreter start and the imports are paid once per test session. Same command line
    as `make` otherwise (its messages, its exit status)."""
    import gc
    import os
    import tempfile
    import traceback

    import snakemake.cli

    _collect_snakemake_plugins()
    # What the child prints, kept outside the project (a shared finished project is not written to).
    captured = Path(tempfile.mkdtemp(prefix="snakemake_output_"))
    out, err = captured / "stdout", captured / "stderr"
    # The child's garbage collector would otherwise visit every object of this (large) process
    # and so copy every page holding one: frozen objects are not visited (the gc module's advice
    # for fork without exec).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: run the command line, exit with its status
        code = 1
        try:
            for fd, path in ((1, out), (2, err)):
                os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
            sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
            snakemake.cli.main(
                ["--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "1", *args]
            )
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    gc.unfreeze()
    _, status = os.waitpid(pid, 0)
    done = subprocess.CompletedProcess(args, os.waitstatus_to_exitcode(status), out.read_text(), err.read_text())
    shutil.rmtree(captured)
    return done
