"""The judge: a problem, a program, a language in; a `Judgement` out.

`Judge.judge` runs every test (samples first) for scoring; `Judge.judge_samples` runs only
the public samples, the only tests a flow may see while it still writes code. A `Judge`
owns one executor (a warm sandboxed fork server) and may be shared by many threads and
tasks: `jobs` bounds how many programs run at once across all of them.

    >>> with Judge(JudgeConfig(jobs=2)) as j:                     # doctest: +SKIP
    ...     print(j.judge(problem, "print(input())", "python").verdict)
    AC
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from aiflows.judge._codejam import build_codejam_validator, is_codejam_validator
from aiflows.judge._compare import CompareFlags
from aiflows.judge._errors import PackageError
from aiflows.judge._executor import Executor
from aiflows.judge._function import FunctionJudge
from aiflows.judge._languages import language_table, toolchain, version_of
from aiflows.judge._models import Judgement, Limits, TestResult, Verdict
from aiflows.judge._package import answer_program, is_submit_answer, validator_args, validator_cache_dir, with_includes
from aiflows.judge._programs import KeyedLocks, build_program, normalize_language
from aiflows.judge._sandbox import SandboxView, outermost
from aiflows.judge._scoring import GroupRules, grade, group_flags, max_score
from aiflows.judge._testrun import ScratchPool, TestContext, run_test
from aiflows.judge._timelimit import WALL_EXTRA_S, WALL_FACTOR, TimeLimits, wall_limit
from aiflows.judge._validator_sandbox import ValidatorSandbox
from aiflows.judge._validators import Validator, build_validator
from aiflows.problems.model import Problem, TestCase

__all__ = ["Judge", "JudgeConfig", "judge", "judge_async", "judge_samples", "problem_folders"]

log = logging.getLogger("aiflows.judge")


class JudgeConfig(BaseModel):
    """How the judge runs programs. Every field has a safe default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jobs: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=64)  # programs run at once
    sandbox: Literal["auto", "bwrap", "none"] = "auto"  # auto, bwrap: bubblewrap or SandboxError; none: no isolation
    fork_server: bool = True  # warm fork server; False: a fresh process per run
    fresh_python: bool = False  # run Python as `python3 file` even with the fork server
    # "python" submissions: "cpython" the warm CPython, the limit as given; "auto" PyPy when installed,
    # as contest judges run Python, else CPython with the table's python time_factor on the limit
    # (the judgement's `runtime` says which); "pypy": PyPy or UnsupportedLanguage
    python: Literal["cpython", "auto", "pypy"] = "cpython"
    time_limit_cap: float | None = Field(default=None, gt=0)  # clip problems' limits (benchmarks)
    wall_factor: float = Field(default=WALL_FACTOR, ge=1)  # wall limit = factor * CPU limit + wall_extra_s
    wall_extra_s: float = Field(default=WALL_EXTRA_S, ge=0)  # (why these: see aiflows.judge._timelimit)
    # computed time limits (packages that state none) are cached here; default $AIFLOWS_HOME/judge/time-limits
    time_limit_cache: Path | None = None
    # run each program on to the time limit x the package's time_limit_to_tle (legacy time_safety_margin)
    # so a TLE says whether it was beyond that margin, as problemtools' verification needs; costs time
    run_to_tle_margin: bool = False
    processes: int = Field(default=64, ge=1)  # processes + threads per run
    stop_on_failure: bool = True  # judge(): stop at the first failing test, as Kattis does
    uid_base: int = Field(default=61000, ge=1000)  # runs use uids uid_base .. uid_base + 100 + 64 per fork server
    work_dir: Path | None = None  # default: a private temporary folder, removed on close
    tmp_size_mb: int = Field(default=256, ge=1)  # the sandbox's private /tmp (scratch)
    extra_ro_paths: tuple[str, ...] = ()  # more read-only paths programs may see
    hidden_paths: tuple[str, ...] = ()  # folders always hidden from programs (problem sets under a visible path)


