"""What a result was made from: the code's version, the configuration's and data files' digests,
the versions of Python and of the key packages. The report prints them (report/html.py).

Free of numerical imports: the workflow reads the code version while it parses (a rule
parameter, so that a new commit rewrites the report), and each value is the same for the same
tree, so reruns stay byte-identical.

The code version is `git describe --always --dirty` of the checkout the package lives in (a
"-dirty" suffix when tracked files differ from the commit). A tarball made by `git archive`
has no .git: its src/migrant_health/COMMIT holds the commit instead (git writes it there when
archiving, .gitattributes export-subst). Without either, the version is "unknown"; the digest
of the package's source files, printed beside it, identifies the code in every case.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Printed with their versions (distribution names).
KEY_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "pyreadstat",
    "pyarrow",
    "matplotlib",
    "python-docx",
    "Jinja2",
    "snakemake",
)


def code_version(root: Path | None = None) -> str:
    """`git describe --always --dirty` of the checkout, else the commit `git archive` wrote, else 'unknown'."""
    root = Path(root) if root else PACKAGE_DIR.parents[1]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if done.returncode == 0 and done.stdout.strip():
            return f"git {done.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    archived = (PACKAGE_DIR / "COMMIT").read_text().strip() if (PACKAGE_DIR / "COMMIT").exists() else ""
    if archived and not archived.startswith("$Format"):
        return f"git archive of commit {archived}"
    return "unknown (no git metadata)"


def source_digest() -> str:
    """sha256 over the package's Python files (relative path and contents, in path order)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_sha256(path) -> str:
    """The file's SHA-256 (hex), read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    """Python and KEY_PACKAGES -> version ('not installed' if absent)."""
    out = {"Python": sys.version.split()[0]}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
