"""The package modules a step imports, directly or not: its rule's code inputs.

Read from the source (nothing is imported), following every import statement of the
package, at module level or inside functions, so that editing any module a step can run
reruns that step and nothing else. Free of numerical imports, and quick: Snakemake calls it
while parsing the workflow, on every run. Import statements are found by a pattern rather
than a full parse (ten times faster over the package); a line of a docstring that reads like
an import can only add a module, never hide one, and tests/test_code_inputs.py checks the
result against what importing each step really loads.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

# `from .x import a, b` (names possibly in parentheses over several lines) or `import a.b as c, d`.
IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<base>\.*[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#;]*)"
    r"|import[ \t]+(?P<modules>[^\n#;]*))",
    re.M,
)

PACKAGE = "migrant_health"
ROOT = Path(__file__).resolve().parent


@functools.cache
def _module_file(module: str) -> Path | None:
    """The source file of a package module (a package's __init__.py), or None."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = [PACKAGE, *relative.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _imported(path: Path) -> frozenset[str]:
    """Package modules named by the imports of one file (relative imports resolved)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for match in IMPORT.finditer(path.read_text()):
        if match["modules"] is not None:
            found |= {_name(item) for item in match["modules"].split(",") if item.strip()}
            continue
        base = match["base"].lstrip(".")
        level = len(match["base"]) - len(base)
        if level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        found.add(base)
        # `from . import sample` names a module; `from .x import f` names a function of x.
        found |= {f"{base}.{_name(item)}" for item in match["names"].strip("()").split(",") if item.strip()}
    return frozenset(m for m in found if _module_file(m) is not None)


def _name(item: str) -> str:
    """`a.b as c` -> a.b"""
    return item.strip().split(" as ")[0].strip()


@functools.cache
def closure(module: str) -> tuple[Path, ...]:
    """Source files of `module` and of every package module it imports, transitively,
    including the __init__.py of each package on the way (Python runs those too)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen or _module_file(current) is None:
            continue
        seen.add(current)
        parents = current.split(".")
        todo += [".".join(parents[:i]) for i in range(1, len(parents))]
        todo += sorted(_imported(_module_file(current)))
    return tuple(sorted(_module_file(m) for m in seen))


def step_sources(step: str) -> tuple[Path, ...]:
    """What rule `step` runs: migrant_health.steps.<step> and everything it imports."""
    return closure(f"{PACKAGE}.steps.{step}")
