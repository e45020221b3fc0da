"""Turn submitted source into something runnable: Python as is, C and C++ compiled (sandboxed).

Each submission gets a content-addressed folder under the judge's programs dir, which the
sandbox sees read-only at /judge/programs; the same code is compiled only once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from aiflows.judge._direct import run_direct
from aiflows.judge._forkserver import PROGRAMS_IN_SANDBOX, Program
from aiflows.judge._models import Limits
from aiflows.judge._sandbox import SandboxView, python_executable

__all__ = ["LANGUAGES", "Built", "KeyedLocks", "build_program", "normalize_language"]

LANGUAGES = {
    "python": "python",
    "python3": "python",
    "py": "python",
    "py3": "python",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cc": "cpp",
    "cxx": "cpp",
}
SUFFIXES = {".py": "python", ".py3": "python", ".c": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp"}
COMPILERS = {
    "c": ["gcc", "-x", "c", "-O2", "-std=gnu17", "-pipe"],
    "cpp": ["g++", "-x", "c++", "-O2", "-std=gnu++20", "-pipe"],
}


class KeyedLocks:
    """One lock per program folder, so the same code is never compiled twice at once."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


COMPILE_LIMITS = Limits(cpu_s=30, wall_s=60, memory_mb=2048, processes=64, output_mb=64, file_mb=256)


class Built(BaseModel):
    """A program ready to run, or the compiler's complaint."""

    program_mode: str = "python"
    path: str = ""  # inside the sandbox
    argv: list[str] = []
    host_dir: Path | None = None
    compile_error: str | None = None

    def program(self, fresh_python: bool = False) -> Program:
        if self.program_mode == "python" and fresh_python:
            return Program("exec", python_executable(), [python_executable(), self.path])
        return Program(self.program_mode, self.path, self.argv or [self.path])


def normalize_language(language: str) -> str:
    """'Python3' -> 'python', 'C++' -> 'cpp'; raise ValueError for what we cannot run."""
    key = language.strip().lower()
    if key not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: use one of python, c, cpp")
    return LANGUAGES[key]


def _digest(language: str, files: Mapping[str, str]) -> str:
    h = hashlib.sha256(language.encode())
    for name in sorted(files):
        h.update(b"\0" + name.encode() + b"\0" + files[name].encode())
    return h.hexdigest()[:24]


def build_program(
    code: str | Mapping[str, str],
    language: str,
    programs_dir: Path,
    *,
    view: SandboxView | None,
    uid: int | None,
    locks: KeyedLocks,
) -> Built:
    """Write the source into its folder and compile it when the language needs it.

    `code` is one source text, or a mapping file name -> text (multi-file C/C++ submissions;
    every .c/.cc/.cpp file is compiled, headers are found next to them).
    """
    lang = normalize_language(language)
    files = dict(code) if isinstance(code, Mapping) else {_default_name(lang): code}
    folder = programs_dir / _digest(lang, files)
    with locks.get(folder.name):
        return _build(lang, files, folder, view=view, uid=uid)


def _build(lang: str, files: dict[str, str], folder: Path, *, view: SandboxView | None, uid: int | None) -> Built:
    inside = f"{PROGRAMS_IN_SANDBOX}/{folder.name}"
    if lang == "python":
        main = _python_main(files)
        if not folder.exists():
            _write(folder, files)
        return Built(program_mode="python", path=f"{inside}/{main}", host_dir=folder)
    binary = folder / "prog"
    if binary.exists():
        return Built(program_mode="exec", path=f"{inside}/prog", host_dir=folder)
    log_file = folder / "compile.log"
    if log_file.exists() and not binary.exists():
        return Built(compile_error=log_file.read_text(errors="replace"), host_dir=folder)
    _write(folder, files)
    sources = [n for n in sorted(files) if Path(n).suffix.lower() in (".c", ".cc", ".cpp", ".cxx", ".c++")]
    if not sources:
        return Built(compile_error=f"no {lang} source file among {sorted(files)}", host_dir=folder)
    error = _compile(lang, folder, sources, view=view, uid=uid)
    if error is not None:
        log_file.write_text(error)
        return Built(compile_error=error, host_dir=folder)
    return Built(program_mode="exec", path=f"{inside}/prog", host_dir=folder)


def _default_name(lang: str) -> str:
    return {"python": "main.py", "c": "main.c", "cpp": "main.cpp"}[lang]


def _python_main(files: Mapping[str, str]) -> str:
    py = [n for n in files if n.endswith((".py", ".py3"))]
    if len(py) == 1:
        return py[0]
    for name in ("main.py", "__main__.py"):
        if name in files:
            return name
    raise ValueError(f"cannot tell the main file among {sorted(py)}: name one main.py")


def _write(folder: Path, files: Mapping[str, str]) -> None:
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, text in files.items():
        target = tmp / name
        if target.resolve().parent != tmp.resolve() and tmp.resolve() not in target.resolve().parents:
            raise ValueError(f"submission file name {name!r} leaves its folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(0o644)
    tmp.chmod(0o755)
    try:
        tmp.rename(folder)
    except OSError:  # another thread wrote the same content first
        shutil.rmtree(tmp, ignore_errors=True)


def _compile(lang: str, folder: Path, sources: list[str], *, view: SandboxView | None, uid: int | None) -> str | None:
    """Compile in a fresh sandbox that sees the sources read-only and one writable out dir."""
    out = folder / "build"
    out.mkdir(exist_ok=True)
    if uid is not None and os.geteuid() == 0:
        os.chown(out, uid, uid)
    src_in, out_in = ("/judge/src", "/judge/out") if view is not None else (str(folder), str(out))
    if view is not None:
        view = view.model_copy(
            update={"ro_binds": (*view.ro_binds, (str(folder), src_in)), "rw_binds": ((str(out), out_in),)}
        )
    argv = [*COMPILERS[lang], "-I", src_in, *(f"{src_in}/{s}" for s in sources), "-o", f"{out_in}/prog"]
    if lang == "c":
        argv.append("-lm")
    log = folder / "compile.stderr"
    with open(os.devnull, "rb") as devnull, open(log, "wb") as err:
        result = run_direct(
            argv,
            COMPILE_LIMITS,
            stdin=devnull.fileno(),
            stdout=err.fileno(),
            stderr=err.fileno(),
            view=view,
            uid=uid,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": "/tmp", "LANG": "C.UTF-8"},
            cwd="/tmp" if view is not None else str(out),
        )
    text = log.read_text(errors="replace")[-8000:]
    if result.timed_out:
        return f"compilation took longer than {COMPILE_LIMITS.wall_s:g} s\n{text}"
    if not result.ok or not (out / "prog").exists():
        return text or f"the compiler failed (exit {result.exit_code}, signal {result.signal})"
    shutil.move(str(out / "prog"), folder / "prog")
    (folder / "prog").chmod(0o755)
    shutil.rmtree(out, ignore_errors=True)
    return None
