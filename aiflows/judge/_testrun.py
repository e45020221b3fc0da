"""Judge one test: run the program (alone, or against an interactor) and decide the verdict."""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiflows.judge._codejam import run_codejam_validator
from aiflows.judge._compare import CompareFlags, compare_output
from aiflows.judge._errors import ValidatorError
from aiflows.judge._executor import Executor
from aiflows.judge._forkserver import Program
from aiflows.judge._interactive import drain, race, reap, reap_wait_s
from aiflows.judge._models import Limits, RunResult, TestResult, Verdict
from aiflows.judge._validator_sandbox import ANSWER, FEEDBACK, INPUT, Binds, ValidatorSandbox, read_written, run_limits
from aiflows.judge._validators import ACCEPT, REJECT, Validator, read_feedback
from aiflows.problems.model import TestCase

__all__ = ["ScratchPool", "TestContext", "early_failure", "ran_out_of_memory", "read_tail", "run_test"]

EXCERPT = 600
MEMORY_WORDS = (b"MemoryError", b"std::bad_alloc", b"Cannot allocate memory", b"out of memory")


class ScratchPool:
    """Reusable per-run folders for output files: creating and removing a folder per test costs
    more than the run itself on some disks."""

    KEEP = ("out", "err")

    def __init__(self, root: Path) -> None:
        self.root = root
        self._free: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self._count = itertools.count()

    @contextmanager
    def take(self) -> Iterator[Path]:
        try:
            folder = self._free.get_nowait()
        except queue.Empty:
            folder = self.root / f"s{next(self._count)}"
            folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            for entry in os.scandir(folder):
                if entry.name not in self.KEEP:
                    if entry.is_dir(follow_symlinks=False):
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        os.unlink(entry.path)
            self._free.put(folder)


@dataclass
class TestContext:
    """What every test of one judgement shares."""

    problem_id: str
    executor: Executor
    program: Program
    limits: Limits
    flags: CompareFlags
    validator: Validator | None
    validator_args: list[str]
    interactive: bool
    passes: int  # > 1 for multi-pass problems
    hidden: tuple[str, ...]
    scratch: ScratchPool
    output_limit: int = field(default=0)
    # where the validator runs: the executor's sandbox, with this judgement's hidden paths
    validator_sandbox: ValidatorSandbox = field(init=False)

    def __post_init__(self) -> None:
        self.validator_sandbox = ValidatorSandbox.for_executor(self.executor, self.hidden)

    @property
    def validator_wall_s(self) -> float:
        return max(30.0, self.limits.wall_s * 4)


def _excerpt(data: bytes, limit: int = EXCERPT) -> str:
    text = data[:limit].decode("utf-8", errors="replace")
    return text + ("\n... (truncated)" if len(data) > limit else "")


def _head(path: Path, limit: int = EXCERPT + 1) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(limit)
    except OSError:
        return b""


