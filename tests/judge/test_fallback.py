"""Without bubblewrap: the judge still runs programs under limits and says what is not isolated."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict

NET_PROBE = """
import socket
try:
    socket.create_connection(("1.1.1.1", 80), timeout=1)
    print("online")
except OSError:
    print(input())
"""


@pytest.mark.parametrize("fork_server", [True, False])
def test_unsandboxed_mode_warns_and_still_judges(
    make_problem, caplog: pytest.LogCaptureFixture, fork_server: bool
) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], time_limit=0.5)
    tmp_mode = stat.S_IMODE(os.stat("/tmp").st_mode)
    with (
        caplog.at_level(logging.WARNING, logger="aiflows.judge"),
        Judge(JudgeConfig(jobs=1, sandbox="none", fork_server=fork_server)) as judger,
    ):
        assert judger.judge(problem, "print(input())\n", "python").verdict == Verdict.AC
        assert judger.judge(problem, "while True:\n    pass\n", "python").verdict == Verdict.TLE
        if os.geteuid() == 0:
            assert judger.judge(problem, NET_PROBE, "python").verdict == Verdict.AC
    assert "the whole filesystem (answer files included)" in caplog.text
    assert stat.S_IMODE(os.stat("/tmp").st_mode) == tmp_mode  # the host's /tmp is left alone
