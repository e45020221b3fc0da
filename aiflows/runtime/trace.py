"""Reading a run's trace: the call tree with timings and errors, and a JSON-lines export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..messages import Message
from ..records import RunRecord, Span

__all__ = ["render_tree", "trace_messages", "usage_by_path"]


def _parent(path: str) -> str | None:
    return None if path == "" else path.rsplit("/", 1)[0]


def _order(path: str) -> tuple[int, ...]:
    return tuple(int(p) for p in path.split("/")[1:] if p.isdigit())


def usage_by_path(events: list[Message]) -> dict[str, dict[str, float]]:
    """Token and cost totals of `llm.usage` events, per span path."""
    totals: dict[str, dict[str, float]] = {}
    for event in events:
        if event.data.get("type") != "llm.usage":
            continue
        bucket = totals.setdefault(event.path, {})
        for key, names in (
            ("prompt_tokens", ("prompt_tokens",)),
            ("completion_tokens", ("completion_tokens",)),
            ("total_tokens", ("total_tokens",)),
            ("cost", ("cost_usd", "cost")),
        ):
            value = next((event.data[n] for n in names if isinstance(event.data.get(n), (int, float))), None)
            if value is not None:
                bucket[key] = bucket.get(key, 0) + value
    return totals


def render_tree(record: RunRecord, spans: list[Span], events: list[Message]) -> Any:
    """A rich `Tree`: one node per handled request, children in call order."""
    from rich.markup import escape
    from rich.tree import Tree

    usage = usage_by_path(events)
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        children.setdefault(_parent(span.path), []).append(span)

    def label(span: Span) -> str:
        ms = (span.ended_at - span.started_at) * 1000
        mark = {"ok": "[green]ok[/]", "error": "[red]error[/]", "cancelled": "[yellow]cancelled[/]"}[span.status]
        text = f"[bold]{escape(span.address)}[/] {ms:.1f} ms {mark}"
        if span.status == "error" and span.error:
            text += f" [red]{escape(span.error.get('type', ''))}: {escape(str(span.error.get('message', '')))[:200]}[/]"
        if span.path in usage:
            u = usage[span.path]
            text += f" [cyan]tokens={int(u.get('total_tokens', 0))} cost=${u.get('cost', 0):.4f}[/]"
        return text

    total = sum(u.get("total_tokens", 0) for u in usage.values())
    cost = sum(u.get("cost", 0) for u in usage.values())
    head = f"run {record.run_id} [{record.status}] {escape(record.address)} session={escape(record.session)}"
    if usage:
        head += f" tokens={int(total)} cost=${cost:.4f}"
    tree = Tree(head)

    def grow(node: Any, parent: str | None) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: _order(s.path)):
            grow(node.add(label(span)), span.path)

    grow(tree, None)
    if record.error is not None and not spans:
        tree.add(f"[red]{escape(record.error.type)}: {escape(record.error.message)}[/]")
    return tree


def trace_messages(spans: list[Span], events: list[Message]) -> Iterator[dict[str, Any]]:
    """Every message of the run, in time order: each request, its events, and its answer."""
    rows: list[tuple[float, int, dict[str, Any]]] = []
    for span in spans:
        base = {"run_id": span.run_id, "session": span.session, "path": span.path}
        rows.append(
            (
                span.started_at,
                0,
                {
                    **base,
                    "id": span.request_id,
                    "kind": "request",
                    "recipient": span.address,
                    "parent_id": span.parent_id,
                    "created_at": span.started_at,
                    "data": span.input,
                },
            )
        )
        answer: dict[str, Any] = {
            **base,
            "kind": "reply" if span.status == "ok" else span.status,
            "sender": span.address,
            "correlation_id": span.request_id,
            "created_at": span.ended_at,
        }
        answer.update({"data": span.output} if span.status == "ok" else {"error": span.error})
        rows.append((span.ended_at, 2, answer))
    for event in events:
        rows.append((event.created_at, 1, event.model_dump(mode="json")))
    for _, _, row in sorted(rows, key=lambda r: (r[0], r[1])):
        yield row
