"""The package's naming rule, checked: a `_name.py` module is private to the package that holds it.

Code in other packages reaches it through that package's `__init__` (or a public module of it),
so a private module can be split or renamed without touching anyone else. The allow-list below
names the crossings that remain; it only ever shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "aiflows"

# Root-level helpers every layer of the package shares (the lowest layer of the import contract).
SHARED_PRIVATE = {"aiflows._fastmodel", "aiflows._json", "aiflows._version"}

# (importing package, private module): crossings still to remove.
ALLOWED = {
    ("aiflows.runtime", "aiflows.bus._redis_conn"),  # worker and RedisStore share the bus's connection
    ("aiflows.runtime", "aiflows.bus._redis_settings"),
    ("aiflows.runtime", "aiflows.bus._redis_records"),  # Deliveries: what the store hands the bus
    ("aiflows.human", "aiflows.bus._redis_conn"),
    ("aiflows.cli", "aiflows.bus._redis_conn"),
    ("aiflows.cli", "aiflows.bus._redis_status"),
    ("aiflows.cli", "aiflows.judge._programs"),
    ("aiflows.cli", "aiflows.judge._redact"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.AST, importer: str, is_package: bool) -> set[str]:
    """The dotted names a module imports: `from package import name` gives `package.name`."""
    names: set[str] = set()
    base = importer if is_package else importer.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                module = f"{anchor}.{node.module}" if node.module else anchor
            else:
                module = node.module or ""
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _as_module(name: str, modules: set[str]) -> str | None:
    """`package.module.name` -> `package.module`: the longest prefix that is a module of aiflows."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def _owner(private: str) -> str:
    """The package a private module belongs to: everything before its first `_name` part."""
    parts = private.split(".")
    first = next(i for i, part in enumerate(parts) if part.startswith("_"))
    return ".".join(parts[:first])


def test_private_modules_are_imported_only_inside_their_package() -> None:
    crossings: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        importer = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in _imported(tree, importer, path.name == "__init__.py"):
            parts = name.split(".")
            if parts[0] != "aiflows" or not any(p.startswith("_") and not p.startswith("__") for p in parts):
                continue
            private = ".".join(parts[: next(i for i, p in enumerate(parts) if p.startswith("_")) + 1])
            if private in SHARED_PRIVATE or importer.startswith(_owner(private)):
                continue
            if (PACKAGE.parent / (private.replace(".", "/") + ".py")).exists() or (
                PACKAGE.parent / private.replace(".", "/")
            ).is_dir():
                top = ".".join(importer.split(".")[:2])
                crossings.add((top, private))
    unexpected = crossings - ALLOWED
    assert not unexpected, f"private modules imported from another package: {sorted(unexpected)}"
    stale = ALLOWED - crossings
    assert not stale, f"allow-list entries no longer needed (remove them): {sorted(stale)}"


def _module_graph() -> dict[str, set[str]]:
    """Every aiflows module and the aiflows modules it imports (function-local imports included)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = (_as_module(i, set(paths)) for i in _imported(tree, name, path.name == "__init__.py"))
        graph[name] = {m for m in found if m is not None and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert _cycles(_module_graph()) == []
