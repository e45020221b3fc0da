"""List a package's reference submissions by the verdict their folder promises.

`submissions/<verdict>/` holds single-file programs or folders (a multi-file program); the
language comes from the extension. The judge's conformance test runs each one and checks it
gets its folder's verdict. A `submissions/submissions.yaml` (2025-09 format) may widen or change
what a folder or file is allowed to get (`permitted: [AC, WA]`); its plain, whole-program
entries are applied (per-test-group expectations are not).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from aiflows.problems._files import read_yaml_mapping

__all__ = ["LANGUAGES", "VERDICT_FOLDERS", "Submission", "language_of", "list_submissions", "looks_like_python2"]

# Folder name -> the verdict the judge must give (None: no single verdict, e.g. partially_accepted).
VERDICT_FOLDERS: dict[str, str | None] = {
    "accepted": "AC",
    "wrong_answer": "WA",
    "time_limit_exceeded": "TLE",
    "run_time_error": "RTE",
    "memory_limit_exceeded": "MLE",
    "output_limit_exceeded": "OLE",
    "compile_error": "CE",
    "slow_accepted": None,  # AC within the safety margin, may exceed the limit itself
    "partially_accepted": None,
    "rejected": None,
    "mixed": None,
}

# Verdicts a folder with no single verdict allows (a person reading a report wants the range).
FOLDER_PERMITTED: dict[str, list[str]] = {
    "slow_accepted": ["AC", "TLE"],
    "rejected": ["WA", "TLE", "RTE", "MLE", "OLE", "CE"],
}

LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".py3": "python",
    ".c": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".java": "java",
    ".kt": "kotlin",
    ".rs": "rust",
    ".go": "go",
    ".js": "javascript",
    ".rb": "ruby",
    ".cs": "csharp",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".scala": "scala",
    ".php": "php",
    ".pl": "prolog",
    ".lisp": "lisp",
    ".sh": "bash",
}
_HEADERS = {".h", ".hpp", ".hh"}
_PY2 = re.compile(
    r"^\s*print\s+[^(\s=]|print\s*>>|\bfile\(|\bxrange\(|except\s+\w+\s*,\s*\w+\s*:|\.iteritems\(|"
    r"\braw_input\(|^#!.*python2",
    re.M,
)


def looks_like_python2(source: str) -> bool:
    """True when Python source uses Python-2-only syntax (print statements, `xrange`, ...)."""
    return _PY2.search(source) is not None


class Submission(BaseModel):
    """One reference program and the verdict it should get."""

    model_config = ConfigDict(frozen=True)

    path: Path  # the file, or the folder of a multi-file program
    folder: str  # the verdict folder it sits in ("accepted", "wrong_answer", ...)
    expected: str | None  # "AC", "WA", "TLE", "RTE", ... (None when the folder promises no single verdict)
    language: str  # "python", "python2" (by its syntax), "c", "cpp", "java", ...
    files: list[Path]  # the source files (one for a single-file program)
    permitted: list[str] | None = None  # verdicts submissions.yaml allows, when it says

    @property
    def name(self) -> str:
        return f"{self.folder}/{self.path.name}"


def language_of(path: Path) -> str | None:
    """The language of a source file from its extension (`.py`, `.c`, `.cpp`/`.cc`, ...)."""
    return LANGUAGES.get(path.suffix.lower())


def list_submissions(
    root: Path, *, languages: set[str] | None = None, folders: set[str] | None = None, include_bad: bool = False
) -> list[Submission]:
    """List `root/submissions/<verdict>/` entries, sorted by folder then name.

    Disabled entries (`x.py.disabled`, `prolog.disabled/`), hidden files and files of an
    unknown language are left out; a folder counts as one program in its majority language.
    Entries named `*.bad.*` are deliberately misfiled (tool test suites use them to check that
    a wrong verdict is noticed) and are left out unless `include_bad`.

    Args:
        root: the package folder.
        languages: keep only these languages (e.g. `{"python"}` where only Python runs).
        folders: keep only these verdict folders (e.g. `{"accepted", "wrong_answer"}`).
        include_bad: keep `*.bad.*` entries too.

    Raises:
        ProblemError: `submissions/submissions.yaml` exists but is not valid YAML.

    Example:
        >>> [s.expected for s in list_submissions(Path("no-such-package"))]
        []
    """
    base = root / "submissions"
    if not base.is_dir():
        return []
    rules = _rules(base)
    found: list[Submission] = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folders is not None and folder.name not in folders:
            continue
        expected = VERDICT_FOLDERS.get(folder.name)
        for entry in sorted(folder.iterdir()):
            if ".bad." in entry.name and not include_bad:
                continue
            sub = _entry(entry, folder.name, expected)
            if sub is not None and (languages is None or sub.language in languages):
                found.append(_apply_rules(sub, rules))
    return found


_Rule = tuple[re.Pattern[str], list[str], list[str]]  # name pattern, permitted, required


def _rules(base: Path) -> list[_Rule]:
    """(name pattern, permitted, required) from submissions.yaml, least specific first."""
    path = base / "submissions.yaml"
    if not path.is_file():
        return []
    rules: list[tuple[int, _Rule]] = []
    for key, value in read_yaml_mapping(path).items():
        if not isinstance(value, dict):
            continue
        permitted, required = _verdicts(value.get("permitted")), _verdicts(value.get("required"))
        if not permitted and not required:
            continue
        for pattern in _expand_braces(str(key).strip().strip("/")):
            regex = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern)
            rules.append((pattern.count("/"), (re.compile(regex), permitted or required, required)))
    return [rule for _, rule in sorted(rules, key=lambda r: r[0])]


def _verdicts(value: Any) -> list[str]:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip().upper() for v in value]
    return []


def _expand_braces(pattern: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    return [
        x
        for option in m[1].split(",")
        for x in _expand_braces(pattern[: m.start()] + option.strip() + pattern[m.end() :])
    ]


def _apply_rules(sub: Submission, rules: list[_Rule]) -> Submission:
    match: _Rule | None = None
    for rule in rules:  # later (more specific) rules win
        if rule[0].fullmatch(sub.name) or rule[0].fullmatch(sub.folder):
            match = rule
    if match is None:
        return sub
    _, permitted, required = match
    single = required if len(required) == 1 else permitted if len(permitted) == 1 else []
    return sub.model_copy(update={"permitted": permitted, "expected": single[0] if single else None})


def _entry(entry: Path, folder: str, expected: str | None) -> Submission | None:
    if entry.name.startswith(".") or entry.name.endswith(".disabled"):
        return None
    permitted = FOLDER_PERMITTED.get(folder)
    if entry.is_file():
        language = language_of(entry)
        if language is None:
            return None
        if language == "python" and looks_like_python2(entry.read_text(encoding="utf-8", errors="replace")):
            language = "python2"
        return Submission(
            path=entry, folder=folder, expected=expected, language=language, files=[entry], permitted=permitted
        )
    if entry.is_dir():
        files = sorted(p for p in entry.rglob("*") if p.is_file() and not p.name.startswith("."))
        langs = Counter(lang for p in files if (lang := language_of(p)) is not None)
        if not langs:
            return None
        if "cpp" in langs and "c" in langs:
            langs["cpp"] += langs.pop("c")
        language = langs.most_common(1)[0][0]
        sources = [p for p in files if language_of(p) is not None or p.suffix in _HEADERS]
        return Submission(
            path=entry, folder=folder, expected=expected, language=language, files=sources, permitted=permitted
        )
    return None