class Judge:
    """Judges programs on problems; thread-safe; close it (or use `with`) to stop its sandbox."""

    def __init__(self, config: JudgeConfig | None = None) -> None:
        self.config = config or JudgeConfig()
        self._own_dir = self.config.work_dir is None
        root = _private_dir() if self.config.work_dir is None else Path(self.config.work_dir)
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        self.work_dir = root
        for sub in ("programs", "validators", "runs"):
            (root / sub).mkdir(exist_ok=True)
            # programs: traversable by the runs' uids (each needs its own folder), listable by none
            (root / sub).chmod(0o711 if sub == "programs" else 0o700)
        view = SandboxView(extra_ro=self.config.extra_ro_paths, tmp_size_mb=self.config.tmp_size_mb)
        try:
            self.executor = Executor(
                root / "programs",
                jobs=self.config.jobs,
                mode=self.config.sandbox,
                fork_server=self.config.fork_server,
                uid_base=self.config.uid_base,
                view=view,
            )
        except BaseException:  # no sandbox (SandboxError): leave no work folder behind
            if self._own_dir:
                shutil.rmtree(root, ignore_errors=True)
            raise
        self.scratch = ScratchPool(root / "runs")
        self._validators: dict[str, Validator] = {}
        # hidden on every run, worked out once: a benchmark names all its problems here
        self.validator_cache = validator_cache_dir()  # built validators, shared across Judges and processes
        always = {self.work_dir, self.validator_cache, *(Path(p) for p in self.config.hidden_paths)}
        self._always_hidden = self.executor.base_view.data_to_hide(always)
        self.build_locks = KeyedLocks()
        self._functions = FunctionJudge(
            self.executor, root / "programs", self.build_locks, self.scratch, self.config.fresh_python
        )
        self._lock = threading.Lock()
        self._closed = False
        self.time_limits = TimeLimits(self._measure, self.config.time_limit_cache)
        # a Judge that is never closed still stops its sandbox and removes its folder (GC or exit)
        self._finalizer = weakref.finalize(self, _release, self.executor, root if self._own_dir else None)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the sandbox and remove the private work folder (idempotent)."""
        self._closed = True
        self._finalizer()

    # -- public -----------------------------------------------------------------------------

    def judge(self, problem: Problem, code: str | Mapping[str, str], language: str) -> Judgement:
        """Judge on every test (samples first); the verdict is the first failing test's."""
        return self._judge(problem, code, language, samples_only=False)

    def judge_samples(self, problem: Problem, code: str | Mapping[str, str], language: str) -> Judgement:
        """Judge on the public samples only, running all of them, for feedback inside a flow."""
        return self._judge(problem, code, language, samples_only=True)

    async def judge_async(
        self, problem: Problem, code: str | Mapping[str, str], language: str, *, samples_only: bool = False
    ) -> Judgement:
        """`judge` / `judge_samples` from asyncio, in a worker thread; runs stay bounded by `jobs`."""
        return await asyncio.to_thread(self._judge, problem, code, language, samples_only=samples_only)

    def limits_for(self, problem: Problem, time_factor: float = 1.0) -> Limits:
        """The run's limits; `time_factor` multiplies the time limit (a language's, see languages.yaml)."""
        cpu = self.time_limit_for(problem)
        if self.config.time_limit_cap is not None:
            cpu = min(cpu, self.config.time_limit_cap)
        cpu *= time_factor
        kill = cpu * self.time_limits.tle_margin(problem) if self.config.run_to_tle_margin else None
        wall = wall_limit(kill or cpu, self.config.wall_factor, self.config.wall_extra_s)
        if problem.interactive:
            wall *= 2  # the interactor's own work passes on the program's wall clock
        return Limits(
            cpu_s=cpu,
            cpu_kill_s=kill,
            wall_s=wall,
            memory_mb=problem.memory_limit_mb,
            processes=self.config.processes,
            output_mb=problem.output_limit_mb,
            file_mb=max(problem.output_limit_mb, 64),
        )

    def time_limit_for(self, problem: Problem) -> float:
        """The problem's CPU time limit: as the package states it, or (stating none) the slowest
        accepted submission's time x ac_to_time_limit, measured once per package content."""
        if not TimeLimits.needs_measuring(problem):
            return problem.time_limit
        measured = self.time_limits.get(problem)
        return problem.time_limit if measured is None else measured.time_limit

    # -- internals --------------------------------------------------------------------------

    def _measure(self, problem: Problem, code: str | dict[str, str], language: str, cpu_s: float) -> Judgement:
        """Run an accepted submission on every test under a generous limit (for TimeLimits)."""
        lang = self._python_choice(normalize_language(language))[0]
        limits = self.limits_for(problem.model_copy(update={"time_limit": cpu_s, "metadata": {}}))
        wall = wall_limit(cpu_s) * (2 if problem.interactive else 1)
        limits = limits.model_copy(update={"cpu_s": cpu_s, "wall_s": wall})
        return self._judge_io(problem, code, lang, False, limits=limits)

    def _judge(
        self, problem: Problem, code: str | Mapping[str, str], language: str, *, samples_only: bool
    ) -> Judgement:
        if self._closed:
            raise RuntimeError("this Judge is closed")
        lang = normalize_language(language)
        lang, factor, runtime = (lang, 1.0, "") if problem.kind == "function" else self._python_choice(lang)
        if problem.kind == "function":
            # HumanEval-style: the program, then `test_code`, then `check(entry_point)`
            judgement = self._functions.judge(problem, code, lang, self.limits_for(problem), samples_only=samples_only)
        else:
            judgement = self._judge_io(problem, code, lang, samples_only, factor)
        update = {"sandbox": "bwrap" if self.executor.sandboxed else "none", "runtime": runtime}
        return judgement.model_copy(update=update)

    def _python_choice(self, lang: str) -> tuple[str, float, str]:
        """(language to run, time factor, what ran it) for the `python` setting."""
        if lang == "pypy3" or (lang == "python" and self.config.python == "pypy"):
            return normalize_language("pypy3"), 1.0, _runtime("pypy3")
        if lang != "python":
            return lang, 1.0, _runtime(lang)
        cpython = f"CPython {sys.version.split()[0]}"
        if self.config.python == "cpython":
            return lang, 1.0, cpython
        if toolchain("pypy3") is not None:
            return "pypy3", 1.0, _runtime("pypy3")
        factor = language_table()["python"].time_factor
        return lang, factor, f"{cpython} (PyPy is not installed: the time limit is multiplied by {factor:g})"

    def _judge_io(
        self,
        problem: Problem,
        code: str | Mapping[str, str],
        lang: str,
        samples_only: bool,
        factor: float = 1.0,
        limits: Limits | None = None,
    ) -> Judgement:
        tests = self._tests(problem, samples_only)
        hidden = self._hidden(problem, problem.tests)  # every test's data, whichever are run
        if is_submit_answer(problem):  # the submission is the answers: printed as the program's output
            code, lang = answer_program(problem, code, problem.tests), normalize_language("python")
        built = build_program(
            with_includes(problem, code, lang),
            lang,
            self.work_dir / "programs",
            view=self.executor.compile_view(hidden),
            uid=self.executor.compile_uid,
            locks=self.build_locks,
            problem_id=problem.id,
        )
        if built.compile_error is not None:
            return Judgement(
                problem_id=problem.id,
                language=lang,
                verdict=Verdict.CE,
                compile_output=built.compile_error,
                samples_only=samples_only,
            )
        program = built.program(fresh_python=self.config.fresh_python, memory_mb=problem.memory_limit_mb)
        ctx = TestContext(
            problem_id=problem.id,
            executor=self.executor,
            program=program,
            limits=limits or self.limits_for(problem, factor),
            flags=self._flags(problem),
            validator=self._validator(problem),
            validator_args=validator_args(problem),
            interactive=problem.interactive,
            passes=_passes(problem),
            hidden=hidden,
            scratch=self.scratch,
            output_limit=problem.output_limit_mb << 20,
        )
        if problem.metadata.get("scoring") and not samples_only:
            return self._scored(problem, ctx, tests, lang)
        pick = self._group_context(problem, ctx)
        results: list[TestResult] = []
        for test in tests:
            result = run_test(pick(test), test)
            results.append(result)
            if result.verdict != Verdict.AC and self.config.stop_on_failure and not samples_only:
                break
        failed = next((r for r in results if r.verdict != Verdict.AC), None)
        return Judgement(
            problem_id=problem.id,
            language=lang,
            verdict=failed.verdict if failed else Verdict.AC,
            tests=results,
            total_tests=len(tests),
            samples_only=samples_only,
        )

    def _scored(self, problem: Problem, ctx: TestContext, tests: list[TestCase], lang: str) -> Judgement:
        """A scoring problem: every group run as its `on_reject` says, the score aggregated."""
        pick = self._group_context(problem, ctx)

        def run(test: TestCase, _rule: GroupRules) -> TestResult:
            return run_test(pick(test), test)

        top, results = grade(problem, tests, run)
        return Judgement(
            problem_id=problem.id,
            language=lang,
            verdict=top.verdict,
            tests=results,
            total_tests=len(tests),
            score=top.score,
            max_score=max_score(problem),
            group_scores=top.parts,
        )

    def _tests(self, problem: Problem, samples_only: bool) -> list[TestCase]:
        chosen = problem.samples if samples_only else sorted(problem.tests, key=lambda t: not t.is_sample)
        for test in chosen:
            for path, what in ((test.input_path, "input"), (test.answer_path, "answer")):
                if not path.is_file():
                    raise PackageError(problem.id, f"the {what} file of test {test.name} is missing", file=path)
        if not chosen and not samples_only:
            raise PackageError(problem.id, "the problem has no test data", file=problem.root)
        return chosen

    def _group_context(self, problem: Problem, ctx: TestContext) -> Callable[[TestCase], TestContext]:
        """The context of a test: its group's validator flags (test_group.yaml / testdata.yaml)
        where they differ from problem.yaml's."""
        by_group = group_flags(problem)
        if not by_group:
            return lambda _test: ctx
        contexts: dict[tuple[str, ...], TestContext] = {}

        def pick(test: TestCase) -> TestContext:
            flags = by_group.get(test.name.rpartition("/")[0])
            if flags is None:
                return ctx
            if flags not in contexts:
                if problem.validation == "default":
                    try:
                        compare = CompareFlags.parse(list(flags))
                    except ValueError as exc:
                        raise PackageError(problem.id, f"output_validator_args: {exc}", file=problem.root) from None
                    contexts[flags] = dataclasses.replace(ctx, flags=compare)
                else:
                    contexts[flags] = dataclasses.replace(ctx, validator_args=validator_args(problem, flags))
            return contexts[flags]

        return pick

    def _flags(self, problem: Problem) -> CompareFlags:
        if problem.validation != "default":
            return CompareFlags()
        try:
            return CompareFlags.parse(problem.validator_flags)
        except ValueError as exc:
            where = problem.root / "problem.yaml" if problem.root else None
            raise PackageError(problem.id, f"validator_flags: {exc}", file=where) from None

    def _validator(self, problem: Problem) -> Validator | None:
        if problem.validation == "default":
            return None
        if problem.output_validator is None:
            raise PackageError(
                problem.id,
                f"validation is {problem.validation!r} but the package has no output validator",
                file=problem.root,
            )
        constants = problem.metadata.get("constants") or {}
        key = f"{problem.output_validator}\0{sorted(constants.items())!r}"
        with self._lock:
            if key not in self._validators:
                cache = self.validator_cache
                # problem code: built in the sandbox, seeing none of the problem's data
                sandbox = ValidatorSandbox.for_executor(self.executor, self._hidden(problem, problem.tests))
                self._validators[key] = (
                    build_codejam_validator(problem, cache, sandbox=sandbox)
                    if is_codejam_validator(problem)
                    else build_validator(
                        problem.id, problem.output_validator, cache, sandbox=sandbox, constants=constants
                    )
                )
            return self._validators[key]

    def _hidden(self, problem: Problem, tests: list[TestCase]) -> tuple[str, ...]:
        """What programs (and the compiler) must not see that a visible path would show: the
        problem's data and its neighbours (see `SandboxView.data_to_hide`), the judge's own
        work folder and the configured `hidden_paths`."""
        own = self.executor.base_view.data_to_hide(problem_folders(problem, tests))
        return outermost((*own, *self._always_hidden))


