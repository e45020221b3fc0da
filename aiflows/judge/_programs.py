"""Turn submitted source into something runnable: Python as is, C and C++ compiled (sandboxed).

Each submission gets a folder of its own under the judge's programs dir, named by a keyed hash
of its code (the same code is compiled only once). A running program must not find the others
(they hold other people's code): the dir is not listable by the runs' uids, the key is random
per process, so a folder's name cannot be derived from its code, and an exec'd program's argv[0]
does not name its folder. The compiler runs in the same sandbox as the programs, with the same
problem data hidden, seeing only the submission's own files and the toolchain.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import threading
import traceback
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


FOLDER_KEY = os.urandom(32)  # names of program folders cannot be computed from their code
EXEC_ARGV0 = "prog"  # what an exec'd program sees as argv[0] (and other runs in /proc/PID/cmdline)
MAX_SYNTAX_CHECK = 4 << 20  # characters: larger Python sources are left for the run to reject
COMPILE_LIMITS = Limits(cpu_s=30, wall_s=60, memory_mb=2048, processes=64, output_mb=64, file_mb=256)


class Built(BaseModel):
    """A program ready to run, or the compiler's complaint."""

    program_mode: str = "python"
    path: str = ""  # inside the sandbox
    argv: list[str] = []
    host_dir: Path | None = None
    compile_error: str | None = None

    def program(self, fresh_python: bool = False) -> Program:
        folder = self.host_dir.name if self.host_dir is not None else None
        if self.program_mode == "python" and fresh_python:
            return Program("exec", python_executable(), [python_executable(), self.path], folder=folder)
        argv = self.argv or [EXEC_ARGV0 if self.program_mode == "exec" else self.path]
        return Program(self.program_mode, self.path, argv, folder=folder)


def normalize_language(language: str) -> str:
    """'Python3' -> 'python', 'C++' -> 'cpp'; raise ValueError for what we cannot run."""
    key = language.strip().lower()
    if key not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}: use one of python, c, cpp")
    return LANGUAGES[key]


def _digest(language: str, files: Mapping[str, str], hidden: tuple[str, ...]) -> str:
    """The folder's name: keyed, and per set of hidden data (a binary built where some problem's
    data was visible must not be reused where it is hidden)."""
    h = hmac.new(FOLDER_KEY, language.encode(), hashlib.sha256)
    for name in sorted(files):
        h.update(b"\0" + name.encode() + b"\0" + files[name].encode())
    for path in hidden:
        h.update(b"\1" + path.encode())
    return h.hexdigest()[:32]


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
    folder = programs_dir / _digest(lang, files, view.hidden if view is not None else ())
    with locks.get(folder.name):
        return _build(lang, files, folder, view=view, uid=uid)


def _build(lang: str, files: dict[str, str], folder: Path, *, view: SandboxView | None, uid: int | None) -> Built:
    inside = f"{PROGRAMS_IN_SANDBOX}/{folder.name}"
    if lang == "python":
        main = _python_main(files)
        if not folder.exists():  # written only once its files parse: a folder is a checked program
            error = _python_syntax_error(files)
            if error is not None:  # a compile error, as the reference judges report it: no test runs
                return Built(compile_error=error, host_dir=folder)
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


def _python_syntax_error(files: Mapping[str, str]) -> str | None:
    """Python's own message for the first file that does not parse (compiled, never run)."""
    for name in sorted(files):
        if not name.endswith((".py", ".py3")) or len(files[name]) > MAX_SYNTAX_CHECK:
            continue
        try:
            compile(files[name], name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte in the source
            return "".join(traceback.format_exception_only(exc)).rstrip()
        except (RecursionError, MemoryError):  # too deep to check here: the run will say
            continue
    return None


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
