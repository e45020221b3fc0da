"""Custom output validators (and interactors): build once, run as Kattis specifies.

A validator is run as `validator input answer feedback_dir [flags] < program_output` and
answers with exit 42 (accept) or 43 (reject); `judgemessage.txt` / `teammessage.txt` in the
feedback dir say why. Validators come with the problem package, and a package may come from
anyone: they are built and run in the sandbox (see `_validator_sandbox`), from a copy of their
folder, seeing only their own files and the one test they judge.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from aiflows.judge._errors import ValidatorError
from aiflows.judge._sandbox import python_executable
from aiflows.judge._validator_sandbox import BUILD_LIMITS, HOME, UNSANDBOXED, ValidatorSandbox, read_written
from aiflows.problems.constants import substitute_bytes

__all__ = ["ACCEPT", "REJECT", "Validator", "build_in_sandbox", "build_validator", "copy_source", "read_feedback"]

ACCEPT, REJECT = 42, 43
C_SUFFIXES = {".c"}
CPP_SUFFIXES = {".cc", ".cpp", ".cxx", ".c++"}
BUILD_TIMEOUT_S = BUILD_LIMITS.wall_s
READY = "ready"  # marks a cache folder whose build finished
# how sources are built: part of the cache key, so a change of flags builds again
BUILD_RECIPE = "g++ -O2 -std=gnu++20 | gcc -O2 -std=gnu17 -lm | v2"


class Validator(BaseModel):
    """A built validator: the command to run before its three arguments (host paths), the
    folder it was built in (bound at `/validator` in the sandbox), and how to call it (Kattis,
    or Code Jam's own conventions: see `_codejam`)."""

    argv: list[str]
    source: Path
    home: Path | None = None
    protocol: Literal["kattis", "codejam", "codejam-status"] = "kattis"


def build_validator(
    problem_id: str,
    source: Path,
    cache_dir: Path,
    *,
    sandbox: ValidatorSandbox = UNSANDBOXED,
    constants: Mapping[str, Any] | None = None,
) -> Validator:
    """Compile (C/C++, with the folder on the include path for validate.h / testlib.h) or wrap
    (Python, build/run scripts) the validator at `source`, in `sandbox`, with problem.yaml's
    `{{constants}}` substituted in its sources. Built once per content: the folder under
    `cache_dir` is named by a hash of the sources, the constants and the build recipe, so it is
    reused across runs and processes; a lock file lets one process build while others wait.

    Raises:
        ValidatorError: naming the problem and file when it is missing or does not build.
    """
    if not source.exists():
        raise ValidatorError(problem_id, "the output validator does not exist", file=source)
    folder = _descend(source)
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise ValidatorError(problem_id, "the validator folder is empty", file=source)
    digest = hashlib.sha256(BUILD_RECIPE.encode() + b"\0")
    digest.update(json.dumps(dict(constants or {}), sort_keys=True, default=str).encode() + b"\0")
    for f in files:
        digest.update(str(f.relative_to(folder.parent)).encode() + b"\0" + f.read_bytes())
    out = cache_dir / digest.hexdigest()[:24]
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(out.with_suffix(".lock")):
        return _build(problem_id, source, folder, files, out, sandbox, dict(constants or {}))


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (a file beside the build folder), held across processes."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _build(
    problem_id: str,
    source: Path,
    folder: Path,
    files: list[Path],
    out: Path,
    sandbox: ValidatorSandbox,
    constants: dict[str, Any],
) -> Validator:
    src = out / "src"
    names = {f.name for f in files}
    if folder.is_dir() and {"build", "run"} <= names:
        return _build_scripted(problem_id, folder, out, sandbox, constants)
    cpp = [f for f in files if f.suffix.lower() in CPP_SUFFIXES]
    c = [f for f in files if f.suffix.lower() in C_SUFFIXES]
    py = [f for f in files if f.suffix == ".py"]
    if cpp or c:
        return _compile(problem_id, folder, cpp or c, "g++" if cpp else "gcc", out, sandbox, constants)
    if py:
        main = (
            py[0] if len(py) == 1 else next((f for f in py if f.stem in ("validate", "validator", "interactor")), None)
        )
        if main is None:
            raise ValidatorError(
                problem_id, f"cannot tell which of {[p.name for p in py]} is the validator", file=folder
            )
        _fresh_copy(folder, out, sandbox, constants)
        return Validator(argv=[python_executable(), str(src / _inside(main, folder))], source=main, home=out)
    scripts = [f for f in files if f.suffix == ".sh"]
    if len(scripts) == 1:  # a shell script (packages often lose the executable bit)
        _fresh_copy(folder, out, sandbox, constants)
        return Validator(argv=["bash", str(src / _inside(scripts[0], folder))], source=scripts[0], home=out)
    runnable = [f for f in files if os.access(f, os.X_OK)]
    if len(runnable) == 1:
        _fresh_copy(folder, out, sandbox, constants)
        return Validator(argv=[str(src / _inside(runnable[0], folder))], source=runnable[0], home=out)
    raise ValidatorError(problem_id, "no C, C++, Python or shell source in the validator", file=source)


