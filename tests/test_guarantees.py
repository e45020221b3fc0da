"""Every row of the README's Guarantees table names tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_guarantee_names_an_existing_test() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Guarantees", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| when")]
    assert len(rows) >= 6
    for row in rows:
        named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row.rsplit("|", 2)[1])
        assert named, f"a guarantee names no test: {row[:80]}"
        for path, name in named:
            tree = ast.parse((REPO / path).read_text())
            defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
            assert name in defined, f"{path} has no test {name}"
