"""The terminal channel: show pending questions with their context, read answers, resume runs.

`aiflows human` runs `TerminalChannel.attach`. Text answers span several lines and end with a
line holding only `.` (or Ctrl-D); an edit shows the proposed value and takes a replacement, in
`$EDITOR` when it is set. Answers go through a `HumanDesk`, so the first answer wins and a person
who was too late is told who answered.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from ._desk import HumanDesk
from ._errors import AlreadyAnswered, InvalidAnswer
from ._models import HumanRequest

__all__ = ["TerminalChannel", "render_request"]

END = "."


def _value_block(value: Any, language: str | None) -> Any:
    if isinstance(value, str):
        if language:
            return Syntax(value, language, line_numbers=value.count("\n") > 2, word_wrap=True)
        return Text(value)
    return Syntax(json.dumps(value, indent=2, ensure_ascii=False, default=str), "json", word_wrap=True)


def render_request(console: Console, request: HumanRequest) -> None:
    """Print the question, its context (code highlighted) and, for an edit, the proposed value."""
    title = (
        f"[bold]{request.kind}[/] question {request.id} · session {escape(request.session)} · {escape(request.address)}"
    )
    console.print(Panel(Text(request.question), title=title, title_align="left", border_style="cyan"))
    for key, value in request.context.items():
        console.print(Text(f"{key}:", style="bold magenta"))
        console.print(_value_block(value, request.syntax.get(key)))
    if request.kind == "choice":
        for number, choice in enumerate(request.choices, 1):
            console.print(f"  [bold]{number}[/]) {escape(choice)}", highlight=False)
    if request.kind == "edit":
        console.print(Text("proposed:", style="bold green"))
        console.print(_value_block(request.proposed, request.syntax.get("proposed")))


class TerminalChannel:
    """Answer questions from a terminal.

    Args:
        desk: the desk answers go through (and which resumes runs when `resume` is on).
        name: who answers, recorded with each answer.
        console: where to print; input comes from `stdin`.
        resume: resume a run in this process as soon as its question is answered.
    """

    def __init__(
        self,
        desk: HumanDesk,
        *,
        name: str = "terminal",
        console: Console | None = None,
        stdin: TextIO | None = None,
        resume: bool = True,
    ) -> None:
        self.desk = desk
        self.name = name
        self.console = console or Console()
        self.stdin = stdin or sys.stdin
        self.resume = resume

    # -- reading ----------------------------------------------------------------------------
    def _line(self, prompt: str) -> str | None:
        """One line without its newline; None at end of input (Ctrl-D)."""
        self.console.print(prompt, end="", markup=False, highlight=False)
        sys.stdout.flush()
        line = self.stdin.readline()
        return None if line == "" else line.rstrip("\n")

    def read_multiline(self, prompt: str) -> str | None:
        """Lines until one holding only '.', or Ctrl-D; None if nothing was typed before Ctrl-D."""
        self.console.print(f"{prompt} (end with a line holding only '{END}', or Ctrl-D)", highlight=False)
        lines: list[str] = []
        while True:
            line = self._line("> ")
            if line is None:
                if not lines:
                    return None
                break
            if line.strip() == END:
                break
            lines.append(line)
        return "\n".join(lines)

    def _edit_in_editor(self, request: HumanRequest, editor: str) -> str:
        proposed = request.proposed
        text = proposed if isinstance(proposed, str) else json.dumps(proposed, indent=2, ensure_ascii=False)
        suffix = {"python": ".py", "json": ".json"}.get(request.syntax.get("proposed", ""), ".txt")
        with tempfile.TemporaryDirectory(prefix="aiflows-edit-") as folder:
            path = Path(folder) / f"proposed{suffix}"
            path.write_text(text)
            subprocess.run([*shlex.split(editor), str(path)], check=True)
            return path.read_text()

    def ask(self, request: HumanRequest) -> Any:
        """Read one answer for `request` from the terminal; None when input ended."""
        if request.kind == "text":
            return self.read_multiline("Your answer")
        if request.kind == "choice":
            while True:
                line = self._line(f"Choose 1-{len(request.choices)} (or type the choice): ")
                if line is None:
                    return None
                if line.strip().isdigit() and 1 <= int(line) <= len(request.choices):
                    return request.choices[int(line) - 1]
                if line.strip() in request.choices:
                    return line.strip()
                self.console.print(f"[red]'{escape(line.strip())}' is not one of the choices[/]", highlight=False)
        if request.kind == "approve":
            while True:
                line = self._line("Approve? [y]es / [n]o: ")
                if line is None:
                    return None
                word = line.strip().lower()
                if word in ("y", "yes", "a", "approve", "n", "no", "r", "reject"):
                    comment = self._line("Comment (optional, one line): ") or ""
                    return {"approved": word in ("y", "yes", "a", "approve"), "comment": comment.strip()}
                self.console.print("[red]answer y or n[/]", highlight=False)
        while True:  # edit
            line = self._line("[k]eep the proposed value or [e]dit it? ")
            if line is None:
                return None
            word = line.strip().lower()
            if word in ("k", "keep"):
                return {"value": request.proposed}
            if word in ("e", "edit"):
                editor = os.environ.get("EDITOR")
                if editor:
                    return {"value": self._edit_in_editor(request, editor)}
                text = self.read_multiline("Type the new value")
                return None if text is None else {"value": text}
            self.console.print("[red]answer k or e[/]", highlight=False)

    # -- the loop ---------------------------------------------------------------------------
    async def answer_one(self, request: HumanRequest) -> bool:
        """Show `request`, read an answer (again until it fits), submit it; False when input ended."""
        render_request(self.console, request)
        while True:
            value = self.ask(request)
            if value is None:
                return False
            try:
                answered = await self.desk.answer(request.id, value, by=self.name)
            except InvalidAnswer as exc:
                self.console.print(f"[red]InvalidAnswer: {escape(exc.problem)}[/]", highlight=False)
                continue
            except AlreadyAnswered as exc:
                self.console.print(f"[yellow]AlreadyAnswered: {escape(str(exc))}[/]", highlight=False)
                return True
            self.console.print(f"[green]answered[/] {answered.id}", highlight=False)
            break
        if self.resume:
            result = await self.desk.resume_request(request.id)
            if result is not None:
                self._report(result)
        return True

    def _report(self, result: Any) -> None:
        if result.status == "done":
            self.console.print(f"[green]run {result.run_id} done[/]")
            self.console.print(_value_block(result.output, None))
        elif result.status == "suspended":
            self.console.print(f"run {result.run_id} is waiting for another answer", highlight=False)
        else:
            error = result.error
            self.console.print(
                f"[red]run {result.run_id} failed: {escape(error.type)}: {escape(error.message)}[/]", highlight=False
            )

    async def attach(self, *, session: str | None = None, once: bool = False, poll_s: float = 0.5) -> int:
        """Answer pending questions as they come; with `once`, stop when none is left. Returns how many were answered."""
        answered = 0
        waiting_said = False
        while True:
            pending = await self.desk.pending(session)
            if not pending:
                if once:
                    if answered == 0:
                        where = f" in session '{session}'" if session else ""
                        self.console.print(f"no questions are waiting{where}", highlight=False)
                    return answered
                if not waiting_said:
                    self.console.print("waiting for questions (Ctrl-C to stop)...")
                    waiting_said = True
                await asyncio.sleep(poll_s)
                continue
            waiting_said = False
            if not await self.answer_one(pending[0]):
                return answered
            answered += 1
