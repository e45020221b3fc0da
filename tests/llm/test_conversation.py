"""The window over previous messages."""

from __future__ import annotations

from aiflows.llm import ChatMessage, window
from aiflows.llm.conversation import assemble


def msgs(n: int) -> list[ChatMessage]:
    return [ChatMessage(role="user" if i % 2 == 0 else "assistant", content=str(i)) for i in range(n)]


def texts(items: list[ChatMessage]) -> list[str]:
    return [m.content for m in items]


def test_no_bounds_keep_everything() -> None:
    assert texts(window(msgs(5), None, None)) == ["0", "1", "2", "3", "4"]


def test_first_k_and_last_k() -> None:
    assert texts(window(msgs(6), 2, None)) == ["0", "1"]
    assert texts(window(msgs(6), None, 2)) == ["4", "5"]
    assert texts(window(msgs(6), 1, 2)) == ["0", "4", "5"]
    assert texts(window(msgs(3), 2, 2)) == ["0", "1", "2"]  # overlap is not duplicated
    assert texts(window(msgs(4), 0, 0)) == []


def test_assemble_puts_system_first_and_new_message_last() -> None:
    out = assemble("sys", msgs(4), ChatMessage(role="user", content="new"), last_k=1)
    assert [(m.role, m.content) for m in out] == [("system", "sys"), ("assistant", "3"), ("user", "new")]
    assert texts(assemble(None, [], ChatMessage(role="user", content="x"))) == ["x"]
