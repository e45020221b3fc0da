"""Check a problem package as problemtools' verifyproblem does, and judge its submissions.

    report = check_package(Path("../shared/data/cc/kattis-examples/oddecho"), judger)
    print(report.table())

`problem.yaml` keys and types, data present, input validators accepting the data, output
validators building, and every reference submission getting its expected verdict: the folder's
(`accepted`, `wrong_answer`, ...), `submissions.yaml`'s, or an `@EXPECTED_RESULTS@:` /
`@EXPECTED_SCORE@:` marker in the source. Each submission is one row: agree, disagree,
unsupported (its language's toolchain is absent) or judge error (the package is at fault: the
row names the file). Nothing in a bad package raises: its faults are listed, named by file and key.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from aiflows.judge._errors import JudgeError
from aiflows.judge._judge import Judge
from aiflows.judge._languages import UnsupportedLanguage
from aiflows.judge._models import Judgement
from aiflows.judge._package import validator_cache_dir
from aiflows.judge._validator_sandbox import ValidatorSandbox, run_limits
from aiflows.judge._validators import ACCEPT, build_validator
from aiflows.problems.constants import substitute
from aiflows.problems.errors import ProblemError
from aiflows.problems.kattis import load_package, unknown_keys
from aiflows.problems.model import Problem
from aiflows.problems.submissions import Submission, list_submissions

__all__ = ["Issue", "PackageReport", "Row", "check_package", "expected_of", "follow_text_link", "submission_source"]

Outcome = Literal["agree", "disagree", "unsupported", "judge-error", "no-expectation"]

_MARKER = re.compile(r"@EXPECTED_(RESULTS|SCORE)@\s*:?\s*([^\n]*)")
_NAMES = {
    "ACCEPTED": "AC", "WRONG_ANSWER": "WA", "TIME_LIMIT_EXCEEDED": "TLE", "RUN_TIME_ERROR": "RTE",
    "MEMORY_LIMIT_EXCEEDED": "MLE", "OUTPUT_LIMIT_EXCEEDED": "OLE", "COMPILE_ERROR": "CE",
    # DOMjudge's names (its @EXPECTED_RESULTS@ markers); NO-OUTPUT is a wrong answer with no output
    "CORRECT": "AC", "WRONG-ANSWER": "WA", "NO-OUTPUT": "WA", "TIMELIMIT": "TLE", "RUN-ERROR": "RTE",
    "COMPILER-ERROR": "CE", "OUTPUT-LIMIT": "OLE", "MEMORY-LIMIT": "MLE",
}  # fmt: skip


class Issue(BaseModel):
    """One fault of a package: which file (and key) and what is wrong."""

    level: Literal["error", "warning"]
    file: str
    key: str = ""
    message: str

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.key}]" if self.key else "")
        return f"{self.level}: {where}: {self.message}"


class Row(BaseModel):
    """One reference submission: what its package expects and what the judge said."""

    package: str
    submission: str
    language: str
    expected: list[str]
    got: str = ""
    score: float | None = None
    outcome: Outcome
    detail: str = ""
    samples_only: bool = False  # the package has no secret data: only the samples were judged
    tests: int = 0  # tests run
    seconds: float = 0.0  # wall time of the judgement


class PackageReport(BaseModel):
    """The check of one package."""

    package: str
    issues: list[Issue] = Field(default_factory=list)
    rows: list[Row] = Field(default_factory=list)
    tests: int = 0  # test runs the submissions made

    @property
    def ok(self) -> bool:
        return not any(i.level == "error" for i in self.issues) and all(
            r.outcome in ("agree", "unsupported") for r in self.rows
        )

    def table(self) -> str:
        lines = [str(i) for i in self.issues]
        for r in self.rows:
            score = f" score={r.score:g}" if r.score is not None else ""
            flag = " (samples only)" if r.samples_only else ""
            lines.append(
                f"{r.outcome:11} {r.package:22} {r.submission:48} want {'/'.join(r.expected):8} "
                f"got {r.got or '-':4}{score}{flag} {r.detail}".rstrip()
            )
        return "\n".join(lines)


def expected_of(sub: Submission, scoring: bool) -> tuple[list[str], float | None]:
    """(verdicts allowed, exact score wanted) for a submission: marker, submissions.yaml, folder."""
    score: float | None = None
    allowed = list(sub.permitted or ([sub.expected] if sub.expected else []))
    if sub.folder == "partially_accepted" or (scoring and sub.folder == "accepted"):
        allowed = ["AC"]
    for path in sub.files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for kind, value in _MARKER.findall(text):
            if kind == "RESULTS":
                names = [_NAMES.get(w.strip().upper(), w.strip().upper()) for w in value.split(",") if w.strip()]
                allowed = names or allowed
            else:
                try:
                    score = float(value.split()[0])
                except (ValueError, IndexError):
                    pass
    return allowed, score


def _yaml_issues(root: Path) -> list[Issue]:
    from aiflows.problems.yaml_files import read_yaml_mapping

    path = root / "problem.yaml"
    try:
        raw = read_yaml_mapping(path)
    except ProblemError as exc:
        return [Issue(level="error", file=str(path), message=str(exc))]
    issues = [
        Issue(level="warning", file=str(path), key=key, message="unknown key (not in the problem package format)")
        for key in unknown_keys(raw)
    ]
    if raw.get("limits") is not None and not isinstance(raw.get("limits"), dict):
        issues.append(Issue(level="error", file=str(path), key="limits", message="expected a mapping"))
    return issues


def _input_validators(problem: Problem, judger: Judge) -> list[Issue]:
    """Run every input validator on every input (exit 42 accepts), in the validator sandbox."""
    root = problem.root
    assert root is not None
    folders = [root / n for n in ("input_validators", "input_validator") if (root / n).is_dir()]
    entries = [e for f in folders for e in sorted(f.iterdir()) if not e.name.startswith(".")]
    if not entries:
        return [Issue(level="warning", file=str(root), message="no input validator")]
    issues: list[Issue] = []
    sandbox = ValidatorSandbox.for_executor(judger.executor, judger._hidden(problem, problem.tests))
    constants = problem.metadata.get("constants") or {}
    for entry in entries:
        if entry.is_file() and entry.suffix in (".ctd", ".viva"):
            issues.append(Issue(level="warning", file=str(entry), message="checktestdata/viva is not run here"))
            continue
        try:
            validator = build_validator(problem.id, entry, validator_cache_dir(), sandbox=sandbox, constants=constants)
        except JudgeError as exc:
            issues.append(Issue(level="error", file=str(entry), message=str(exc).splitlines()[0][:300]))
            continue
        rejected: list[tuple[Path, str]] = []
        for test in problem.tests:
            flags = substitute(_group_flags(test.input_path.parent), constants).split()
            with open(test.input_path, "rb") as fin:
                done = sandbox.run(
                    [*sandbox.argv(validator.argv, validator.home), *flags],
                    run_limits(60.0),
                    capture=True,
                    stdin=fin.fileno(),
                    home=(validator.home, False) if validator.home else None,
                    ro=[],
                )
            if done.code != ACCEPT:
                rejected.append((test.input_path, done.output.decode(errors="replace").strip()[-200:]))
        if rejected:
            first, why = rejected[0]
            message = f"rejects {len(rejected)} of {len(problem.tests)} inputs, first {first}: {why or 'no message'}"
            issues.append(Issue(level="error", file=str(entry), message=message))
    return issues


def _group_flags(folder: Path) -> str:
    """`input_validator_flags` of the nearest testdata.yaml (legacy), as one string."""
    from aiflows.problems.yaml_files import read_yaml_mapping

    for here in (folder, *folder.parents):
        path = here / "testdata.yaml"
        if path.is_file():
            try:
                value: Any = read_yaml_mapping(path).get("input_validator_flags")
            except ProblemError:
                return ""
            if value is not None:
                return " ".join(value) if isinstance(value, list) else str(value)
        if here.name == "data":
            break
    return ""


def check_package(
    path: Path,
    judger: Judge,
    *,
    languages: set[str] | None = None,
    run_input_validators: bool = True,
    submissions: bool = True,
) -> PackageReport:
    """Check the package at `path` and judge its reference submissions with `judger`."""
    name = path.name
    report = PackageReport(package=name, issues=_yaml_issues(path))
    try:
        problem = load_package(path)
    except ProblemError as exc:
        report.issues.append(
            Issue(level="error", file=str(exc.path or path), key=getattr(exc, "key", None) or "", message=str(exc))
        )
        return report
    if not problem.tests:
        report.issues.append(Issue(level="warning", file=str(path / "data"), message="no test data"))
        return report
    samples_only = not any(not t.is_sample for t in problem.tests)
    if samples_only:
        report.issues.append(Issue(level="warning", file=str(path / "data"), message="only samples: no secret data"))
    if run_input_validators:
        report.issues += _input_validators(problem, judger)
    if problem.validation != "default":
        try:
            judger._validator(problem)
        except JudgeError as exc:
            report.issues.append(
                Issue(level="error", file=str(problem.output_validator or path), message=str(exc).splitlines()[0])
            )
    if submissions:
        scoring = bool(problem.metadata.get("scoring"))
        for sub in list_submissions(path):
            row = _judge_one(judger, problem, sub, scoring)
            report.rows.append(row.model_copy(update={"samples_only": samples_only}))
            report.tests += row.tests
    return report


def _judge_one(judger: Judge, problem: Problem, sub: Submission, scoring: bool) -> Row:
    expected, want_score = expected_of(sub, scoring)
    row = Row(package=problem.id, submission=sub.name, language=sub.language, expected=expected, outcome="unsupported")
    if not expected:
        return row.model_copy(update={"outcome": "no-expectation", "detail": "the folder promises no verdict"})
    code: str | dict[str, str]
    try:
        code = submission_source(problem, sub)
        start = time.perf_counter()
        judgement = judger.judge(problem, code, sub.language)
        seconds = time.perf_counter() - start
    except UnsupportedLanguage as exc:
        return row.model_copy(update={"detail": str(exc).splitlines()[0][:120]})
    except (JudgeError, UnicodeDecodeError, OSError, subprocess.SubprocessError) as exc:
        return row.model_copy(update={"outcome": "judge-error", "detail": str(exc).replace("\n", " ")[:200]})
    if judgement.verdict == "CE" and "CE" not in expected and judgement.compile_output.startswith("cannot tell"):
        # a reference submission with no entry point: the package's fault, not a verdict on a program
        why = f"problem '{problem.id}', file {sub.path}: {judgement.compile_output.splitlines()[0][:160]}"
        return row.model_copy(update={"outcome": "judge-error", "got": "CE", "detail": why})
    if judgement.judge_error:
        return row.model_copy(update={"outcome": "judge-error", "got": "JE", "detail": judgement.judge_error[:200]})
    agree = any(judgement.agrees_with(v) for v in expected) and _score_agrees(judgement, sub, want_score)
    fail = judgement.first_failure
    why = "" if agree else (fail.message if fail else judgement.compile_output[:80]).replace("\n", " ")[:100]
    return row.model_copy(
        update={
            "got": judgement.verdict.value,
            "score": judgement.score,
            "outcome": "agree" if agree else "disagree",
            "detail": why,
            "tests": len(judgement.tests),
            "seconds": seconds,
        }
    )


def follow_text_link(path: Path) -> Path:
    """A one-line file naming an existing relative path is a symlink stored as text (archives and
    checkouts without symlink support write them so): the file it names."""
    try:
        if path.stat().st_size > 300:
            return path
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return path
    if "\n" in text or not text.startswith(("../", "./")):
        return path
    target = (path.parent / text).resolve()
    return follow_text_link(target) if target.is_file() else path


def submission_source(problem: Problem, sub: Submission) -> str | dict[str, str]:
    """The submission's files (links stored as text followed); submissions.yaml's `entrypoint`
    of a Python folder becomes its main.py."""
    if len(sub.files) == 1 and sub.path.is_file():
        return follow_text_link(sub.files[0]).read_text()
    files = {f.relative_to(sub.path).as_posix(): follow_text_link(f).read_text() for f in sub.files}
    entry = _entrypoint(problem, sub)
    if entry and entry in files and entry.endswith(".py") and entry != "main.py":
        if "main.py" in files:
            files["main_.py"] = files.pop("main.py")
        files["main.py"] = files.pop(entry)
    return files


def _entrypoint(problem: Problem, sub: Submission) -> str | None:
    from aiflows.problems.yaml_files import read_yaml_mapping

    path = (problem.root or Path()) / "submissions" / "submissions.yaml"
    if not path.is_file():
        return None
    try:
        rules = read_yaml_mapping(path)
    except ProblemError:
        return None
    for key in (sub.name, sub.folder):
        rule = rules.get(key)
        if isinstance(rule, dict) and isinstance(rule.get("entrypoint"), str):
            return str(rule["entrypoint"])
    return None


def _score_agrees(judgement: Judgement, sub: Submission, want: float | None) -> bool:
    if judgement.score is None:
        return want is None
    if want is not None:
        return abs(judgement.score - want) < 1e-6
    top = judgement.max_score
    if sub.folder == "accepted" and top is not None:
        return abs(judgement.score - top) < 1e-6
    if sub.folder == "partially_accepted":
        return judgement.score > 0 and (top is None or judgement.score < top)
    return True
