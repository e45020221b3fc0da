"""Verdicts, limits and the judgement a Code-Debug flow feeds back to a model."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Judgement", "Limits", "RunResult", "TestResult", "Verdict"]


class Verdict(StrEnum):
    """Kattis-style verdicts, plus JE when the judge itself (or a validator) failed."""

    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded (CPU or wall)
    MLE = "MLE"  # memory limit exceeded (never given by the judge: such a run is RTE, see TestResult)
    RTE = "RTE"  # run-time error: non-zero exit or killed by a signal
    OLE = "OLE"  # output limit exceeded
    CE = "CE"  # compile error
    JE = "JE"  # judge error: a validator crashed or answered something other than 42/43

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    Verdict.AC: "accepted",
    Verdict.WA: "wrong answer",
    Verdict.TLE: "time limit exceeded",
    Verdict.MLE: "memory limit exceeded",
    Verdict.RTE: "run-time error",
    Verdict.OLE: "output limit exceeded",
    Verdict.CE: "compile error",
    Verdict.JE: "judge error",
}


class Limits(BaseModel):
    """Resource limits for one program run; each is enforced per run, in the child."""

    model_config = ConfigDict(frozen=True)

    cpu_s: float = Field(default=2.0, gt=0)  # CPU time (user + system), the problem's time limit
    wall_s: float = Field(default=5.0, gt=0)  # wall-clock time: catches sleeping and blocked programs
    # a run may go on to this much CPU (the limit x the package's time_limit_to_tle) so that a TLE's
    # time is measured past the limit, as problemtools runs them; the verdict stays at cpu_s. None: cpu_s
    cpu_kill_s: float | None = Field(default=None, gt=0)
    memory_mb: int = Field(default=1024, gt=0)  # address space (RLIMIT_AS)
    processes: int = Field(default=64, gt=0)  # processes + threads of the run's uid (RLIMIT_NPROC)
    output_mb: float = Field(default=8, gt=0)  # stdout size
    file_mb: float = Field(default=64, gt=0)  # any file written (RLIMIT_FSIZE; scratch is a tmpfs)
    # None: the stack may grow to the whole memory limit, as Kattis and DOMjudge set it (RLIMIT_STACK
    # unlimited, RLIMIT_AS bounds it; a finite RLIMIT_STACK would also size every thread's reservation)
    stack_mb: int | None = Field(default=None, gt=0)


class RunResult(BaseModel):
    """How one sandboxed process ended."""

    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    max_rss_kb: int = 0
    timed_out: bool = False  # killed at the wall-clock limit
    killed: bool = False  # killed by the judge (wall limit, or its interactor finished first)
    error: str | None = None  # the sandbox could not run it at all

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.signal is None and self.error is None


class TestResult(BaseModel):
    """The verdict on one test, with what a person (or a model) needs to fix it."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    name: str
    is_sample: bool = False
    verdict: Verdict
    message: str = ""  # one sentence: why this verdict
    time_s: float = 0.0
    wall_s: float = 0.0
    memory_kb: int = 0
    exit_code: int | None = None
    signal: int | None = None
    input_excerpt: str = ""
    expected_excerpt: str = ""
    got_excerpt: str = ""
    diff: str = ""
    validator_feedback: str = ""
    stderr_tail: str = ""
    # the run died near its memory limit: RTE, as Kattis reports it; a package expecting MLE agrees
    memory_limit_hit: bool = False
    score: float | None = None  # scoring problems: score.txt of the validator, else the group's accept score


