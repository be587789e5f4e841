"""No import cycle anywhere in the harness: a static check of every module of vpbench/, models/, baselines/, data_prep/.

Each ``.py`` file is parsed with :mod:`ast` (nothing is imported, so the test takes well under a second) and every
``import`` statement becomes an edge from its module to the modules it names: ``import a.b`` and ``from a import b``
name ``a.b`` when that is a module of the tree, else ``a``; relative imports are resolved against the importing
module's package. Only modules of the four packages count; the standard library and third-party packages are leaves.

What counts:

* **function-level imports count.** An import inside a function that closes a cycle is still a cycle: it only
  moves the failure (a partially initialised module) from import time to the first call, and it hides the
  dependency from whoever reads the module's head. Imports made lazily to keep torch, pandas or matplotlib out of a
  torch-free process are fine, as long as they do not close a cycle.
* imports under ``if TYPE_CHECKING:`` do not count: they never run (annotations only).
* imports made at run time count where the test can see them: ``importlib.import_module("a.b")`` with a literal
  name, and a package that imports every module in it (``pkgutil.iter_modules(__path__)``, as
  ``data_prep/catalog`` and ``vpbench/reporting/kinds`` do) imports each of them.
* a package's ``__init__`` is an edge only where it is named (``import vpbench.pipeline``), not for every module
  imported from inside it: Python runs a package's ``__init__`` before its modules either way, and a cycle through
  an ``__init__`` that imports its own submodules is reported when that ``__init__`` is named by one of them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("vpbench", "models", "baselines", "data_prep")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of :data:`PACKAGES` (a package is its ``__init__.py``)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, at any depth, except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child):
            for statement in child.orelse:  # the ``else:`` of a TYPE_CHECKING test does run
                yield from _import_nodes(ast.Module(body=[statement], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _runtime_imports(tree: ast.Module, module: str, is_package: bool, known: set[str]) -> set[str]:
    """``importlib.import_module("<literal>")`` calls, and every submodule of a package that imports them all."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if function == "import_module" and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
        if (function == "iter_modules" and is_package and node.args and isinstance(node.args[0], ast.Name)
                and node.args[0].id == "__path__"):
            names |= {name for name in known if name.rpartition(".")[0] == module}
    return names


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of the tree that ``module`` imports (see the module docstring for what counts)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    runtime = _runtime_imports(tree, module, is_package, known)
    for node in [*_import_nodes(tree), *(ast.Import(names=[ast.alias(name=name)]) for name in sorted(runtime))]:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for name in names:
            # the longest prefix that is a module of the tree (``import a.b.c`` where c is a function: a.b)
            parts = name.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts and ".".join(parts) != module:
                targets.add(".".join(parts))
    return targets


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    known = set(files)
    return {module: imports_of(module, path, known) for module, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per group of modules that import each other (strongly connected component,
    Tarjan's algorithm), in a deterministic order; empty when the graph has no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[set[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while not component or member != node:
                member = stack.pop()
                component.add(member)
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_within(graph, component) for component in components]


def _cycle_within(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """The shortest way from the component's first module back to itself (breadth-first, inside the component)."""
    start = min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph[node] & component):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle inside {sorted(component)}")


def test_no_import_cycle_in_the_tree() -> None:
    graph = import_graph()
    assert len(graph) > 100 and "vpbench.reporting.tables" in graph  # the walk found the tree
    found = cycles(graph)
    assert not found, "import cycle(s):\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_check_finds_a_cycle_closed_inside_a_function(tmp_path: Path) -> None:
    """The checker itself: a function-level import that closes a cycle is found, a TYPE_CHECKING one is not."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from .a import g\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n")
    known = {"pkg", "pkg.a", "pkg.b", "pkg.c"}
    graph = {name: imports_of(name, package / (name.split(".")[-1] + ".py") if name != "pkg" else package / "__init__.py", known)
             for name in known}
    assert graph["pkg.c"] == set()
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.a"]]
    # a package that imports every module in it, one of which imports the package back
    (package / "__init__.py").write_text("import importlib, pkgutil\nfor m in pkgutil.iter_modules(__path__):\n"
                                         "    importlib.import_module(f'pkg.{m.name}')\n")
    (package / "b.py").write_text("")
    (package / "c.py").write_text("import pkg\n")
    graph = {name: imports_of(name, package / (name.split(".")[-1] + ".py") if name != "pkg" else package / "__init__.py", known)
             for name in known}
    assert graph["pkg"] == {"pkg.a", "pkg.b", "pkg.c"}
    assert cycles(graph) == [["pkg", "pkg.c", "pkg"]]
