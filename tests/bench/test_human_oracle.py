"""Plan_Oracle with a person as the oracle: the attempt waits, a rerun after the answer resumes it."""

from __future__ import annotations

from aiflows.bench import BenchConfig, RecordFile, run_bench
from aiflows.human import HumanDesk
from aiflows.runtime import Runtime

PLAN = "Split the line into words and print them in reverse order."


async def test_a_waiting_attempt_resumes_on_the_rerun_after_the_person_answers(solving, tmp_path) -> None:
    server, _model = solving
    out = tmp_path / "out"
    config = BenchConfig(
        flow="Plan_Oracle-Code",
        problems=["samples"],
        limit=1,
        out=out,
        model="openai/test-model",
        api_base=server.url,
        progress=False,
        flow_config={"oracle": "human", "chat": {"max_retries": 0}},
    )
    first = await run_bench(config)
    (waiting,) = RecordFile(out).load().values()
    assert waiting.status == "suspended" and waiting.error.type == "Suspended" and waiting.run_id
    assert "aiflows human" in waiting.error.message
    assert server.requests == []  # the coder waits for the plan
    assert first.report.solved == 0

    async with Runtime() as rt:
        [request] = await HumanDesk(rt).pending()
        assert request.run_id == waiting.run_id and "Balanced Brackets" in request.question
        await HumanDesk(rt).answer(request.id, PLAN, by="ada")

    again = await run_bench(config)
    (record,) = RecordFile(out).load().values()
    assert again.ran == 1 and record.run_id == waiting.run_id and record.session == waiting.session
    assert record.status == "done" and record.verdict is not None
    # The coder's prompt carries the person's plan.
    assert PLAN in server.requests[0].messages[-1]["content"]
