"""The package's layout rules, checked on its source: every module at most 500 lines, no import cycle
among vaelib modules (imports inside functions included), and no private name (a leading
underscore) imported from another module."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vaelib"
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, list[str]]]:
    """(imported vaelib module, names taken from it) for every import statement of a module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names if alias.name.startswith("vaelib")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.startswith("vaelib"):
                found.append((source, [alias.name for alias in node.names]))
    return found


def resolve(source: str, names: list[str]) -> list[str]:
    """The vaelib modules an import statement loads: the module, or submodules named in ``names``."""
    targets = [source] if source in MODULES else []
    targets += [f"{source}.{name}" for name in names if f"{source}.{name}" in MODULES]
    return targets


def test_no_module_is_longer_than_500_lines():
    long = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    assert {name: n for name, n in long.items() if n > MAX_LINES} == {}


def test_no_import_cycle_among_vaelib_modules():
    graph = {name: set() for name in MODULES}
    for name in MODULES:
        for source, names in imports(name):
            graph[name].update(target for target in resolve(source, names) if target != name)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                pytest.fail(f"import cycle: {' -> '.join(path[path.index(target):] + [target])}")
            elif state.get(target) is None:
                visit(target)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if state.get(name) is None:
            visit(name)


def test_no_private_name_is_imported_from_another_module():
    offenders = []
    for name in MODULES:
        for source, names in imports(name):
            if source != name:
                offenders += [f"{name}: from {source} import {item}" for item in names
                              if item.startswith("_") and item != "__version__"]
    assert offenders == []
