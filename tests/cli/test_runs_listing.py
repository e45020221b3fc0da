"""`aiflows runs`: a header, when each run started, how long it took, how it ended, which model it called."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from aiflows.cli import main
from aiflows.llm import ChatFlow
from aiflows.llm.testing import LoopbackLLMServer
from aiflows.runtime import Runtime, SqliteStore


def test_runs_lists_started_duration_status_flow_and_model(tmp_path: Path, capsys) -> None:
    store = tmp_path / "runs.db"
    with LoopbackLLMServer(models=["tutor-model"]) as server:
        chat = ChatFlow(
            name="tutor",
            config={"model": "openai/tutor-model", "api_base": server.url, "first_prompt": "{{ q }}"},
            env={},
        )

        async def two_runs() -> tuple[Any, Any]:
            async with Runtime(store=SqliteStore(store)) as rt:
                done = await rt.run(chat, {"q": "hi"})
                failed = await rt.run(chat, {}, session="other")  # the template misses `q`: an error
                return done, failed

        done, failed = asyncio.run(two_runs())

    assert main(["runs", "--store", str(store)]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["RUN", "STARTED", "DURATION", "STATUS", "FLOW", "SESSION", "MODEL"]
    by_id = {row.split()[0]: row for row in rows}
    good = by_id[done.run_id]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\.\ds\s+done\s+tutor\s+default\s+openai/tutor-model", good)
    bad = by_id[failed.run_id]
    assert " failed " in bad and "PromptTemplateError" in bad and bad.split()[7] == "-"  # no model was called
