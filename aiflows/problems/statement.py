"""Find a package's statement and turn it, with its samples, into prompt-ready markdown.

Packages keep statements in `problem_statement/` (legacy) or `statement/` (2023+), as LaTeX,
markdown or HTML, often in several languages. English is preferred. LaTeX and markdown
statements do not contain the samples (the format inserts them from `data/sample`), so they
are appended; HTML statements (Code Jam) already show them. With no statement at all, the
title and samples are still a usable prompt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiflows.problems._files import read_text
from aiflows.problems.constants import substitute
from aiflows.problems.html_text import html_to_markdown
from aiflows.problems.latex_text import latex_to_markdown
from aiflows.problems.model import TestCase

__all__ = ["build_statement", "find_statement", "format_samples"]

_FOLDERS = ("statement", "problem_statement")
_MAX_SAMPLE_CHARS = 4000  # a sample this long is truncated in the prompt, never in the tests


def find_statement(root: Path, language: str = "en") -> Path | None:
    """The best statement file of the package: the wanted language first, then any."""
    candidates: list[Path] = []
    for folder in _FOLDERS:
        if (root / folder).is_dir():
            candidates.extend(sorted(p for p in (root / folder).iterdir() if p.is_file()))
    order = [
        f"problem.{language}.md",
        f"problem.{language}.tex",
        "problem.md",
        "problem.tex",
        f"problem.{language}.html",
        "problem.html",
    ]
    for name in order:
        for path in candidates:
            if path.name == name:
                return path
    for path in candidates:
        if re.fullmatch(r"problem\.[a-z]{2,3}\.(md|tex|html)", path.name):
            return path
    return None


def build_statement(
    root: Path,
    *,
    title: str,
    samples: list[TestCase],
    interactions: Sequence[Path],
    problem: str,
    interactive: bool = False,
    constants: Mapping[str, Any] | None = None,
) -> tuple[str, str | None]:
    """Return (markdown statement, statement file relative to `root` or None).

    For an interactive problem the sample `.in`/`.ans` files feed the interactor, not the
    program, so the transcripts are shown instead; without transcripts the files are shown
    under a heading that says whose they are. problem.yaml's `{{constants}}` are substituted in
    the statement's source, before it is converted.
    """
    path = find_statement(root)
    body = ""
    if path is not None:
        raw = substitute(read_text(path, problem=problem), constants or {})
        if path.suffix == ".tex":
            body = latex_to_markdown(raw)
        elif path.suffix == ".html":
            return html_to_markdown(raw), path.relative_to(root).as_posix()
        else:
            body = _tidy_markdown(raw)
    if not body.lstrip().startswith("# "):
        body = f"# {title}\n\n{body}".rstrip()
    if interactive and interactions:
        samples = []
    extra = format_samples(samples, interactions, interactive=interactive)
    text = f"{body}\n\n{extra}" if extra else body
    return text.strip(), path.relative_to(root).as_posix() if path else None


def format_samples(samples: Sequence[TestCase], interactions: Sequence[Path] = (), *, interactive: bool = False) -> str:
    """Render sample tests (and interaction transcripts) as markdown blocks."""
    blocks: list[str] = []
    names = ("Interactor input", "Interactor answer") if interactive else ("Input", "Output")
    for i, test in enumerate(samples, 1):
        blocks.append(
            f"## Sample {i}\n\n{names[0]}:\n```\n{_clip(test.input_path)}```\n\n"
            f"{names[1]}:\n```\n{_clip(test.answer_path)}```"
        )
    for i, path in enumerate(interactions, len(samples) + 1):
        lines = []
        for line in _clip(path).splitlines():
            if line.startswith("<"):
                lines.append(f"judge: {line[1:]}")
            elif line.startswith(">"):
                lines.append(f"solution: {line[1:]}")
            else:
                lines.append(line)
        transcript = "\n".join(lines)
        blocks.append(f"## Sample interaction {i}\n\n```\n{transcript}\n```")
    return "\n\n".join(blocks)


def _clip(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if len(text) > _MAX_SAMPLE_CHARS:
        text = text[:_MAX_SAMPLE_CHARS] + "\n... (truncated)\n"
    return text if text.endswith("\n") or not text else text + "\n"


def _tidy_markdown(text: str) -> str:
    """Images cannot be shown to a text model; keep their captions."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", lambda m: f"[image: {m[1]}]" if m[1] else "[image]", text)
    return text.strip()
