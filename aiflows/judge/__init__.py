"""The sandboxed judge for the competitive-coding benchmark.

Layers, bottom up: `_sandbox` (what a program sees), `_server_main` (the warm fork server
inside bubblewrap) and `_direct` (a fresh sandbox per run) run programs under limits;
`_executor` picks between them; `_programs` compiles submissions; `_compare` and
`_validators` check output; `_testrun` judges one test; `_judge` judges a problem.

    from aiflows.judge import Judge
    with Judge() as j:
        judgement = j.judge_samples(problem, code, "python")
        print(judgement.to_prompt())
"""

from aiflows.judge._compare import CompareFlags, Comparison, compare_output
from aiflows.judge._errors import JudgeError, PackageError, SandboxError, ValidatorError
from aiflows.judge._judge import Judge, JudgeConfig, judge, judge_async, judge_samples, problem_folders
from aiflows.judge._languages import Language, LanguageTableError, UnsupportedLanguage, language_table
from aiflows.judge._models import Judgement, Limits, RunResult, TestResult, Verdict

__all__ = [
    "CompareFlags",
    "Comparison",
    "Judge",
    "JudgeConfig",
    "JudgeError",
    "Judgement",
    "Language",
    "LanguageTableError",
    "Limits",
    "PackageError",
    "RunResult",
    "SandboxError",
    "TestResult",
    "UnsupportedLanguage",
    "ValidatorError",
    "Verdict",
    "compare_output",
    "judge",
    "judge_async",
    "judge_samples",
    "language_table",
    "problem_folders",
]
