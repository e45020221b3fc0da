"""Not an example itself: how the examples end on ordinary events, with one line and no traceback.

`run(main)` calls `main()` and exits with what it returns; an aiflows error (a missing key, a model
that does not answer, bad input) prints `TypeName: message` and exits 1; Ctrl-C prints one line and
exits 130, however many times it is pressed while the program unwinds.

    if __name__ == "__main__":
        run(main)
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from aiflows.exceptions import AiflowsError, FlowError


def _interrupt_once(signum: int, frame: FrameType | None) -> None:
    # The first Ctrl-C stops the program; later ones must not interrupt its clean-up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def run(main: Callable[[], int | None], *, interrupted: str = "interrupted") -> NoReturn:
    """Run `main` and exit: its return code, 1 on an aiflows error, 130 on Ctrl-C (one line each)."""
    # A handler of our own also keeps asyncio.run from installing its "first Ctrl-C only cancels" one,
    # which leaves a blocking read waiting and turns the second Ctrl-C into a traceback.
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        code = main()
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        sys.exit(130)
    except FlowError as exc:  # a flow failed: its own error type and message, without the run's wrapping
        print(f"{exc.type}: {exc.message}", file=sys.stderr)
        sys.exit(1)
    except AiflowsError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code or 0)