def problem_folders(problem: Problem, tests: list[TestCase] | None = None) -> set[Path]:
    """The folders that hold a problem's data: its package, and each test file's folder."""
    tests = problem.tests if tests is None else tests
    folders = {problem.root} if problem.root else set()
    return folders | {t.input_path.parent for t in tests} | {t.answer_path.parent for t in tests}


def _runtime(lang: str) -> str:
    """'Java: javac 17.0.15': the language's name and its toolchain's version line."""
    version = version_of(lang)
    return f"{language_table()[lang].name}: {version}" if version else language_table()[lang].name


def _release(executor: Executor, own_dir: Path | None) -> None:
    try:
        executor.close()
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)


def _private_dir() -> Path:
    """A private work folder, in memory (/dev/shm) when possible: runs write and read small files."""
    shm = Path("/dev/shm")
    where = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="aiflows-judge-", dir=where))


def _passes(problem: Problem) -> int:
    """Multi-pass problems run the program again on the `nextpass.in` its validator writes."""
    types = problem.metadata.get("types") or []
    if not problem.metadata.get("multi_pass") and "multi-pass" not in types:
        return 1
    passes = problem.metadata.get("validation_passes", 2)
    if isinstance(passes, bool) or not isinstance(passes, int) or passes < 2:
        raise PackageError(problem.id, f"validation_passes: expected a whole number of at least 2, found {passes!r}")
    return passes


