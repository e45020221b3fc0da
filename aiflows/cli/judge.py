"""`aiflows judge`: judge one program on a problem package, in the sandbox.

    aiflows judge ../shared/data/cc/kattis-examples/hello hello.py
    aiflows judge path/to/problem sol.cpp --samples          # public samples only
    aiflows judge path/to/problem sol.c --language c --json  # the Judgement as JSON
    aiflows judge path/to/problem sol.py --show-secret       # also the data of failed secret tests
    aiflows judge check path/to/problem                      # check the package, judge its submissions

The data of secret (hidden) tests, their input, answer, the program's output and stderr and the
checker's words, is not shown unless `--show-secret` is given: samples show everything.
The exit code is 0 when the program is accepted, 1 otherwise (2 for bad usage).

`aiflows judge check PACKAGE` checks a package as problemtools' verifyproblem does (problem.yaml
keys and types, data present, input validators accepting the data, output validators building)
and judges every reference submission against its expected verdict, one row each; the exit code
is 1 when a submission disagrees or the package has an error (each named by file and key).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "judge", help="judge a program on a problem package (sandboxed)", description=__doc__.splitlines()[0]
    )
    parser.add_argument("problem", type=Path, help="the problem package folder (problem.yaml, data/, ...), or `check`")
    parser.add_argument(
        "submission", type=Path, help="the program's source file (.py, .c, .cc/.cpp); after `check`: the package"
    )
    parser.add_argument("--language", default=None, help="python, c or cpp (default: from the file extension)")
    parser.add_argument("--samples", action="store_true", help="judge on the public samples only")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="programs run at once (default 2)")
    parser.add_argument("--time-limit-cap", type=float, default=None, help="clip the problem's time limit (seconds)")
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "none"),
        default="auto",
        help="sandbox to use (default auto: bubblewrap, or an error saying how to install it; "
        "none: no isolation at all)",
    )
    parser.add_argument(
        "--python",
        choices=("auto", "pypy", "cpython"),
        default="auto",
        help="Python submissions: auto (default) runs PyPy when installed, as contest judges do, else CPython"
        " with the language table's time factor; pypy or cpython force one",
    )
    parser.add_argument("--json", action="store_true", help="print the Judgement as JSON")
    parser.add_argument(
        "--show-secret",
        action="store_true",
        help="show the data of secret tests too (input, answer, output, stderr); samples always show it",
    )
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from aiflows.judge import Judge, JudgeConfig, PackageError, Verdict
    from aiflows.judge._programs import SUFFIXES
    from aiflows.judge._redact import without_secret_data
    from aiflows.problems import load_package

    if str(args.problem) == "check" and not args.problem.exists():
        return _check(args)
    source: Path = args.submission
    if not source.is_file():
        raise PackageError(str(args.problem), "the submission file does not exist", file=source)
    language = args.language or SUFFIXES.get(source.suffix.lower())
    if language is None:
        print(f"ValueError: cannot tell the language of {source}; pass --language", file=sys.stderr)
        return 2
    problem = load_package(args.problem)
    config = JudgeConfig(jobs=args.jobs, time_limit_cap=args.time_limit_cap, sandbox=args.sandbox, python=args.python)
    with Judge(config) as judger:
        code = source.read_text()
        judgement = (
            judger.judge_samples(problem, code, language) if args.samples else judger.judge(problem, code, language)
        )
    if not args.show_secret:
        judgement = without_secret_data(judgement)
    if args.json:
        print(judgement.model_dump_json(indent=2))
    else:
        for test in judgement.tests:
            print(f"{test.verdict:>4}  {test.name:30} {test.time_s:6.2f} s  {test.message}")
        print(judgement.feedback())
        if judgement.runtime:
            print(f"Runtime: {judgement.runtime}")
        if judgement.score is not None:
            top = f" of {judgement.max_score:g}" if judgement.max_score is not None else ""
            groups = ", ".join(f"{g}: {v:g}" for g, v in judgement.group_scores.items() if g)
            print(f"Score: {judgement.score:g}{top}" + (f" ({groups})" if groups else ""))
        if getattr(judgement, "sandbox", "bwrap") == "none":
            print("Judged WITHOUT a sandbox (--sandbox none): the program could read and write any file.")
    return 0 if judgement.verdict == Verdict.AC else 1


def _check(args: argparse.Namespace) -> int:
    from aiflows.judge import Judge, JudgeConfig
    from aiflows.judge.check import check_package

    package: Path = args.submission
    if not (package / "problem.yaml").is_file():
        print(f"error: {package}: not a problem package (no problem.yaml)", file=sys.stderr)
        return 2
    config = JudgeConfig(jobs=args.jobs, time_limit_cap=args.time_limit_cap, sandbox=args.sandbox, python=args.python)
    with Judge(config) as judger:
        report = check_package(package, judger)
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(report.table())
        counts = {o: sum(r.outcome == o for r in report.rows) for o in ("agree", "disagree", "unsupported")}
        errors = sum(i.level == "error" for i in report.issues)
        judge_errors = sum(r.outcome == "judge-error" for r in report.rows)
        print(
            f"{package.name}: {counts['agree']} agree, {counts['disagree']} disagree, "
            f"{counts['unsupported']} unsupported, {judge_errors} judge errors; {errors} package errors"
        )
    return 0 if report.ok else 1


if __name__ == "__main__":
    from aiflows.cli import main

    sys.exit(main(["judge", *sys.argv[1:]]))
