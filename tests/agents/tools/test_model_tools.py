"""generalist and python_coder with their model on the loopback server; programs run in the sandbox."""

from __future__ import annotations

import os

import pytest

from agents.tools import GeneralistTool, PythonCoderTool, extract_code
from aiflows.llm.testing import LoopbackLLMServer


def test_extract_code_takes_the_last_block() -> None:
    assert extract_code("a\n```python\nprint(1)\n```\nb\n```py\nprint(2)\n```") == "print(2)"
    assert extract_code("print(3)") == "print(3)"


async def test_generalist_asks_its_model(llm_server: LoopbackLLMServer, module_config) -> None:
    llm_server.script("  Paris.  ")
    out = await GeneralistTool(config=module_config()).run({"query": "Capital of France?"})
    assert out["result"] == "Paris."
    assert llm_server.requests[0].messages[-1]["content"] == "Capital of France?"


@pytest.mark.slow
async def test_python_coder_runs_the_model_s_program_in_the_sandbox(
    llm_server: LoopbackLLMServer, module_config
) -> None:
    llm_server.script("Here:\n```python\nimport os\nprint(sum(range(101)), os.getpid())\n```")
    out = await PythonCoderTool(config=module_config()).run({"query": "sum 0..100"})
    total, pid = out["result"].split()
    assert total == "5050" and int(pid) != os.getpid()  # another process, never this one
    assert out["verdict"] == "WA"  # judged against an empty answer: the output is what matters


@pytest.mark.slow
async def test_python_coder_reports_errors_and_limits() -> None:
    tool = PythonCoderTool()  # 5 s of CPU: room for a slow start on a loaded machine
    failed = await tool.run({"query": "x", "code": "raise ValueError('bad input 42')"})
    assert failed["result"].startswith("Error (RTE)") and "bad input 42" in failed["result"]
    looped = await PythonCoderTool(cpu_s=1).run({"query": "x", "code": "while True: pass"})
    assert looped["result"].startswith("Error (TLE)")
    network = await tool.run(
        {
            "query": "x",
            "code": "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), 2)\n    print('online')\nexcept OSError:\n    print('offline')",
        }
    )
    assert network["result"] == "offline"