def read_tail(path: Path, limit: int = 1500) -> str:
    """The last `limit` bytes of a program's stderr as text (empty if the file is gone)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", errors="replace").strip()
    except OSError:
        return ""


def ran_out_of_memory(run: RunResult, limits: Limits, stderr_tail: str) -> bool:
    """Whether a failed run shows signs of hitting its memory limit (peak RSS near it, or the
    allocator's words on stderr): told as a fact next to the verdict, never as the verdict."""
    raw = stderr_tail.encode()
    return run.max_rss_kb >= 0.9 * limits.memory_mb * 1024 or any(w in raw for w in MEMORY_WORDS)


def early_failure(
    run: RunResult, limits: Limits, out_size: int, output_limit: int, stderr_tail: str
) -> tuple[Verdict, str] | None:
    """The verdict a finished run earns before its output is even looked at (None: it ran fine).

    A program that dies (std::bad_alloc, abort, any signal, a non-zero exit) gets RTE, as Kattis
    reports it, also when it ran out of memory: the message says so, and `memory_limit_hit` on
    the test result records it, so a package that expects MLE can count the run as agreeing.
    """
    if run.error:
        return Verdict.RTE, f"the program could not be started: {run.error}"
    if run.timed_out or run.cpu_s > limits.cpu_s or run.signal == signal.SIGXCPU:
        # before OLE: a program that floods stdout forever gets TLE (writes past the file size
        # limit fail with EFBIG, as if truncated), as DOMjudge and BAPCtools judge it
        used = f"{run.cpu_s:.2f} s CPU, {run.wall_s:.2f} s wall"
        why = f"the program used {used}; the limit is {limits.cpu_s:g} s CPU ({limits.wall_s:g} s wall)"
        if limits.cpu_kill_s is not None and limits.cpu_kill_s > limits.cpu_s:
            if run.cpu_s >= limits.cpu_kill_s or run.signal == signal.SIGXCPU:
                why += f"; beyond the TLE margin ({limits.cpu_kill_s:g} s)"
            elif run.timed_out:  # stopped by the wall clock first: how far it would have gone is unknown
                why += f"; stopped by the wall clock before the TLE margin ({limits.cpu_kill_s:g} s)"
            else:
                why += f"; within the TLE margin ({limits.cpu_kill_s:g} s)"
        return Verdict.TLE, why
    if out_size > output_limit:
        return Verdict.OLE, f"the program wrote more than the {output_limit / (1 << 20):g} MiB output limit"
    if run.ok:
        return None
    if run.signal is not None:
        name = signal.Signals(run.signal).name if run.signal in signal.Signals._value2member_map_ else str(run.signal)
        why = f"the program was killed by signal {name}"
    else:
        why = f"the program exited with code {run.exit_code}"
    if ran_out_of_memory(run, limits, stderr_tail):
        why += f" (it ran out of its {limits.memory_mb} MiB memory limit)"
    return Verdict.RTE, why


def _memory_note(ctx: TestContext, run: RunResult, verdict: Verdict, stderr_tail: str) -> dict[str, object]:
    hit = verdict == Verdict.RTE and not run.error and ran_out_of_memory(run, ctx.limits, stderr_tail)
    return {"memory_limit_hit": True} if hit else {}


def run_test(ctx: TestContext, test: TestCase) -> TestResult:
    """Run `test` (every pass of it) and judge it."""
    with ctx.scratch.take() as tmp:
        return _run_passes(ctx, test, tmp)


def _run_passes(ctx: TestContext, test: TestCase, tmp: Path) -> TestResult:
    """Multi-pass problems run again on the `nextpass.in` the validator wrote, up to ctx.passes."""
    input_path = test.input_path
    feedback_dir = tmp / "feedback"
    slowest = (0.0, 0.0)
    for index in range(ctx.passes):
        if ctx.validator is not None:
            feedback_dir.mkdir(exist_ok=True)
            ctx.validator_sandbox.own(feedback_dir)
        result = _one_pass(ctx, test, input_path, tmp, feedback_dir)
        slowest = max(slowest, (result.time_s, result.wall_s))
        next_input = feedback_dir / "nextpass.in"
        if result.verdict != Verdict.AC or ctx.passes == 1 or not os.path.lexists(next_input):
            break
        if index + 1 >= ctx.passes:  # the format: asking for a pass beyond the last is a judge error
            why = (
                f"the validator asked for another pass (wrote nextpass.in) after pass {index + 1}, "
                f"the last of the problem's {ctx.passes} (limits.validation_passes)"
            )
            err = ValidatorError(ctx.problem_id, why, file=ctx.validator.source if ctx.validator else None)
            return result.model_copy(update={"verdict": Verdict.JE, "message": str(err)})
        if not stat.S_ISREG(os.lstat(next_input).st_mode):  # a link would feed the program any host file
            why = f"the validator's nextpass.in is not a regular file (pass {index + 1})"
            err = ValidatorError(ctx.problem_id, why, file=ctx.validator.source if ctx.validator else None)
            return result.model_copy(update={"verdict": Verdict.JE, "message": str(err)})
        input_path = tmp / f"pass{index + 2}.in"
        shutil.move(str(next_input), input_path)
    if index > 0:  # report the slowest pass, and which pass failed
        note = f" (pass {index + 1})" if result.verdict != Verdict.AC else ""
        result = result.model_copy(
            update={"time_s": slowest[0], "wall_s": slowest[1], "message": result.message + note}
        )
    return result


def _one_pass(ctx: TestContext, test: TestCase, input_path: Path, tmp: Path, feedback_dir: Path) -> TestResult:
    if ctx.interactive:
        return _interactive(ctx, test, input_path, tmp, feedback_dir)
    out_path, err_path = tmp / "out", tmp / "err"
    with (
        open(input_path, "rb") as fin,
        open(out_path, "wb") as fout,
        open(err_path, "wb") as ferr,
        ctx.executor.slots,
    ):
        fds = (fin.fileno(), fout.fileno(), ferr.fileno())
        run = ctx.executor.submit(ctx.program, ctx.limits, fds, ctx.hidden).future.result()
    base = _base(test, run, err_path)
    out_size = out_path.stat().st_size
    failed = early_failure(run, ctx.limits, out_size, ctx.output_limit, base.stderr_tail)
    if failed is not None:
        update = {"verdict": failed[0], "message": failed[1], "got_excerpt": _excerpt(_head(out_path))}
        return base.model_copy(update=update | _memory_note(ctx, run, failed[0], base.stderr_tail))
    if ctx.validator is None:
        answer = test.answer_path.read_bytes()
        output = out_path.read_bytes()
        cmp = compare_output(answer, output, ctx.flags)
        verdict = Verdict.AC if cmp.ok else Verdict.WA
        return base.model_copy(
            update={
                "verdict": verdict,
                "message": "" if cmp.ok else "the output differs from the expected answer",
                "diff": cmp.message,
                "expected_excerpt": "" if cmp.ok else _excerpt(answer),
                "got_excerpt": "" if cmp.ok else _excerpt(output),
            }
        )
    if ctx.validator.protocol != "kattis":
        return _codejam_checked(ctx, test, base, input_path, out_path, feedback_dir)
    with open(out_path, "rb") as fout, open(tmp / "val_err", "w+b") as val_err:
        argv, where = _kattis_call(ctx, input_path, test.answer_path, feedback_dir, tmp)
        done = ctx.validator_sandbox.run(
            argv, run_limits(ctx.validator_wall_s), stdin=fout.fileno(), stderr=val_err.fileno(), **where
        )
        val_err.seek(0)
        stderr = val_err.read(1 << 16)
    if done.timed_out:
        stderr = b"the validator timed out"
    elif done.signal is not None:
        stderr = f"killed by signal {done.signal}: ".encode() + stderr
    return _validated(ctx, base, done.code, stderr, feedback_dir, out_path)


def _kattis_call(
    ctx: TestContext, input_path: Path, answer_path: Path, feedback_dir: Path, tmp: Path
) -> tuple[list[str], Binds]:
    """The validator's command line (`validator input answer feedback_dir [flags]`, paths as the
    validator sees them) and what its sandbox binds."""
    assert ctx.validator is not None
    sandbox = ctx.validator_sandbox
    ro = [(sandbox.readable(input_path, tmp, "val.in"), INPUT), (sandbox.readable(answer_path, tmp, "val.ans"), ANSWER)]
    argv = [
        *sandbox.argv(ctx.validator.argv, ctx.validator.home),
        sandbox.path(input_path, INPUT),
        sandbox.path(answer_path, ANSWER),
        sandbox.path(feedback_dir, FEEDBACK),
        *ctx.validator_args,
    ]
    home = (ctx.validator.home, False) if ctx.validator.home else None
    return argv, {"home": home, "ro": ro, "rw": [(feedback_dir, FEEDBACK)]}


def _codejam_checked(
    ctx: TestContext, test: TestCase, base: TestResult, input_path: Path, out_path: Path, feedback_dir: Path
) -> TestResult:
    """Code Jam judges: `judge input attempt answer`, exit 0 accepts (see `_codejam`)."""
    assert ctx.validator is not None
    said = run_codejam_validator(
        ctx.validator,
        input_path,
        out_path,
        test.answer_path,
        feedback_dir,
        ctx.validator_wall_s,
        sandbox=ctx.validator_sandbox,
        scratch=out_path.parent,
    )
    update: dict[str, object] = {"verdict": said.verdict, "validator_feedback": said.message}
    if said.verdict == Verdict.WA:
        update |= {"message": "the Code Jam judge rejected the output", "got_excerpt": _excerpt(_head(out_path))}
    elif said.verdict == Verdict.JE:
        update |= {"message": str(ValidatorError(ctx.problem_id, said.message, file=ctx.validator.source))}
    return base.model_copy(update=update)


def _base(test: TestCase, run: RunResult, err_path: Path) -> TestResult:
    return TestResult(
        name=test.name,
        is_sample=test.is_sample,
        verdict=Verdict.AC,
        time_s=round(run.cpu_s, 4),
        wall_s=round(run.wall_s, 4),
        memory_kb=run.max_rss_kb,
        exit_code=run.exit_code,
        signal=run.signal,
        input_excerpt=_excerpt(_head(test.input_path)),
        stderr_tail=read_tail(err_path),
    )


def _validated(
    ctx: TestContext, base: TestResult, code: int | None, stderr: bytes, feedback_dir: Path, out_path: Path | None
) -> TestResult:
    feedback = read_feedback(feedback_dir)
    if code == ACCEPT:
        written = read_written(feedback_dir / "score.txt", 200)
        if written is None:
            return base.model_copy(update={"verdict": Verdict.AC, "validator_feedback": feedback})
        try:
            score = float(written.decode(errors="replace").strip())
        except ValueError:
            err = ValidatorError(
                ctx.problem_id,
                f"the output validator wrote score.txt that is not a number: {written[:60]!r}",
                file=ctx.validator.source if ctx.validator else None,
            )
            return base.model_copy(update={"verdict": Verdict.JE, "message": str(err)})
        return base.model_copy(update={"verdict": Verdict.AC, "validator_feedback": feedback, "score": score})
    if code == REJECT:
        got = _excerpt(_head(out_path)) if out_path is not None else ""
        return base.model_copy(
            update={
                "verdict": Verdict.WA,
                "message": "the output validator rejected the output",
                "validator_feedback": feedback,
                "got_excerpt": got,
            }
        )
    why = feedback or stderr.decode(errors="replace").strip()[-1000:] or "no message"
    err = ValidatorError(
        ctx.problem_id,
        f"the output validator exited with {code} (expected 42 or 43): {why}",
        file=ctx.validator.source if ctx.validator else None,
    )
    return base.model_copy(update={"verdict": Verdict.JE, "message": str(err)})


def _interactive(ctx: TestContext, test: TestCase, input_path: Path, tmp: Path, feedback_dir: Path) -> TestResult:
    """Program and interactor joined by two pipes; whoever ends first decides, as in Kattis.

    As BAPCtools does, the interactor sees the program's EOF only once the program has died
    (the judge holds the pipe's write end until then), so a program that closes stdout and
    hangs or crashes gets TLE or RTE, not the interactor's complaint about early EOF. The judge
    also keeps a reader on the interactor-to-program pipe until the interactor exits, so a
    program that quits early never makes the interactor fail on a broken pipe.
    """
    assert ctx.validator is not None
    err_path = tmp / "err"
    to_val_r, to_val_w = os.pipe()  # program stdout -> interactor stdin
    to_prog_r, to_prog_w = os.pipe()  # interactor stdout -> program stdin
    with open(tmp / "val_err", "wb") as val_err:
        try:
            argv, where = _kattis_call(ctx, input_path, test.answer_path, feedback_dir, tmp)
            validator = ctx.validator_sandbox.start(
                argv,
                run_limits(ctx.validator_wall_s),
                stdin=to_val_r,
                stdout=to_prog_w,
                stderr=val_err.fileno(),
                pipes=True,
                **where,
            )
        finally:
            os.close(to_val_r)
            os.close(to_prog_w)
    reader = threading.Thread(target=drain, args=(to_prog_r,), daemon=True, name="aiflows-judge-drain")
    draining = False
    try:
        with ctx.executor.slots:
            with open(err_path, "wb") as ferr:
                handle = ctx.executor.submit(ctx.program, ctx.limits, (to_prog_r, to_val_w, ferr.fileno()), ctx.hidden)
            validator_first, run = race(handle, validator)
            reader.start()
            draining = True
    finally:
        os.close(to_val_w)  # only now does the interactor see the program's EOF
        if not draining:
            os.close(to_prog_r)
        hung = reap(validator, ctx.limits)
    reader.join(timeout=5)
    base = _base(test, run, err_path)
    if hung and run.cpu_s < ctx.limits.cpu_s:
        # the interactor's fault: the program ended, or sat waiting for it (a program that used up
        # its CPU time is TLE whatever the interactor does next, as a flood of queries may keep it busy)
        err = ValidatorError(
            ctx.problem_id,
            f"the interactor did not exit within {reap_wait_s(ctx.limits):g} s of the program's end "
            "(its input closed) and was killed",
            file=ctx.validator.source,
        )
        return base.model_copy(update={"verdict": Verdict.JE, "message": str(err)})
    code = validator.returncode
    if validator_first and (code == REJECT or run.signal == signal.SIGPIPE):
        # the interactor's verdict stands; a SIGPIPE after it left is not the program's fault
        return _validated(ctx, base, code, (tmp / "val_err").read_bytes(), feedback_dir, None)
    failed = early_failure(run, ctx.limits, 0, ctx.output_limit, base.stderr_tail)
    if failed is not None:
        update = {"verdict": failed[0], "message": failed[1], "validator_feedback": read_feedback(feedback_dir)}
        return base.model_copy(update=update | _memory_note(ctx, run, failed[0], base.stderr_tail))
    return _validated(ctx, base, code, (tmp / "val_err").read_bytes(), feedback_dir, None)
