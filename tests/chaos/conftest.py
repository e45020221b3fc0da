"""The chaos test's support modules on the path (its workers import them by name), and `--long`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--long",
        action="store_true",
        default=False,
        help="run the chaos test ten times longer, for a release (or set AIFLOWS_CHAOS_LONG=1)",
    )
