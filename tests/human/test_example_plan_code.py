"""examples/human_plan_code.py end to end: a person plans and edits in a terminal, a chat model
(an OpenAI-protocol server on loopback) writes the code, the sandboxed judge runs the samples."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO

from aiflows.llm.testing import LoopbackLLMServer, Reply

pytestmark = pytest.mark.slow

pexpect = pytest.importorskip("pexpect")

WRONG = "Here is the program:\n```python\nimport sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\n    print(a + b)\n```\n"


def test_person_plans_model_codes_judge_checks_person_fixes(env: dict[str, str], shared_data: Path) -> None:
    problem = shared_data / "cc" / "kattis-examples" / "different"
    if not problem.is_dir():
        pytest.skip(f"{problem} is missing")
    with LoopbackLLMServer() as server:
        server.script(Reply(content=WRONG))
        child_env = {**env, "AIFLOWS_MODEL": "openai/coder", "AIFLOWS_API_BASE": server.url, "OPENAI_API_KEY": "k"}
        child = pexpect.spawn(
            sys.executable,
            [str(REPO / "examples" / "human_plan_code.py"), str(problem), "--rounds", "2", "--name", "ada"],
            env=child_env,
            cwd=str(REPO),
            encoding="utf-8",
            timeout=90,
            dimensions=(60, 200),
        )
        child.expect("Write a plan for this problem")
        child.expect("end with a line holding only")
        child.sendline("read pairs until end of input")
        child.sendline("print the absolute difference of each pair")
        child.sendline(".")
        child.expect("Keep the code, or edit it")
        child.expect("Wrong answer \\(WA\\) on sample")  # the judge's feedback is shown with the code
        child.expect("Your output:\\s+22\\s")
        child.expect("\\[e\\]dit it\\?")
        child.sendline("e")
        child.expect("Type the new value")
        child.sendline("import sys")
        child.sendline("for line in sys.stdin:")
        child.sendline("    a, b = map(int, line.split())")
        child.sendline("    print(abs(a - b))")
        child.sendline(".")
        child.expect("'accepted': True")
        child.expect(pexpect.EOF)
        child.close()
        prompt = "\n".join(m["content"] for m in server.requests[0].messages)
    assert child.exitstatus == 0, child.before
    assert "print the absolute difference of each pair" in prompt  # the coder followed the person's plan
    assert "A Different Problem" in prompt
    assert len(server.requests) == 1  # accepted after the edit: no second round
