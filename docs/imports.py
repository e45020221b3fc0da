"""Draw how the parts of aiflows import each other, one row per layer of the import contract.

    python docs/imports.py            # writes docs/imports.png, prints the edges and any cycle

Every arrow should point down (a layer imports only from layers below it, as `lint-imports`
checks); an arrow pointing up, or a cycle, is printed and makes the script exit 1.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aiflows"


def layers() -> list[list[str]]:
    """The layers of pyproject's import contract, top first; `a : b` is one layer of independent parts."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [[part.strip() for part in layer.split(":")] for layer in contract["layers"]]


def part_of(module: str, parts: set[str]) -> str | None:
    """`aiflows.bus.redis` -> `bus`; `aiflows.flow` -> `flow`; None for the package root."""
    pieces = module.split(".")[1:]
    return pieces[0] if pieces and pieces[0] in parts else None


def edges(parts: set[str]) -> set[tuple[str, str]]:
    """(importer, imported) between parts, from every import statement, function-local ones included."""
    found: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        base = module if path.name == "__init__.py" else module.rpartition(".")[0]
        source = part_of(module, parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                anchor = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
                target = (f"{anchor}.{node.module}" if node.module else anchor) if node.level else node.module or ""
                targets = [f"{target}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in targets:
                imported = part_of(name, parts) if name.startswith("aiflows.") else None
                if source and imported and imported != source:
                    found.add((source, imported))
    return found


def draw(rows: list[list[str]], arrows: set[tuple[str, str]], bad: set[tuple[str, str]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    where = {part: (x - (len(row) - 1) / 2, -y) for y, row in enumerate(rows) for x, part in enumerate(row)}
    fig, ax = plt.subplots(figsize=(8, 0.7 * len(rows) + 1))
    for a, b in sorted(arrows):
        (x0, y0), (x1, y1) = where[a], where[b]
        color = "tab:red" if (a, b) in bad else "0.6"
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "->", "color": color, "lw": 0.8})
    for part, (x, y) in where.items():
        ax.text(x, y, part, ha="center", va="center", bbox={"boxstyle": "round", "fc": "white", "ec": "0.3"})
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-len(rows) + 0.5, 0.5)
    ax.axis("off")
    ax.set_title("aiflows: who imports whom (rows are the layers of the import contract)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> int:
    rows = layers()
    rank = {part: y for y, row in enumerate(rows) for part in row}
    arrows = edges(set(rank))
    upward = {(a, b) for a, b in arrows if rank[b] <= rank[a]}
    for a, b in sorted(arrows, key=lambda e: (rank[e[0]], e)):
        print(f"{a:>10} -> {b}{'   <- points up' if (a, b) in upward else ''}")
    out = Path(__file__).with_name("imports.png")
    draw(rows, arrows, upward, out)
    print(f"wrote {out.relative_to(ROOT)}; {len(arrows)} arrows, {len(upward)} pointing up")
    return 1 if upward else 0


if __name__ == "__main__":
    sys.exit(main())
