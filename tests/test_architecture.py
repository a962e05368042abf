"""The package's modules import one another without a cycle.

Every module under src/migrant_health is parsed (not imported); each `import` and `from ...
import` anywhere in it -- at the top, in a function, relative or absolute -- that names a
module of the package is an edge. `from pkg import name` is an edge to the submodule pkg.name
when there is one, else to pkg itself. A package's __init__ runs before its submodules, but
that is not an edge here (every import tool reads it so); imports by name at run time
(importlib) are not seen.
"""

import ast
from pathlib import Path

PACKAGE = "migrant_health"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def module_names() -> dict[str, Path]:
    """Dotted module name -> file, packages named by their __init__.py."""
    out = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = (PACKAGE,) + path.relative_to(SOURCE).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imported_modules(name: str, path: Path, modules: dict) -> set[str]:
    """The package's modules that module `name` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                known = [".".join(parts[:i]) for i in range(len(parts), 0, -1) if ".".join(parts[:i]) in modules]
                targets.update(known[:1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    targets.add(f"{base}.{alias.name}")
                elif base in modules:
                    targets.add(base)
    targets.discard(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] if the graph is acyclic (depth-first search)."""
    state = {}  # name -> "open" while on the current path, "done" once all it reaches is explored
    path = []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def test_relative_absolute_and_function_level_imports_are_edges(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "import os\nimport pkg.deep.mod\nfrom . import sibling\nfrom ..other import thing\n"
        "def f():\n    from .. import late\n"
    )
    modules = {
        name: tmp_path / "unused.py"
        for name in ("pkg", "pkg.sub", "pkg.sub.m", "pkg.sub.sibling", "pkg.other", "pkg.deep.mod", "pkg.late")
    }
    assert imported_modules("pkg.sub.m", path, modules) == {"pkg.deep.mod", "pkg.sub.sibling", "pkg.other", "pkg.late"}
    graph = import_graph()
    assert len(graph) > 30 and "migrant_health.synth.benefit" in graph["migrant_health.synth.cmds2014"]


def test_a_cycle_is_named():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
