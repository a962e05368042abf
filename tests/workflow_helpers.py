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
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(workdir), "--cores", "2", *(["--quiet"] if quiet else []), "all", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)


def result_files(workdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(workdir)): p.read_bytes()
            for p in sorted((workdir / "results").rglob("*")) if p.is_file()}
