"""A conversation as a chat flow keeps it: the system prompt, then alternating turns.

Long conversations are cut to a window before each call: the first `first_k` and the last
`last_k` previous messages (the Flows paper's chat flows keep the opening and the recent turns).
The system prompt and the new message are always sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from .types import ChatMessage

__all__ = ["assemble", "window"]


def window(history: Sequence[ChatMessage], first_k: int | None, last_k: int | None) -> list[ChatMessage]:
    """The messages of `history` to send: all when neither bound is set, else first_k + last_k.

    >>> [m.content for m in window([ChatMessage(role="user", content=str(i)) for i in range(5)], 1, 2)]
    ['0', '3', '4']
    """
    items = list(history)
    if first_k is None and last_k is None:
        return items
    keep: set[int] = set()
    if first_k:
        keep.update(range(min(first_k, len(items))))
    if last_k:
        keep.update(range(max(0, len(items) - last_k), len(items)))
    return [m for i, m in enumerate(items) if i in keep]


def assemble(
    system: str | None,
    history: Sequence[ChatMessage],
    new: ChatMessage,
    *,
    first_k: int | None = None,
    last_k: int | None = None,
) -> list[ChatMessage]:
    """The messages of one call: system prompt, windowed history, the new message."""
    head = [ChatMessage(role="system", content=system)] if system else []
    return [*head, *window(history, first_k, last_k), new]
