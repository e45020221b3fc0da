"""Judge throughput on many small tests: our sandboxed judge vs two unsandboxed baselines.

    python benchmarks/judge.py [--repeat 10] [--jobs 1] [--data ../shared/data/cc]

Workload: every accepted Python submission of the conformance sets (kattis-examples and
bapctools) on every test of its problem, for the problems judged by the default output
comparison (interactive, multi-pass and custom-validator problems would time their
validators, not the runs). Each side runs each program on each test and compares the output
with the same token-wise comparison, `--jobs` at a time, in `--repeat` rounds that interleave
the sides (so a change in the machine's load hits them alike):

- judge: `aiflows.judge.Judge`, sandbox on (bubblewrap, warm fork server, rlimits, uid drop);
- subprocess: `subprocess.run([python3, file])` per test, no sandbox;
- floor: a lean warm interpreter (one per job) that forks per test, unsandboxed (child:
  redirect fds, run the code in a fresh `__main__` namespace): the least any fork-per-test
  judge costs.

The last line is `RESULT judge_tps=... subprocess_tps=... floor_tps=... ratio_vs_subprocess=...
ratio_vs_floor=... conformance=MATCHED/TOTAL sandbox=bwrap|none agree=N disagree=N unsupported=N
judge_errors=N samples_only_agree=N samples_only_disagree=N real_tps=... real_tps_warm=...` (ratio_vs_floor = floor_tps /
judge_tps; the goal is >= 5 for ratio_vs_subprocess and <= 2 for ratio_vs_floor; conformance counts
the timed submissions that got AC; sandbox says which sandbox the judge's runs had: `--sandbox none`
measures the judge with no isolation and says so).

Then, over every package of both sets (scoring, interactive and multi-pass ones included), every
reference submission in every language is judged as `aiflows judge check` does (see
`aiflows.judge.check`) and printed as one row: agree / disagree / unsupported (its language's
toolchain is absent, or the judge's table has no such language) / judge-error (the package is at
fault, the row names the file). Packages with no secret data (samples only) are counted apart.
real_tps is tests per second over the accepted runs of that pass (real packages, every language,
builds included); real_tps_warm judges those accepted submissions again, programs and validators
already built: the judge's rate on real tests (interactors, multi-pass, large inputs).
Time limits are capped at 2 s there (`--cap`), as in the conformance test. `--no-packages` skips it.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.progress import Progress

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiflows.judge import CompareFlags, Judge, JudgeConfig, Verdict, compare_output  # noqa: E402 (after sys.path)
from aiflows.judge.check import PackageReport, check_package, submission_source  # noqa: E402 (after sys.path)
from aiflows.problems import list_submissions, load_package  # noqa: E402 (after sys.path)
from aiflows.problems.errors import ProblemError  # noqa: E402 (after sys.path)
from aiflows.problems.model import Problem  # noqa: E402 (after sys.path)

DEFAULT_DATA = Path(os.environ.get("AIFLOWS_SHARED_DATA", REPO.parent / "shared" / "data")) / "cc"
Job = tuple[Problem, str]  # a problem and the source of an accepted Python submission


def workload(data: Path) -> list[Job]:
    jobs: list[Job] = []
    for name in ("kattis-examples", "bapctools"):
        for folder in sorted(p for p in (data / name).iterdir() if (p / "problem.yaml").is_file()):
            try:
                problem = load_package(folder)
            except ProblemError:
                continue
            if not problem.tests or problem.validation != "default" or problem.metadata.get("multi_pass"):
                continue
            for sub in list_submissions(folder, languages={"python"}, folders={"accepted"}):
                if len(sub.files) == 1 and "_py2" not in sub.path.name and ".bad." not in sub.path.name:
                    jobs.append((problem, sub.files[0].read_text()))
    return jobs


def _check(problem: Problem, index: int, output: bytes) -> bool:
    test = problem.tests[index]
    return compare_output(test.answer_path.read_bytes(), output, CompareFlags.parse(problem.validator_flags)).ok


def run_subprocess(job: Job, scratch: Path) -> int:
    problem, code = job
    path = scratch / f"prog-{abs(hash(code))}.py"
    if not path.exists():
        path.write_text(code)
    passed = 0
    for i, test in enumerate(problem.tests):
        with open(test.input_path, "rb") as fin:
            done = subprocess.run([sys.executable, str(path)], stdin=fin, capture_output=True, timeout=30, check=False)
        passed += done.returncode == 0 and _check(problem, i, done.stdout)
    return passed


FLOOR_SERVER = r"""
import io, json, os, sys, types
requests, replies = sys.stdin.buffer, sys.stdout.buffer
for line in requests:
    req = json.loads(line)
    with open(req["input"], "rb") as fin, open(req["output"], "wb") as fout:
        pid = os.fork()
        if pid == 0:  # the child: what a fork server does, minus every isolation step
            os.dup2(fin.fileno(), 0)
            os.dup2(fout.fileno(), 1)
            sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)))
            sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)))
            main = types.ModuleType("__main__")
            rc = 0
            try:
                with open(req["code"], "rb") as fh:
                    exec(compile(fh.read(), req["code"], "exec"), main.__dict__)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 0
            except BaseException:
                rc = 1
            sys.stdout.flush()
            os._exit(rc)
        _, status = os.waitpid(pid, 0)
    replies.write(b"%d\n" % status)
    replies.flush()