def _descend(source: Path) -> Path:
    """`output_validators/` holding a single validator folder means that folder."""
    while source.is_dir():
        entries = [p for p in source.iterdir() if not p.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir():
            source = entries[0]
        else:
            break
    return source


def _inside(path: Path, folder: Path) -> str:
    """`path`'s name under the copy of `folder` (a single-file validator is copied alone)."""
    return path.name if folder.is_file() else str(path.relative_to(folder))


def copy_source(folder: Path, out: Path, sandbox: ValidatorSandbox, constants: Mapping[str, Any] | None = None) -> Path:
    """Copy the validator's folder (or single file) to `out/src`, symlinks as symlinks (followed,
    they would copy whatever host file they name), `{{constants}}` substituted, owned by the
    sandbox's uid; returns `out/src`."""
    shutil.rmtree(out, ignore_errors=True)
    src = out / "src"
    if folder.is_dir():
        shutil.copytree(folder, src, symlinks=True)
    else:
        src.mkdir(parents=True)
        shutil.copy2(folder, src / folder.name)
    if constants:
        for path in src.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                done = substitute_bytes(data, constants)
                if done != data:
                    path.write_bytes(done)
    _writable(out)
    sandbox.own(out)
    return src


def _writable(folder: Path) -> None:
    """Packages are often read-only; the build writes next to its sources (in the copy)."""
    for root, _dirs, files in os.walk(folder):
        os.chmod(root, os.stat(root).st_mode | 0o755)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o644)


def _fresh_copy(folder: Path, out: Path, sandbox: ValidatorSandbox, constants: dict[str, Any]) -> None:
    if not (out / READY).exists():
        copy_source(folder, out, sandbox, constants)
        (out / READY).touch()


def build_in_sandbox(
    problem_id: str, cmd: list[str], out: Path, sandbox: ValidatorSandbox, *, what: str, file: Path
) -> str | None:
    """Run a build command, written with sandbox paths (HOME for `out`), in `out/src` with `out`
    writable; None when it worked, else its output. One that runs too long raises ValidatorError."""
    done = sandbox.run(
        _host(cmd, out, sandbox), BUILD_LIMITS, capture=True, home=(out, True), cwd=(out / "src", f"{HOME}/src")
    )
    if done.timed_out:
        raise ValidatorError(problem_id, f"{what} took over {BUILD_TIMEOUT_S:g} s", file=file)
    if done.code == 0:
        return None
    return done.output.decode(errors="replace").strip() or f"it ended with {done.code or f'signal {done.signal}'}"


def _host(cmd: list[str], out: Path, sandbox: ValidatorSandbox) -> list[str]:
    """A command written with sandbox paths (under HOME), named for where it runs."""
    if sandbox.sandboxed:
        return cmd
    return [str(out) + a[len(HOME) :] if a == HOME or a.startswith(HOME + "/") else a for a in cmd]


def _compile(
    problem_id: str,
    folder: Path,
    sources: list[Path],
    compiler: str,
    out: Path,
    sandbox: ValidatorSandbox,
    constants: dict[str, Any],
) -> Validator:
    exe = out / "validator"
    validator = Validator(argv=[str(exe)], source=sources[0], home=out)
    if (out / READY).exists():
        return validator
    copy_source(folder, out, sandbox, constants)
    std = "-std=gnu++20" if compiler == "g++" else "-std=gnu17"
    names = [f"{HOME}/src/{_inside(s, folder)}" for s in sources]
    cmd = [compiler, "-O2", std, "-I", f"{HOME}/src", *names, "-o", f"{HOME}/validator"]
    if compiler == "gcc":
        cmd.append("-lm")
    err = build_in_sandbox(problem_id, cmd, out, sandbox, what="compiling the validator", file=sources[0])
    if err is not None:
        raise ValidatorError(problem_id, f"the validator does not compile:\n{err[-3000:]}", file=sources[0])
    (out / READY).touch()
    return validator


def _build_scripted(
    problem_id: str, folder: Path, out: Path, sandbox: ValidatorSandbox, constants: dict[str, Any]
) -> Validator:
    """Kattis `build` + `run` scripts: build in a copy of the folder, then `run` is the validator."""
    validator = Validator(argv=["sh", str(out / "src" / "run")], source=folder / "run", home=out)
    if (out / READY).exists():
        return validator
    copy_source(folder, out, sandbox, constants)
    err = build_in_sandbox(
        problem_id, ["sh", "build"], out, sandbox, what="the validator's build script", file=folder / "build"
    )
    if err is not None:
        raise ValidatorError(problem_id, f"the validator's build script failed:\n{err[-3000:]}", file=folder / "build")
    (out / READY).touch()
    return validator


def read_feedback(feedback_dir: Path, limit: int = 2000) -> str:
    """What the validator wrote for people (`judgemessage.txt`, `teammessage.txt`); a link or
    anything but a plain file there is ignored."""
    parts = []
    for name in ("judgemessage.txt", "teammessage.txt"):
        data = read_written(feedback_dir / name, limit * 4)
        if data:
            text = data.decode(errors="replace").strip()
            if text:
                parts.append(text[:limit])
    return "\n".join(parts)
