"""Problem sets for the competitive-coding benchmark.

Every loader turns its source into `Problem` (see `model.py`); the judge only sees `Problem`.

    load_problems(path_or_name)      detect the format and load a set (the usual entry point)
    ├── load_package / load_packages ICPC/Kattis packages (problemtools, BAPCtools, DOMjudge)
    ├── load_codejam                 the Code Jam archive (HTML statements, Case #x answers)
    ├── load_cc_flows + load_plans   the cc_flows Codeforces jsonl schema and editorial plans
    ├── load_humaneval               HumanEval-style function-level problems
    └── load_samples                 the small set shipped with aiflows ("samples")

Set loaders return a `ProblemSet`: a list of the problems that loaded, with `.errors` naming
each problem that did not (`ProblemError`: problem, file, key, reason).

Example:
    >>> from aiflows.problems import load_problems
    >>> problems = load_problems("samples")
    >>> [p.id for p in problems][:3]
    ['balanced_brackets', 'circle_area', 'count_primes']
"""

from aiflows.problems.cc_flows import load_buckets, load_cc_flows, load_plans
from aiflows.problems.codejam import load_codejam
from aiflows.problems.errors import ProblemError, ProblemSet
from aiflows.problems.html_text import html_to_markdown
from aiflows.problems.humaneval import load_humaneval
from aiflows.problems.kattis import is_package, load_package, load_packages
from aiflows.problems.latex_text import latex_to_markdown
from aiflows.problems.loader import detect_format, load_problems
from aiflows.problems.model import Problem, TestCase, Validation
from aiflows.problems.samples import SAMPLES_DIR, load_samples
from aiflows.problems.submissions import Submission, language_of, list_submissions

__all__ = [
    "Problem",
    "ProblemError",
    "ProblemSet",
    "SAMPLES_DIR",
    "Submission",
    "TestCase",
    "Validation",
    "detect_format",
    "html_to_markdown",
    "is_package",
    "language_of",
    "latex_to_markdown",
    "list_submissions",
    "load_buckets",
    "load_cc_flows",
    "load_codejam",
    "load_humaneval",
    "load_package",
    "load_packages",
    "load_plans",
    "load_problems",
    "load_samples",
]
