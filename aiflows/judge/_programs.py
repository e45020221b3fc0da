"""Turn submitted source into something runnable, by the language table (`languages.yaml`):
interpreted languages as they are, compiled ones built in the sandbox.

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
import re
import shutil
import threading
import traceback
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from aiflows.judge._direct import run_direct
from aiflows.judge._forkserver import PROGRAMS_IN_SANDBOX, Program
from aiflows.judge._languages import Language, by_extension, entry_point, language_table, resolve_language
from aiflows.judge._models import Limits
from aiflows.judge._sandbox import SandboxView, python_executable

__all__ = ["SUFFIXES", "Built", "KeyedLocks", "build_program", "normalize_language"]

SUFFIXES = by_extension()  # file suffix -> language id (the table's extensions)


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
# file_mb: a build writes programs with large initialised static arrays (a 512 MiB table is a
# 512 MiB binary); processes: javac, go build and kotlinc run many threads
COMPILE_LIMITS = Limits(cpu_s=60, wall_s=90, memory_mb=2048, processes=256, output_mb=64, file_mb=4096)
COMPILE_TMP_MB = 4096  # the build's /tmp: an assembler writes a 512 MiB static array's object there
COMPILE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "HOME": "/tmp"}
COMPILE_ENV |= {"GOCACHE": "/tmp/go-cache", "GOPATH": "/tmp/go", "GO111MODULE": "off"}
JVM_MAX_STACK_MB = 1024  # the JVM refuses a larger -Xss


class Built(BaseModel):
    """A program ready to run, or the compiler's complaint."""

    program_mode: str = "python"
    path: str = ""  # inside the sandbox
    argv: list[str] = []
    env: dict[str, str] = {}
    language: str = "python"
    host_dir: Path | None = None
    compile_error: str | None = None

    def program(self, fresh_python: bool = False, memory_mb: int = 1024) -> Program:
        folder = self.host_dir.name if self.host_dir is not None else None
        if self.program_mode == "python" and fresh_python:
            return Program("exec", python_executable(), [python_executable(), self.path], folder=folder)
        if self.program_mode == "python":
            return Program("python", self.path, [self.path], folder=folder)
        lang = language_table()[self.language]
        # the JVM's heap is the memory limit, as Kattis sets it (no RLIMIT_AS: see languages.yaml)
        sizes = {"memory_mb": memory_mb, "heap_mb": memory_mb, "stack_mb": min(memory_mb, JVM_MAX_STACK_MB)}
        argv = [a.format_map(sizes) if "_mb}" in a else a for a in self.argv] or [EXEC_ARGV0]
        env = {k: v.format_map(sizes) if "_mb}" in v else v for k, v in self.env.items()}
        return Program("exec", self.path, argv, folder=folder, env=env, address_space=lang.address_space)


def normalize_language(language: str) -> str:
    """'Python3' -> 'python', 'C++' -> 'cpp', 'Java' -> 'java'; `UnsupportedLanguage` (a ValueError)
    for a language the table does not know or whose toolchain is not installed."""
    return resolve_language(language).id


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
    problem_id: str = "",
) -> Built:
    """Write the source into its folder and compile it when the language needs it.

    `code` is one source text, or a mapping file name -> text (multi-file submissions; the
    entry point is found by the language's rule, see languages.yaml).
    """
    lang = resolve_language(language)
    files = dict(code) if isinstance(code, Mapping) else {_default_name(lang, code): code}
    folder = programs_dir / _digest(lang.id, files, view.hidden if view is not None else ())
    with locks.get(folder.name):
        return _build(lang, files, folder, view=view, uid=uid, problem_id=problem_id)


def _build(
    lang: Language, files: dict[str, str], folder: Path, *, view: SandboxView | None, uid: int | None, problem_id: str
) -> Built:
    inside = f"{PROGRAMS_IN_SANDBOX}/{folder.name}"
    try:
        main, entry = entry_point(lang, files, problem_id)
    except ValueError as exc:  # no entry point: the submission cannot be built, as a compiler would say
        return Built(compile_error=str(exc), host_dir=folder, language=lang.id)
    if lang.entry == "python" and not folder.exists():  # written only once its files parse
        error = _python_syntax_error(files)
        if error is not None:  # a compile error, as the reference judges report it: no test runs
            return Built(compile_error=error, host_dir=folder, language=lang.id)
    if lang.id == "python":  # the warm fork server's own interpreter runs it
        if not folder.exists():
            _write(folder, files)
        return Built(program_mode="python", path=f"{inside}/{main}", host_dir=folder, language=lang.id)
    if not lang.compiled:
        if not folder.exists():
            _write(folder, files)
        return _runnable(lang, inside, main, entry, folder)
    log_file = folder / "compile.log"
    if (folder / "bin").is_dir():
        return _runnable(lang, f"{inside}/bin", main, entry, folder)
    if log_file.exists():
        return Built(compile_error=log_file.read_text(errors="replace"), host_dir=folder, language=lang.id)
    _write(folder, files)
    sources = [n for n in sorted(files) if Path(n).suffix.lower() in lang.extensions]
    if not sources:
        return Built(compile_error=f"no {lang.name} source file among {sorted(files)}", host_dir=folder)
    error = _compile(lang, folder, sources, main, entry, view=view, uid=uid)
    if error is not None:
        log_file.write_text(error)
        return Built(compile_error=error, host_dir=folder, language=lang.id)
    return _runnable(lang, f"{inside}/bin", main, entry, folder)


