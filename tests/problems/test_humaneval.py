"""HumanEval-style function problems: loaded from the real file, checked by running them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aiflows.problems import load_humaneval


def test_real_file_loads(cc_data: Path) -> None:
    s = load_humaneval(cc_data / "humaneval" / "data" / "HumanEval.jsonl.gz")
    assert len(s) == 164 and s.errors == []
    p = s[0]
    assert (p.id, p.kind, p.entry_point, p.source) == ("HumanEval/0", "function", "has_close_elements", "humaneval")
    assert p.prompt is not None and p.prompt.startswith("from typing import List")
    assert p.test_code is not None and "def check(candidate)" in p.test_code
    assert p.tests == [] and p.prompt in p.statement
    assert len({q.id for q in s}) == 164


def test_canonical_solutions_pass_their_tests(cc_data: Path, tmp_path: Path) -> None:
    """The fields fit together: prompt + canonical solution + test_code + check(entry_point) runs clean."""
    s = load_humaneval(cc_data / "humaneval" / "data" / "HumanEval.jsonl.gz", limit=12)
    for p in s:
        program = f"{p.prompt}{p.metadata['canonical_solution']}\n\n{p.test_code}\n\ncheck({p.entry_point})\n"
        script = tmp_path / "run.py"
        script.write_text(program)
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (p.id, done.stderr[-500:])
        broken = f"{p.prompt}    raise NotImplementedError\n\n{p.test_code}\n\ncheck({p.entry_point})\n"
        script.write_text(broken)
        assert subprocess.run([sys.executable, str(script)], capture_output=True, timeout=60).returncode != 0


def test_example_file_and_bad_lines(cc_data: Path, tmp_path: Path) -> None:
    (p,) = load_humaneval(cc_data / "humaneval" / "data" / "example_problem.jsonl")
    assert p.entry_point == "return1" and p.id == "test/0"
    bad = tmp_path / "he.jsonl"
    bad.write_text(
        '{"task_id": "x/1", "prompt": "def f():\\n", "entry_point": "f"}\n'
        '{"task_id": "x/2", "prompt": "def g():\\n", "entry_point": "g", "test": "def check(c): pass"}\n'
    )
    s = load_humaneval(bad)
    assert [q.id for q in s] == ["x/2"]
    (err,) = s.errors
    assert err.problem == "x/1" and err.key == "test" and "line 1" in str(err)
