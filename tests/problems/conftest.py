"""Fixtures of the problem-loader tests: the shared competitive-coding data, loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aiflows.problems import ProblemSet, load_codejam

REPO = Path(__file__).resolve().parents[2]
SHARED_CC = Path(os.environ.get("AIFLOWS_SHARED_DATA", REPO.parent / "shared" / "data")) / "cc"


@pytest.fixture(scope="session")
def cc_data() -> Path:
    if not SHARED_CC.is_dir():
        pytest.fail(f"the shared data folder {SHARED_CC} is missing (set AIFLOWS_SHARED_DATA)")
    return SHARED_CC


@pytest.fixture(scope="session")
def codejam_archive(cc_data: Path, tmp_path_factory: pytest.TempPathFactory) -> ProblemSet:
    """The whole Code Jam archive (loading it takes about half a second)."""
    return load_codejam(cc_data / "codejam", cache_dir=tmp_path_factory.mktemp("codejam-cache"))