def _one_shot(problem: Problem, code: str | Mapping[str, str], language: str, samples_only: bool) -> Judgement:
    with Judge(JudgeConfig(jobs=1)) as j:
        return j._judge(problem, code, language, samples_only=samples_only)


def judge(problem: Problem, code: str | Mapping[str, str], language: str, *, judger: Judge | None = None) -> Judgement:
    """Judge `code` on all of `problem`'s tests (scoring). Pass `judger` to reuse a warm sandbox."""
    if judger is not None:
        return judger.judge(problem, code, language)
    return _one_shot(problem, code, language, samples_only=False)


def judge_samples(
    problem: Problem, code: str | Mapping[str, str], language: str, *, judger: Judge | None = None
) -> Judgement:
    """Judge `code` on the public samples only (what a flow may use while it writes code)."""
    if judger is not None:
        return judger.judge_samples(problem, code, language)
    return _one_shot(problem, code, language, samples_only=True)


async def judge_async(
    problem: Problem,
    code: str | Mapping[str, str],
    language: str,
    *,
    judger: Judge | None = None,
    samples_only: bool = False,
) -> Judgement:
    """The async twin of `judge` / `judge_samples`."""
    if judger is not None:
        return await judger.judge_async(problem, code, language, samples_only=samples_only)
    return await asyncio.to_thread(_one_shot, problem, code, language, samples_only)
