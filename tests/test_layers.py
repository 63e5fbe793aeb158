"""The package's layers: faces -> answer -> retrieve | ingest -> index -> core, never upward, no cycles.

Every import counts, at the top of a module, inside a function or under TYPE_CHECKING: an import put off
until a function runs is still a dependency of that module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RAG = Path(__file__).resolve().parent.parent / "rag"
# Lower index, lower layer. Packages on one layer may not import each other.
LAYERS = [("core",), ("index",), ("retrieve", "ingest"), ("answer",), ("assess",), ("faces",)]
LEVEL = {pkg: i for i, group in enumerate(LAYERS) for pkg in group}


def module_name(path: Path) -> str:
    parts = path.relative_to(RAG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The rag modules a file imports anywhere in it (`from rag.x import y` counts rag.x.y when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("rag")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag") and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules}
    return {m for m in found if m in modules}


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in RAG.rglob("*.py")}
    modules = set(files)
    return {name: imports(path, modules) - {name} for name, path in files.items()}


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LEVEL.get(parts[1]) if len(parts) > 1 else None


def test_every_subpackage_has_a_layer() -> None:
    packages = {p.name for p in RAG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(LEVEL), "add a new subpackage to LAYERS (and to the README's map)"


def test_no_module_imports_a_higher_layer_or_a_sibling_package() -> None:
    wrong = []
    for module, targets in graph().items():
        own = layer(module)
        for target in targets:
            other = layer(target)
            if own is None or other is None:
                if own is not None and target == "rag":
                    wrong.append(f"{module} -> rag (the package root sits above every layer)")
                continue
            same_package = module.split(".")[1] == target.split(".")[1]
            if other > own or (other == own and not same_package):
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_there_is_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("source", "broken"),
    [
        ("from rag.faces import render\n", "rag.core.fake -> rag.faces.render"),
        ("def f():\n    from rag.answer.policy import REFUSAL\n", "rag.core.fake -> rag.answer.policy"),
    ],
)
def test_the_check_sees_upward_imports_even_inside_functions(tmp_path: Path, source: str, broken: str) -> None:
    fake = tmp_path / "fake.py"
    fake.write_text(source)
    modules = set(graph()) | {"rag.core.fake"}
    found = imports(fake, modules)
    target = broken.split(" -> ")[1]
    assert target in found and layer(target) > layer("rag.core.fake")  # type: ignore[operator]
