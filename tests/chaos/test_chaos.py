"""Delivery under an operator's bad day, with real processes and real signals (see `chaos_support`).

python -m pytest -m chaos -s                        # about a minute: the figures on one CHAOS line
python -m pytest tests/chaos --long -s              # ten times longer, for a release
AIFLOWS_CHAOS_LONG=1 python -m pytest -m chaos -s   # the same, from anywhere
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from chaos_support import Schedule, run_chaos

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.redis]


def _long(config: pytest.Config) -> bool:
    try:
        option = bool(config.getoption("--long"))
    except ValueError:  # this folder's conftest was not loaded at start-up: only the variable counts
        option = False
    return option or os.environ.get("AIFLOWS_CHAOS_LONG") == "1"


def test_nothing_is_lost_wrong_hung_or_misremembered_under_faults(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: the chaos test needs a real one")
    schedule = Schedule().scaled(10 if _long(request.config) else 1)
    report = run_chaos(schedule, tmp_path)
    print(report.summary())
    assert report.faults.get("kill", 0) >= 10
    assert report.faults.get("redis-term", 0) + report.faults.get("redis-kill", 0) >= 2
    assert report.faults.get("redis-kill", 0) >= 1 and report.faults.get("stop", 0) >= 1
    assert report.lost == [] and report.wrong == [] and report.hung == []
    assert report.answered == report.sent >= 1000
    assert report.misremembered == []  # run record, remembered answer and trace: the answer the caller got
    assert report.unexecuted == []
    assert report.poison_sent >= 5 and max(report.poison_dead_ms) <= 1000.0, report.poison_dead_ms
    # At-least-once: some requests run twice (a worker killed between its work and its answer), few.
    assert report.executions == report.sent + report.duplicates
    assert report.duplicates < 0.05 * report.sent