"""


class Floor:
    """A lean warm interpreter that forks per test, unsandboxed: the cost floor of the design."""

    def __init__(self, workers: int) -> None:
        self._procs = [
            subprocess.Popen([sys.executable, "-c", FLOOR_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for _ in range(workers)
        ]
        self._free = list(self._procs)
        self._lock = threading.Lock()

    def run(self, job: Job, scratch: Path) -> int:
        problem, code = job
        path = scratch / f"prog-{abs(hash(code))}.py"
        if not path.exists():
            path.write_text(code)
        with self._lock:
            proc = self._free.pop()
        try:
            passed = 0
            for i, test in enumerate(problem.tests):
                out_path = scratch / f"out-{proc.pid}"
                req = {"code": str(path), "input": str(test.input_path), "output": str(out_path)}
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(json.dumps(req).encode() + b"\n")
                proc.stdin.flush()
                status = int(proc.stdout.readline())
                passed += status == 0 and _check(problem, i, out_path.read_bytes())
            return passed
        finally:
            with self._lock:
                self._free.append(proc)

    def close(self) -> None:
        for proc in self._procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()


def package_pass(data: Path, jobs: int, cap: float, sandbox: str) -> tuple[list[PackageReport], float, float]:
    """Every package's reference submissions judged and compared with what the package expects;
    then the accepted ones judged again, warm (built programs and validators reused): returns
    the reports, the first pass's seconds and the warm pass's tests per second."""
    folders = [
        p
        for name in ("kattis-examples", "bapctools")
        for p in sorted((data / name).iterdir())
        if (p / "problem.yaml").is_file()
    ]
    # Python as the reference judges run it (PyPy when installed); the throughput rounds keep CPython
    config = JudgeConfig(jobs=jobs, time_limit_cap=cap, sandbox=sandbox, python="auto")  # type: ignore[arg-type]
    start = time.perf_counter()
    with Judge(config) as judger, ThreadPoolExecutor(max_workers=jobs) as pool:
        reports = list(pool.map(lambda p: check_package(p, judger, run_input_validators=False), folders))
        seconds = time.perf_counter() - start
        accepted = [
            (problem, submission_source(problem, sub), sub.language)
            for folder, report in zip(folders, reports, strict=True)
            if (names := {r.submission for r in report.rows if r.got == "AC"})
            for problem in [load_package(folder)]
            for sub in list_submissions(folder)
            if sub.name in names
        ]
        start = time.perf_counter()
        tests = sum(pool.map(lambda job: len(judger.judge(*job).tests), accepted))
        warm_tps = tests / (time.perf_counter() - start)
    return reports, seconds, warm_tps


def package_summary(reports: list[PackageReport]) -> dict[str, float]:
    rows = [(r, row) for r in reports for row in r.rows]
    out: dict[str, float] = {}
    for outcome in ("agree", "disagree", "unsupported"):
        out[outcome] = sum(row.outcome == outcome and not row.samples_only for _, row in rows)
    out["judge_errors"] = sum(row.outcome == "judge-error" for _, row in rows)
    for outcome in ("agree", "disagree"):
        out[f"samples_only_{outcome}"] = sum(row.outcome == outcome and row.samples_only for _, row in rows)
    accepted = [row for _, row in rows if row.got == "AC"]
    seconds = sum(row.seconds for row in accepted)
    out["real_tps"] = sum(row.tests for row in accepted) / seconds if seconds else 0.0
    return out


def timed(jobs: list[Job], fn: Callable[[Job], int], workers: int, advance: Callable[[], None]) -> tuple[float, int]:
    start = time.perf_counter()
    passed = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for ok in pool.map(fn, jobs):
            passed += ok
            advance()
    return time.perf_counter() - start, passed


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="folder holding kattis-examples/ and bapctools/"
    )
    parser.add_argument("--repeat", type=int, default=10, help="how many times to run the whole workload per side")
    parser.add_argument("--jobs", type=int, default=1, help="programs run at once, the same for every side")
    parser.add_argument("--no-packages", action="store_true", help="skip judging every package's submissions")
    parser.add_argument("--cap", type=float, default=2.0, help="time-limit cap of the package pass (seconds)")
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="the judge's sandbox (default auto: bubblewrap, or an error saying how to get it)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    base = workload(args.data)
    if not base:
        print(f"no accepted Python submissions found under {args.data}", file=sys.stderr)
        return 1
    jobs = base * args.repeat
    tests = sum(len(p.tests) for p, _ in jobs)
    print(
        f"{len(base)} accepted Python submissions x {args.repeat} rounds: {len(jobs)} judgements, {tests} test runs per side"
    )
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"aiflows-judge-bench-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    results: dict[str, float] = {}
    floor = Floor(args.jobs)
    with Judge(JudgeConfig(jobs=args.jobs, sandbox=args.sandbox)) as judger, Progress() as progress:
        for problem, code in base:  # warm-up: start the sandbox once and write every program
            judger.judge(problem, code, "python")
        verdicts: list[Verdict] = []
        sandbox = "bwrap" if judger.executor.sandboxed else "none"

        def run_judge(job: Job) -> int:
            judgement = judger.judge(job[0], job[1], "python")
            verdicts.append(judgement.verdict)
            return judgement.passed

        sides: dict[str, Callable[[Job], int]] = {
            "judge": run_judge,
            "subprocess": lambda job: run_subprocess(job, scratch),
            "floor": lambda job: floor.run(job, scratch),
        }
        tasks = {label: progress.add_task(label, total=len(base) * args.repeat) for label in sides}
        elapsed = dict.fromkeys(sides, 0.0)
        passed = dict.fromkeys(sides, 0)
        # rounds interleave the sides, so that a change in the machine's load hits them alike
        for _ in range(args.repeat):
            for label, fn in sides.items():
                seconds, ok = timed(base, fn, args.jobs, functools.partial(progress.advance, tasks[label]))
                elapsed[label] += seconds
                passed[label] += ok
        for label in sides:
            results[label] = tests / elapsed[label]
            progress.console.print(
                f"{label:>10}: {elapsed[label]:6.2f} s, {results[label]:8.1f} tests/s, {passed[label]}/{tests} passed"
            )
    floor.close()
    for leftover in scratch.iterdir():
        leftover.unlink()
    scratch.rmdir()
    matched = sum(v == Verdict.AC for v in verdicts)
    extra = ""
    if not args.no_packages:
        reports, seconds, warm_tps = package_pass(args.data, max(args.jobs, 2), args.cap, args.sandbox)
        for report in reports:
            if report.rows or report.issues:
                print(report.table())
        summary = package_summary(reports) | {"real_tps_warm": warm_tps}
        print(f"package pass: {sum(len(r.rows) for r in reports)} submissions in {seconds:.1f} s")
        extra = " " + " ".join(
            f"{k}={v:.1f}" if k.startswith("real_tps") else f"{k}={int(v)}" for k, v in summary.items()
        )
    print(
        f"RESULT judge_tps={results['judge']:.1f} subprocess_tps={results['subprocess']:.1f} "
        f"floor_tps={results['floor']:.1f} ratio_vs_subprocess={results['judge'] / results['subprocess']:.2f} "
        f"ratio_vs_floor={results['floor'] / results['judge']:.2f} conformance={matched}/{len(verdicts)} "
        f"sandbox={sandbox}{extra}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
