"""A bounded loop in the style of the Flows paper's circular flows: guess, get feedback, refine.

python examples/loop.py 37
"""

from __future__ import annotations

import sys

from aiflows import Loop, Sequential, flow


@flow
def guess(low: int = 0, high: int = 100) -> dict:
    return {"guess": (low + high) // 2}


@flow
def judge(guess: int, secret: int, low: int = 0, high: int = 100) -> dict:
    if guess < secret:
        return {"low": guess + 1, "found": False}
    if guess > secret:
        return {"high": guess - 1, "found": False}
    return {"found": True}


search = Loop(Sequential(guess, judge, name="attempt"), until="found", max_rounds=10, name="binary_search")


def main(secret: int = 37) -> dict:
    return search.run_sync({"secret": secret})


if __name__ == "__main__":
    from script_exit import run

    run(lambda: print(main(*(int(a) for a in sys.argv[1:2]))))
