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
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


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
