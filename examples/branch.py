"""A router picks a subflow: small numbers are squared, large ones halved, others passed on.

python examples/branch.py 7
"""

from __future__ import annotations

import sys

from aiflows import Branch, flow


@flow
def square(n: int) -> dict:
    return {"n": n * n, "path": "square"}


@flow
def halve(n: int) -> dict:
    return {"n": n // 2, "path": "halve"}


@flow
def keep(n: int) -> dict:
    return {"n": n, "path": "keep"}


def size(data: dict) -> str:
    return "small" if data["n"] < 10 else "large" if data["n"] > 1000 else "medium"


router = Branch(size, {"small": square, "large": halve, "medium": keep}, name="by_size")


def main(n: int = 7) -> dict:
    return router.run_sync({"n": n})


if __name__ == "__main__":
    from script_exit import run

    run(lambda: print(main(*(int(a) for a in sys.argv[1:2]))))
