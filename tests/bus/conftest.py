"""Fixtures of the Redis bus tests: a fresh namespace per test on the session's redis-server."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))  # redis_support, for tests and workers alike


@pytest.fixture
def ns() -> str:
    return f"t{uuid.uuid4().hex[:10]}"
