"""The runner on real problem packages (Kattis problemtools examples): validators, interaction, scoring."""

from __future__ import annotations

import pytest

from aiflows.bench import BenchConfig, RecordFile, run_bench
from aiflows.llm.testing import LoopbackLLMServer, Reply, SeenRequest
from aiflows.problems import load_problems

pytestmark = pytest.mark.slow


async def test_kattis_examples_are_scored_on_their_hidden_tests(shared_data, tmp_path) -> None:
    source = shared_data / "cc" / "kattis-examples"
    problems = load_problems(source)
    known = {}
    for problem in problems:
        accepted = sorted((problem.root / "submissions" / "accepted").glob("*.py"))
        known[problem.title] = accepted[0].read_text() if accepted else "print(input())\n"

    def answer(request: SeenRequest) -> Reply:
        first_user = next(m["content"] for m in request.messages if m["role"] == "user")
        title = next(t for t in known if f"# Problem: {t}" in first_user)
        return Reply(content=f"```python\n{known[title]}```")

    with LoopbackLLMServer(responder=answer, models=["test-model"]) as server:
        result = await run_bench(
            BenchConfig(
                flow="Code",
                problems=[str(source)],
                out=tmp_path / "out",
                model="openai/test-model",
                api_base=server.url,
                progress=False,
                flow_config={"chat": {"max_retries": 0}},
            )
        )
    records = RecordFile(tmp_path / "out").load()
    assert set(records) == {(p.id, 0) for p in problems}
    assert records[("hello", 0)].accepted and records[("oddecho", 0)].accepted
    # 'different' is answered with its first accepted .py, which is Python 2: a compile error under
    # Python 3, as the reference judges say; an echo is wrong for the interactive problem.
    assert records[("different", 0)].verdict == "CE"
    assert records[("guess", 0)].status == "done" and not records[("guess", 0)].accepted
    assert result.report.solved == 2 and result.report.problems == 4
