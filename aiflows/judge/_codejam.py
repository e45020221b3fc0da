"""Code Jam judges, run with Code Jam's own protocol.

A Code Jam judge is called as `judge INPUT ATTEMPT ANSWER` and accepts with exit code 0;
any other exit rejects, with the reason on stdout/stderr. A few C++ judges take a fourth
argument, a status file, and always exit 0: they write `status: VALID` or `status: INVALID`
plus `status_message: '...'` there. A message that says `JUDGE_ERROR` (or blames the
reference answer) is the judge's own failure, so it becomes JE, never WA.

Python 2 judges are converted once, mechanically (see `_py2`). When the judge ships its own
self-test (`judge -2`), the converted judge must pass it before it is used. C++ judges are
compiled once per problem and cached; Java and Go judges are built when their toolchain is installed. A judge
that cannot be made to run raises `ValidatorError` naming the file and why. Judges are problem
code: they are built and run in the sandbox (see `_validator_sandbox`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from aiflows.judge._errors import ValidatorError
from aiflows.judge._models import Verdict
from aiflows.judge._py2 import convert_python2, looks_like_python2
from aiflows.judge._sandbox import python_executable
from aiflows.judge._validator_sandbox import (
    ANSWER,
    ATTEMPT,
    FEEDBACK,
    HOME,
    INPUT,
    UNSANDBOXED,
    ValidatorSandbox,
    read_written,
    run_limits,
)
from aiflows.judge._validators import CPP_SUFFIXES, READY, Validator, build_in_sandbox, copy_source
from aiflows.problems.model import Problem

__all__ = [
    "CRASH_EXIT",
    "CodeJamOutcome",
    "build_codejam_validator",
    "is_codejam_validator",
    "run_codejam_validator",
]

Protocol = Literal["codejam", "codejam-status"]
CRASH_EXIT = 86  # the Python runner's exit code for an uncaught exception in the judge
SELF_TEST_TIMEOUT_S = 120
_SELF_TEST = re.compile(r"""argv\[1\]\s*==\s*['"]-2['"]|string\(argv\[1\]\)\s*==\s*"-2\"""")
_JUDGE_FAULT = re.compile(r"JUDGE_ERROR|^\s*Invalid generator output file", re.MULTILINE)

# Runs the judge as __main__; an uncaught exception is the judge crashing, not a rejection.
_RUNNER = f"""\
import runpy, sys, traceback
path = sys.argv.pop(1)
sys.argv[0] = path
try:
    runpy.run_path(path, run_name="__main__")
except SystemExit:
    raise
except BaseException:
    traceback.print_exc()
    sys.exit({CRASH_EXIT})
"""


class CodeJamOutcome(BaseModel):
    """What a Code Jam judge said about one attempt."""

    verdict: Verdict  # AC, WA or JE
    message: str = ""


def is_codejam_validator(problem: Problem) -> bool:
    """Code Jam packages say so in their metadata (set by the Code Jam loader)."""
    return str(problem.metadata.get("validator_protocol", "")).startswith("codejam")


def build_codejam_validator(problem: Problem, cache_dir: Path, *, sandbox: ValidatorSandbox = UNSANDBOXED) -> Validator:
    """Make the problem's Code Jam judge runnable in `sandbox` (cached by content under
    `cache_dir`). Not thread-safe for one judge in one `cache_dir`: the Judge builds under its lock.

    Raises:
        ValidatorError: naming the file and why when the judge cannot be run.
    """
    source = problem.output_validator
    if source is None or not source.exists():
        raise ValidatorError(problem.id, "the Code Jam judge does not exist", file=source)
    if problem.interactive:
        raise ValidatorError(
            problem.id,
            "Code Jam interactive judges take a test-set number and talk to the program themselves; "
            "the judge does not run that protocol",
            file=source,
        )
    main = _main_file(problem.id, source)
    text = main.read_text(encoding="utf-8", errors="replace")
    suffix = main.suffix.lower()
    if suffix in (".py", ".py3"):
        return _build_python(problem.id, main, text, cache_dir, sandbox)
    if suffix in CPP_SUFFIXES or suffix == ".c":
        return _build_cpp(problem.id, main, text, cache_dir, sandbox)
    if suffix == ".java":
        return _build_java(problem.id, main, text, cache_dir, sandbox)
    if suffix == ".go":
        return _build_go(problem.id, main, cache_dir, sandbox)
    raise ValidatorError(problem.id, f"no way to run a Code Jam judge written in {suffix!r}", file=main)


def _main_file(problem_id: str, source: Path) -> Path:
    if source.is_file():
        return source
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    known = [p for p in files if p.suffix.lower() in {".py", ".py3", ".java", ".go", ".c", *CPP_SUFFIXES}]
    if len(known) != 1:
        raise ValidatorError(problem_id, f"cannot tell the judge among {[p.name for p in files]}", file=source)
    return known[0]


def _cache(cache_dir: Path, kind: str, text: str) -> Path:
    digest = hashlib.sha256(f"codejam-{kind}\0{text}".encode()).hexdigest()[:24]
    return cache_dir / f"cj-{digest}"


# -- Python ------------------------------------------------------------------------------------


def _build_python(problem_id: str, main: Path, text: str, cache_dir: Path, sandbox: ValidatorSandbox) -> Validator:
    """Python 3 judges run as they are; Python 2 ones (by syntax) are converted and self-tested."""
    python2 = looks_like_python2(text)
    out = _cache(cache_dir, "py2" if python2 else "py3", text)
    judge, runner, ready = out / "judge.py", out / "run.py", out / READY
    argv = [python_executable(), str(runner), str(judge)]
    validator = Validator(argv=argv, source=main, home=out, protocol="codejam")
    if ready.exists():
        return validator
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    try:
        code = convert_python2(text) if python2 else text
    except ValueError as exc:
        why = f"the Python 2 judge cannot be converted to Python 3: {exc}"
        raise ValidatorError(problem_id, why, file=main) from None
    judge.write_text(code)
    runner.write_text(_RUNNER)
    if python2 and _SELF_TEST.search(text):
        _self_test(problem_id, validator, sandbox, converted=True)
    ready.touch()
    return validator


# -- compiled judges ---------------------------------------------------------------------------


def _build_cpp(problem_id: str, main: Path, text: str, cache_dir: Path, sandbox: ValidatorSandbox) -> Validator:
    """C++17 (the archive's era), compiled once per content; then its self-test, once."""
    out = _cache(cache_dir, "cpp", text)
    ready = out / READY
    protocol: Protocol = "codejam-status" if "status: VALID" in text else "codejam"
    validator = Validator(argv=[str(out / "judge")], source=main, home=out, protocol=protocol)
    if ready.exists():
        return validator
    copy_source(main.parent, out, sandbox)
    std = "-std=gnu17" if main.suffix.lower() == ".c" else "-std=gnu++17"
    compiler = "gcc" if main.suffix.lower() == ".c" else "g++"
    cmd = [compiler, "-O2", std, "-I", f"{HOME}/src", f"{HOME}/src/{main.name}", "-o", f"{HOME}/judge"]
    _toolchain(problem_id, main, cmd, compiler, out, sandbox)
    if _SELF_TEST.search(text):
        _self_test(problem_id, validator, sandbox)
    ready.touch()
    return validator


# -- Java and Go -------------------------------------------------------------------------------


def _build_java(problem_id: str, main: Path, text: str, cache_dir: Path, sandbox: ValidatorSandbox) -> Validator:
    if shutil.which("javac") is None or shutil.which("java") is None:
        raise ValidatorError(
            problem_id, "the judge is Java, and no Java toolchain (javac, java) is installed", file=main
        )
    out = _cache(cache_dir, "java", text)
    # a heap of its own: the JVM's default reserves a quarter of the machine, past the memory limit
    argv = ["java", "-Xmx1g", "-Xss64m", "-XX:CompressedClassSpaceSize=64m", "-cp", str(out), main.stem]
    validator = Validator(argv=argv, source=main, home=out, protocol="codejam")
    if (out / READY).exists():
        return validator
    copy_source(main.parent, out, sandbox)
    javac = ["javac", "-J-Xmx1g", "-nowarn", "-d", HOME, f"{HOME}/src/{main.name}"]
    _toolchain(problem_id, main, javac, "javac", out, sandbox)
    (out / READY).touch()
    return validator


def _build_go(problem_id: str, main: Path, cache_dir: Path, sandbox: ValidatorSandbox) -> Validator:
    if shutil.which("go") is None:
        raise ValidatorError(problem_id, "the judge is Go, and no Go toolchain (go) is installed", file=main)
    out = _cache(cache_dir, "go", main.read_text(errors="replace"))
    if not (out / READY).exists():
        copy_source(main.parent, out, sandbox)
        _toolchain(
            problem_id,
            main,
            ["go", "build", "-o", f"{HOME}/judge", f"{HOME}/src/{main.name}"],
            "go build",
            out,
            sandbox,
        )
        (out / READY).touch()
    return Validator(argv=[str(out / "judge")], source=main, home=out, protocol="codejam")


def _toolchain(problem_id: str, main: Path, cmd: list[str], what: str, out: Path, sandbox: ValidatorSandbox) -> None:
    """Build in the sandbox (`cmd` names `out` as HOME); a failure says which error, or which
    missing package, stopped it."""
    err = build_in_sandbox(problem_id, cmd, out, sandbox, what=what, file=main)
    if err is not None:
        missing = sorted(set(re.findall(r"package ([\w.]+) does not exist", err)))
        errors = [line for line in err.splitlines() if ": error:" in line][:5] or err.splitlines()[-20:]
        why = f"it needs {', '.join(missing)}, which the archive does not ship" if missing else "\n".join(errors)
        raise ValidatorError(problem_id, f"the judge does not build with {what}: {why}", file=main)


# -- running -----------------------------------------------------------------------------------


def _self_test(problem_id: str, validator: Validator, sandbox: ValidatorSandbox, *, converted: bool = False) -> None:
    """`judge -2` runs the judge's own unit tests; a judge that fails them is not used."""
    done = sandbox.run(
        sandbox.argv([*validator.argv, "-2"], validator.home),
        run_limits(SELF_TEST_TIMEOUT_S),
        capture=True,
        home=(validator.home, False) if validator.home else None,
        cwd=(validator.home, "/tmp"),
    )
    code, said = done.code, done.output.decode(errors="replace").strip()
    if done.timed_out:
        said = f"it ran over {SELF_TEST_TIMEOUT_S} s"
    elif done.signal is not None:
        said = f"killed by signal {done.signal}: {said}"
    if code != 0:
        after = " after conversion to Python 3" if converted else ""
        raise ValidatorError(
            problem_id,
            f"the judge fails its own self-test (-2){after}, exit {code}: {said[-1500:]}",
            file=validator.source,
        )


def run_codejam_validator(
    validator: Validator,
    input_path: Path,
    attempt: Path,
    answer: Path,
    work_dir: Path,
    timeout: float,
    *,
    sandbox: ValidatorSandbox = UNSANDBOXED,
    scratch: Path | None = None,
) -> CodeJamOutcome:
    """Run the judge on one attempt (the program's output file) and read its verdict. In the
    sandbox it sees the three files read-only and `work_dir` as its writable working folder;
    `scratch` (default `work_dir`) takes copies of files its uid could not read."""
    if validator.argv[0] == python_executable() and not _is_utf8(attempt):
        return CodeJamOutcome(verdict=Verdict.WA, message="the output is not valid UTF-8 text")
    scratch = scratch or work_dir
    sandbox.own(work_dir)
    files = [(input_path, INPUT, "judge-input"), (attempt, ATTEMPT, "judge-attempt"), (answer, ANSWER, "judge-answer")]
    ro = [(sandbox.readable(host, scratch, copy), inside) for host, inside, copy in files]
    argv = [*sandbox.argv(validator.argv, validator.home), *(sandbox.path(host, inside) for host, inside in ro)]
    status = work_dir / "judge_status.txt"
    if validator.protocol == "codejam-status":
        argv.append(sandbox.path(status, f"{FEEDBACK}/judge_status.txt"))
    done = sandbox.run(
        argv,
        run_limits(timeout),
        capture=True,
        home=(validator.home, False) if validator.home else None,
        ro=ro,
        rw=[(work_dir, FEEDBACK)],
        cwd=(work_dir, FEEDBACK),
    )
    if done.timed_out:
        return _fault(f"the judge ran over {timeout:g} s")
    said = done.output.decode(errors="replace").strip()[-2000:]
    code = done.code
    if code is None:
        return _fault(f"the judge was killed by signal {done.signal}: {said or 'no message'}")
    if code == CRASH_EXIT:
        return _fault(f"the judge crashed: {said or 'no message'}")
    if validator.protocol == "codejam-status":
        return _read_status(status, code, said)
    if _JUDGE_FAULT.search(said):
        return _fault(f"the judge blames itself: {said}")
    if code == 0:
        return CodeJamOutcome(verdict=Verdict.AC, message=said)
    return CodeJamOutcome(verdict=Verdict.WA, message=said or f"the judge rejected the output (exit {code})")


def _read_status(status: Path, code: int, said: str) -> CodeJamOutcome:
    text = (read_written(status, 1 << 16) or b"").decode(errors="replace")
    found = re.search(r"^status:\s*(\w+)", text, re.MULTILINE)
    if code != 0 or found is None:
        return _fault(f"the judge exited with {code} and wrote no status: {said or 'no message'}")
    message = re.search(r"^status_message:\s*'?(.*?)'?\s*$", text, re.MULTILINE)
    why = message[1] if message else ""
    if _JUDGE_FAULT.search(why):
        return _fault(f"the judge blames itself: {why}")
    if found[1] == "VALID":
        return CodeJamOutcome(verdict=Verdict.AC)
    if found[1] == "INVALID":
        return CodeJamOutcome(verdict=Verdict.WA, message=why or "the judge rejected the output")
    return _fault(f"the judge wrote an unknown status {found[1]!r}")


def _fault(why: str) -> CodeJamOutcome:
    """The judge itself failed: JE, whatever the program wrote."""
    return CodeJamOutcome(verdict=Verdict.JE, message=why)


def _is_utf8(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            while fh.read(1 << 20):
                pass
    except UnicodeDecodeError:
        return False
    return True
