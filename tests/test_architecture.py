"""The layout's rules, checked on the source: every module says its job in a docstring, no
module imports another package's private names, and the imports form no cycle (imports inside
functions count; those under `if TYPE_CHECKING:` do not, as they never run).

Tests are exempt from the private-name rule: a unit test may test a module's helper.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("indexer", "retrieval", "rules", "casefile", "audit", "ui", "app_pages", "bench", "deploy")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}
MODULES["app"] = REPO / "app.py"


def project_module(name: str) -> str | None:
    """The project module that `import name` loads (a name inside a module: that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(path: Path) -> list[tuple[str, str | None]]:
    """(module imported, name taken from it or None) for every import that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
               for n in ast.walk(node)}  # fmt: skip
    out: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.append((sub, None) if sub in MODULES else (node.module, alias.name))
        elif isinstance(node, ast.Import):
            out += [(alias.name, None) for alias in node.names]
    return out


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = {project_module(m) for m, _ in imports(path)}
        graph[name] = {t for t in targets if t and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_sees_a_cycle_and_a_private_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert ("indexer.build", "build_manifest") in imports(REPO / "bench" / "synth.py")


def test_no_import_cycles():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_packages_private_names(name):
    package = name.split(".")[0]
    private = [f"{module}.{taken}" for module, taken in imports(MODULES[name])
               if taken and taken.startswith("_") and not taken.startswith("__")
               and (project_module(module) or "").split(".")[0] not in ("", package)]  # fmt: skip
    assert not private, f"{name} imports private names of another package: {private}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_its_job(name):
    doc = ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    assert doc and len(doc.split()) >= 5, f"{MODULES[name].relative_to(REPO)} has no docstring naming its job"


def test_the_readme_names_every_package():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for folder in (*PACKAGES, "corpus", "eval", "tests"):
        assert f"`{folder}/`" in readme, f"README does not name {folder}/"
