"""What a problem package adds around a submission: `include/` files, the validator cache,
`{{constants}}` in validator arguments and the answers of a submit-answer problem."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiflows.judge._errors import PackageError
from aiflows.problems.constants import substitute
from aiflows.problems.model import Problem, TestCase

__all__ = ["answer_program", "is_submit_answer", "validator_args", "validator_cache_dir", "with_includes"]

# include/<folder> used for a judge language (the format names languages by their table key)
_INCLUDE_NAMES = {"python": ("python3", "python"), "pypy3": ("python3", "pypy3", "python"), "cpp": ("cpp", "c++")}
_DEFAULT_NAMES = {"python": "main.py", "pypy3": "main.py", "c": "main.c", "cpp": "main.cpp"}


def validator_cache_dir() -> Path:
    """`$AIFLOWS_HOME/judge/validators`: built output validators, shared by every Judge and process."""
    from aiflows.runtime.settings import aiflows_home

    path = aiflows_home() / "judge" / "validators"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def include_files(problem: Problem, language: str) -> dict[str, str]:
    """The files of `include/default/` and `include/<language>/`, by their path in the folder
    (the language's own files win), with `{{constants}}` substituted."""
    root = problem.root
    if root is None or not (root / "include").is_dir():
        return {}
    files: dict[str, str] = {}
    constants = problem.metadata.get("constants") or {}
    for name in ("default", *_INCLUDE_NAMES.get(language, (language,))):
        folder = root / "include" / name
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PackageError(problem.id, f"cannot read an included file: {exc}", file=path) from None
            files[path.relative_to(folder).as_posix()] = substitute(text, constants)
        if name != "default":
            break
    return files


def with_includes(problem: Problem, code: str | Mapping[str, str], language: str) -> str | Mapping[str, str]:
    """The submission with the package's included files next to it (the submission's own files
    win a name clash, as they are what was submitted)."""
    extra = include_files(problem, language)
    if not extra:
        return code
    files = dict(code) if isinstance(code, Mapping) else {_DEFAULT_NAMES.get(language, "main"): code}
    return {**extra, **files}


def validator_args(problem: Problem, flags: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """The output validator's arguments (problem.yaml's, or a test group's), constants substituted."""
    if problem.validation == "default":
        return []
    constants = problem.metadata.get("constants") or {}
    chosen = problem.validator_flags if flags is None else flags
    return [substitute(a, constants) for a in chosen]


def is_submit_answer(problem: Problem) -> bool:
    return "submit-answer" in (problem.metadata.get("types") or [])


def answer_program(problem: Problem, code: str | Mapping[str, str], tests: list[TestCase]) -> str:
    """For a submit-answer problem: a Python program that prints the submitted answer of the test
    whose input it reads, so the answers go through the problem's validation like any output.

    The answer for test `secret/3` is the submitted file `secret/3.ans` (or `.out`, `.txt`), or
    `3.ans`...; a single submitted file answers every test. A test with no answer prints nothing.
    """
    files = dict(code) if isinstance(code, Mapping) else {"answer": code}
    by_input: dict[str, str] = {}
    for test in tests:
        found = _answer_for(test, files)
        if found is not None:
            by_input[hashlib.sha256(test.input_path.read_bytes()).hexdigest()] = found
    return (
        "import hashlib, sys\n"
        f"ANSWERS = {json.dumps(by_input)}\n"
        "key = hashlib.sha256(sys.stdin.buffer.read()).hexdigest()\n"
        "sys.stdout.write(ANSWERS.get(key, ''))\n"
    )


def _answer_for(test: TestCase, files: dict[str, Any]) -> str | None:
    if len(files) == 1:
        return str(next(iter(files.values())))
    base = test.name.rpartition("/")[2]
    for stem in (test.name, base):
        for ext in ("", ".ans", ".out", ".txt"):
            if stem + ext in files:
                return str(files[stem + ext])
    return None