def _runnable(lang: Language, run_dir: str, main: str, entry: str, folder: Path) -> Built:
    """The run command, placeholders filled but the limits' ({memory_mb} ..., see Built.program)."""
    values = {"dir": run_dir, "main": main, "entry": entry}
    argv = [_fill(a, values) for a in lang.run]
    env = {k: _fill(v, values) for k, v in lang.env.items()}
    if argv[0] == f"{run_dir}/prog":  # a binary: argv[0] does not name the folder
        argv[0] = EXEC_ARGV0
        return Built(program_mode="exec", path=f"{run_dir}/prog", argv=argv, env=env, host_dir=folder, language=lang.id)
    exe = shutil.which(argv[0], path="/usr/local/bin:/usr/bin:/bin")
    if exe is None:  # resolve_language found it when the judgement began: it was removed since
        return Built(compile_error=f"{argv[0]} is not installed", host_dir=folder, language=lang.id)
    return Built(program_mode="exec", path=exe, argv=argv, env=env, host_dir=folder, language=lang.id)


def _fill(arg: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders we know now; the limits' ones stay for `Built.program`."""
    for key, value in values.items():
        arg = arg.replace("{" + key + "}", value)
    return arg


def _default_name(lang: Language, code: str) -> str:
    if lang.entry == "java":  # javac wants the public class's name; java, the class holding main
        found = re.search(r"\bpublic\s+(?:final\s+|abstract\s+)*class\s+(\w+)", code)
        if found is None:  # no public class: the last class declared before main
            main = re.search(r"\bstatic\s+(?:public\s+)?void\s+main\s*\(", code)
            before = code[: main.start()] if main else code
            found = next(reversed(list(re.finditer(r"\bclass\s+(\w+)", before))), None)
        return f"{found.group(1) if found else 'Main'}.java"
    if lang.entry == "python":
        return "main.py"
    return f"main{lang.extensions[0]}" if lang.extensions else "main"


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


def _compile(
    lang: Language,
    folder: Path,
    sources: list[str],
    main: str,
    entry: str,
    *,
    view: SandboxView | None,
    uid: int | None,
) -> str | None:
    """Compile in a fresh sandbox that sees the sources read-only and one writable out dir."""
    assert lang.compile is not None
    out = folder / "build"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    if uid is not None and os.geteuid() == 0:
        os.chown(out, uid, uid)
    src_in, out_in = ("/judge/src", "/judge/out") if view is not None else (str(folder), str(out))
    if view is not None:
        binds = {"ro_binds": (*view.ro_binds, (str(folder), src_in)), "rw_binds": ((str(out), out_in),)}
        view = view.model_copy(update=binds | {"tmp_size_mb": max(view.tmp_size_mb, COMPILE_TMP_MB)})
    values = {"src": src_in, "out": out_in, "main": main, "entry": entry}
    argv: list[str] = []
    for arg in lang.compile:
        argv += [f"{src_in}/{s}" for s in sources] if arg == "{sources}" else [_fill(arg, values)]
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
            env=COMPILE_ENV,
            cwd="/tmp" if view is not None else str(out),
            address_space=lang.address_space,
        )
    text = log.read_text(errors="replace")[-8000:]
    if result.timed_out:
        return f"compilation took longer than {COMPILE_LIMITS.wall_s:g} s\n{text}"
    produced = (out / "prog").exists() if lang.run[0] == "{dir}/prog" else any(out.iterdir())
    if not result.ok or not produced:
        return text or f"the compiler failed (exit {result.exit_code}, signal {result.signal})"
    for path in [out, *out.rglob("*")]:  # readable by every run's uid, writable by none
        path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        if uid is not None and os.geteuid() == 0:
            os.chown(path, 0, 0)
    out.rename(folder / "bin")
    return None