class Judgement(BaseModel):
    """The verdict on a submission for a problem.

    `verdict` is the first failing test's verdict (or AC, or CE). `feedback()` turns it into
    words a model can act on: which test failed, how, expected vs got.

        >>> j = Judgement(problem_id="hello", language="python", verdict=Verdict.AC)
        >>> j.feedback()
        'All 0 tests passed (accepted).'
    """

    problem_id: str
    language: str
    verdict: Verdict
    tests: list[TestResult] = Field(default_factory=list)
    total_tests: int = 0  # tests the problem has in the judged set (some may be skipped)
    compile_output: str = ""
    samples_only: bool = False
    # scoring problems: the submission's score, the most it could score and each test group's score
    score: float | None = None
    max_score: float | None = None
    group_scores: dict[str, float] = Field(default_factory=dict)
    sandbox: Literal["bwrap", "none"] = "bwrap"  # "none": judged with no isolation (asked for explicitly)
    runtime: str = ""  # the toolchain that ran it ("CPython 3.12.3", "PyPy 7.3.11", "javac 17.0.13")

    @property
    def accepted(self) -> bool:
        return self.verdict == Verdict.AC

    @property
    def judge_error(self) -> str:
        """When the package (a validator, an interactor) is at fault, not the submission: what
        and which file; "" otherwise."""
        fail = self.first_failure
        return fail.message if fail is not None and fail.verdict == Verdict.JE else ""

    @property
    def passed(self) -> int:
        return sum(t.verdict == Verdict.AC for t in self.tests)

    @property
    def first_failure(self) -> TestResult | None:
        return next((t for t in self.tests if t.verdict != Verdict.AC), None)

    @property
    def memory_limit_hit(self) -> bool:
        """The failing test's run died near its memory limit (the verdict is then RTE)."""
        fail = self.first_failure
        return fail is not None and fail.memory_limit_hit

    def agrees_with(self, expected: str) -> bool:
        """Whether this judgement gives `expected` ("AC", "MLE", ...), as a package's expectation
        reads: MLE is met by an RTE whose run hit the memory limit, since the judge never says MLE."""
        if self.verdict == expected:
            return True
        return expected == Verdict.MLE and self.verdict == Verdict.RTE and self.memory_limit_hit

    @property
    def max_time_s(self) -> float:
        return max((t.time_s for t in self.tests), default=0.0)

    def feedback(self) -> str:
        """Say in words what failed, on which test, expected vs got."""
        if self.verdict == Verdict.CE:
            return f"The program did not compile ({self.language}):\n{self.compile_output.strip()}"
        fail = self.first_failure
        if fail is None and not self.tests and self.samples_only:
            return "The problem has no public samples, so nothing was run."
        if fail is None:
            return f"All {self.total_tests or len(self.tests)} tests passed (accepted)."
        kind = "sample" if fail.is_sample else "hidden test"
        total = self.total_tests or len(self.tests)
        head = f"{fail.verdict.words.capitalize()} ({fail.verdict}) on {kind} {fail.name}"
        lines = [f"{head} after passing {self.passed} of {total} tests."]
        if fail.message:
            lines.append(fail.message)
        if fail.input_excerpt:
            lines.append(f"Input:\n{fail.input_excerpt}")
        if fail.expected_excerpt:
            lines.append(f"Expected output:\n{fail.expected_excerpt}")
        if fail.verdict == Verdict.WA or fail.got_excerpt:
            lines.append(f"Your output:\n{fail.got_excerpt or '(empty)'}")
        if fail.diff:
            lines.append(f"First difference: {fail.diff}")
        if fail.validator_feedback:
            lines.append(f"Checker says: {fail.validator_feedback}")
        if fail.stderr_tail:
            lines.append(f"Standard error (end):\n{fail.stderr_tail}")
        others = [t for t in self.tests if t.verdict != Verdict.AC and t is not fail]
        if others:
            lines.append("Also failing: " + ", ".join(f"{t.name} ({t.verdict})" for t in others))
        return "\n".join(lines)

    def to_prompt(self) -> str:
        """The feedback, framed for the next turn of a Code-Debug conversation."""
        scope = "the public samples" if self.samples_only else "the tests"
        head = f"Result of running your code on {scope} of problem {self.problem_id}: {self.verdict}."
        return f"{head}\n{self.feedback()}"
