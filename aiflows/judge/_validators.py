"""Custom output validators (and interactors): build once, run as Kattis specifies.

A validator is run as `validator input answer feedback_dir [flags] < program_output` and
answers with exit 42 (accept) or 43 (reject); `judgemessage.txt` / `teammessage.txt` in the
feedback dir say why. Validators come from the problem's authors, so they are trusted: they
run outside the program sandbox, but with a wall-clock limit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from aiflows.judge._errors import ValidatorError

__all__ = ["ACCEPT", "REJECT", "Validator", "build_validator", "read_feedback"]

ACCEPT, REJECT = 42, 43
C_SUFFIXES = {".c"}
CPP_SUFFIXES = {".cc", ".cpp", ".cxx", ".c++"}
BUILD_TIMEOUT_S = 120


class Validator(BaseModel):
    """A built validator: the command to run before its three arguments, and how to call it
    (Kattis, or Code Jam's own conventions: see `_codejam`)."""

    argv: list[str]
    source: Path
    protocol: Literal["kattis", "codejam", "codejam-status"] = "kattis"


def build_validator(problem_id: str, source: Path, cache_dir: Path) -> Validator:
    """Compile (C/C++, with the folder on the include path for validate.h / testlib.h) or wrap
    (Python, build/run scripts) the validator at `source`; cached by content. Not thread-safe
    for one `cache_dir`: the Judge builds under its lock.

    Raises:
        ValidatorError: naming the problem and file when it is missing or does not build.
    """
    if not source.exists():
        raise ValidatorError(problem_id, "the output validator does not exist", file=source)
    folder = _descend(source)
    files = [folder] if folder.is_file() else sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise ValidatorError(problem_id, "the output validator folder is empty", file=source)
    digest = hashlib.sha256()
    for f in files:
        digest.update(str(f.relative_to(folder.parent)).encode() + b"\0" + f.read_bytes())
    out = cache_dir / digest.hexdigest()[:24]
    names = {f.name for f in files}
    if folder.is_dir() and {"build", "run"} <= names:
        return _build_scripted(problem_id, folder, out)
    cpp = [f for f in files if f.suffix.lower() in CPP_SUFFIXES]
    c = [f for f in files if f.suffix.lower() in C_SUFFIXES]
    py = [f for f in files if f.suffix == ".py"]
    if cpp or c:
        return _compile(problem_id, folder, cpp or c, "g++" if cpp else "gcc", out)
    if py:
        main = (
            py[0] if len(py) == 1 else next((f for f in py if f.stem in ("validate", "validator", "interactor")), None)
        )
        if main is None:
            raise ValidatorError(
                problem_id, f"cannot tell which of {[p.name for p in py]} is the validator", file=folder
            )
        return Validator(argv=[sys.executable, str(main)], source=main)
    runnable = [f for f in files if os.access(f, os.X_OK)]
    if len(runnable) == 1:
        return Validator(argv=[str(runnable[0])], source=runnable[0])
    raise ValidatorError(problem_id, "no C, C++ or Python source in the output validator", file=source)


def _descend(source: Path) -> Path:
    """`output_validators/` holding a single validator folder means that folder."""
    while source.is_dir():
        entries = [p for p in source.iterdir() if not p.name.startswith(".")]
        if len(entries) == 1 and entries[0].is_dir():
            source = entries[0]
        else:
            break
    return source


def _compile(problem_id: str, folder: Path, sources: list[Path], compiler: str, out: Path) -> Validator:
    exe = out / "validator"
    if exe.exists():
        return Validator(argv=[str(exe)], source=sources[0])
    out.mkdir(parents=True, exist_ok=True)
    include = folder if folder.is_dir() else folder.parent
    std = "-std=gnu++20" if compiler == "g++" else "-std=gnu17"
    cmd = [compiler, "-O2", std, "-I", str(include), *map(str, sources), "-o", str(exe) + ".tmp"]
    if compiler == "gcc":
        cmd.append("-lm")
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=BUILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ValidatorError(
            problem_id, f"compiling the output validator took over {BUILD_TIMEOUT_S} s", file=sources[0]
        ) from None
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip()[-3000:]
        raise ValidatorError(problem_id, f"the output validator does not compile:\n{err}", file=sources[0])
    os.replace(str(exe) + ".tmp", exe)
    return Validator(argv=[str(exe)], source=sources[0])


def _build_scripted(problem_id: str, folder: Path, out: Path) -> Validator:
    """Kattis `build` + `run` scripts: build in a copy of the folder, then `run` is the validator."""
    work = out / "src"
    if not (out / "built").exists():
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(folder, work)
        try:
            done = subprocess.run(["sh", "build"], cwd=work, capture_output=True, timeout=BUILD_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ValidatorError(problem_id, "the validator's build script timed out", file=folder / "build") from None
        if done.returncode != 0:
            err = (done.stdout + done.stderr).decode(errors="replace").strip()[-3000:]
            raise ValidatorError(problem_id, f"the validator's build script failed:\n{err}", file=folder / "build")
        (out / "built").touch()
    return Validator(argv=["sh", str(work / "run")], source=folder / "run")


def read_feedback(feedback_dir: Path, limit: int = 2000) -> str:
    parts = []
    for name in ("judgemessage.txt", "teammessage.txt"):
        f = feedback_dir / name
        if f.exists():
            text = f.read_text(errors="replace").strip()
            if text:
                parts.append(text[:limit])
    return "\n".join(parts)
