"""The language table: how to compile and run each language, read from `languages.yaml`.

Why a table: the reference judges keep one (problemtools' languages.yaml, DOMjudge's
executables), and a package's submissions come in whatever languages its authors used. A
language is offered when its toolchain is found on the sandbox's PATH (probed once per
process); a submission in any other language raises `UnsupportedLanguage`, which callers
count apart from verdicts: the program was never judged, so no verdict would be true.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiflows.judge._errors import JudgeError

__all__ = [
    "LANGUAGES_FILE",
    "Language",
    "LanguageTableError",
    "UnsupportedLanguage",
    "entry_point",
    "language_table",
    "load_languages",
    "resolve_language",
    "toolchain",
    "version_of",
]

LANGUAGES_FILE = Path(__file__).with_name("languages.yaml")
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"  # what programs and compilers find inside the sandbox
EntryRule = Literal["binary", "python", "java", "kotlin", "haskell", "rust", "go", "javascript"]


class LanguageTableError(JudgeError):
    """The language table is malformed: names the file and the key."""


class UnsupportedLanguage(JudgeError, ValueError):  # noqa: N818 - reads as a result: "unsupported language"
    """The submission's language is unknown, or its toolchain is not installed: not judged."""

    def __init__(self, language: str, why: str) -> None:
        self.language = language
        self.why = why
        super().__init__(f"unsupported language {language!r}: {why}")


class Language(BaseModel):
    """One entry of the table (see languages.yaml for what each field means)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    compile: tuple[str, ...] | None = Field(default=None, min_length=1)
    run: tuple[str, ...] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    entry: EntryRule
    version: tuple[str, ...] = Field(min_length=1)
    time_factor: float = Field(default=1.0, gt=0)
    address_space: bool = True

    @property
    def compiled(self) -> bool:
        return self.compile is not None


def load_languages(path: Path = LANGUAGES_FILE) -> dict[str, Language]:
    """Read and check a language table; a bad entry is named with its file and key."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise LanguageTableError(f"{path}: cannot read the language table: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("languages"), dict):
        raise LanguageTableError(f"{path}: expected a mapping with a 'languages' mapping at the top")
    table: dict[str, Language] = {}
    for key, entry in raw["languages"].items():
        if not isinstance(entry, dict):
            raise LanguageTableError(f"{path}: languages.{key}: expected a mapping, found {type(entry).__name__}")
        try:
            table[str(key)] = Language.model_validate({"id": str(key), **entry})
        except ValidationError as exc:
            problems = "; ".join(
                f"languages.{key}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise LanguageTableError(f"{path}: {problems}") from None
    names: dict[str, str] = {}
    for lang in table.values():
        for name in (lang.id, *lang.aliases):
            if names.setdefault(name.lower(), lang.id) != lang.id:
                raise LanguageTableError(
                    f"{path}: languages.{lang.id}.aliases: {name!r} already names {names[name.lower()]}"
                )
    return table


@cache
def language_table() -> dict[str, Language]:
    """The table shipped with the package (read once)."""
    return load_languages()


@cache
def _by_name() -> dict[str, str]:
    return {name.lower(): lang.id for lang in language_table().values() for name in (lang.id, *lang.aliases)}


def resolve_language(language: str, *, installed: bool = True) -> Language:
    """'Python3' -> the python entry, 'C++' -> cpp, 'Java' -> java; `UnsupportedLanguage` for a
    name the table does not know or (with `installed`) whose toolchain is not found here."""
    key = language.strip().lower()
    lang_id = _by_name().get(key)
    if lang_id is None:
        known = ", ".join(sorted(language_table()))
        raise UnsupportedLanguage(language, f"not in the judge's language table (known: {known})")
    lang = language_table()[lang_id]
    if installed and toolchain(lang.id) is None:
        first = (lang.compile or lang.run)[0]
        raise UnsupportedLanguage(language, f"{lang.name} is not installed here ({first} not found on {SANDBOX_PATH})")
    return lang


def by_extension() -> dict[str, str]:
    """File suffix -> language id, for telling a file's language."""
    return {ext: lang.id for lang in language_table().values() for ext in lang.extensions}


@cache
def toolchain(lang_id: str) -> str | None:
    """The path of the language's compiler (or runtime), or None when not installed (probed once)."""
    lang = language_table()[lang_id]
    needed = [lang.compile[0]] if lang.compile else []
    if not lang.run[0].startswith("{"):
        needed.append(lang.run[0])
    found = [shutil.which(cmd, path=SANDBOX_PATH) for cmd in needed]
    return found[0] if found and all(found) else None


@cache
def version_of(lang_id: str) -> str:
    """The toolchain's own words about its version (first line), or '' when it says nothing."""
    lang = language_table()[lang_id]
    try:
        done = subprocess.run(list(lang.version), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else ""


def entry_point(lang: Language, files: Mapping[str, str], problem_id: str = "") -> tuple[str, str]:
    """(main file, entry name) for a submission's files, by the language's rule.

    Raises ValueError saying why when no single entry point can be told.
    """
    sources = sorted(n for n in files if Path(n).suffix.lower() in lang.extensions or not lang.extensions)
    if lang.entry == "binary":
        return (sources[0] if sources else "", "prog")
    if lang.entry == "python":
        py = sorted(n for n in files if n.endswith((".py", ".py3")))
        if len(py) == 1:
            return py[0], Path(py[0]).stem
        for name in ("main.py", "__main__.py", f"{problem_id}.py"):
            if name in files:
                return name, Path(name).stem
        raise ValueError(f"cannot tell the main file among {py}: name one main.py (or {problem_id}.py)")
    if lang.entry == "java":
        mains = [n for n in sources if re.search(r"\bstatic\s+(public\s+)?void\s+main\s*\(", files[n])]
        main = _only(mains, sources, "a class with public static void main", problem_id, ".java")
        package = re.search(r"^\s*package\s+([\w.]+)\s*;", files[main], re.M)
        cls = Path(main).stem
        return main, f"{package.group(1)}.{cls}" if package else cls
    if lang.entry == "kotlin":
        mains = [n for n in sources if re.search(r"\bfun\s+main\s*\(", files[n])]
        main = _only(mains, sources, "a file with fun main", problem_id, ".kt")
        stem = Path(main).stem
        return main, stem[:1].upper() + stem[1:] + "Kt"
    patterns = {"haskell": r"^main\s*(::|=)", "rust": r"\bfn\s+main\s*\(", "go": r"\bfunc\s+main\s*\("}
    pattern = patterns.get(lang.entry)
    mains = [n for n in sources if pattern and re.search(pattern, files[n], re.M)] if pattern else []
    main = _only(mains or sources, sources, f"a {lang.name} main", problem_id, lang.extensions[0])
    return main, Path(main).stem


def _only(candidates: list[str], sources: list[str], what: str, problem_id: str, ext: str) -> str:
    if len(candidates) == 1:
        return candidates[0]
    for name in (f"{problem_id}{ext}", f"Main{ext}", f"main{ext}"):
        if name in candidates:
            return name
    found = candidates or sources
    raise ValueError(f"cannot tell the entry point ({what}) among {found}")
