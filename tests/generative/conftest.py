"""These tests need the `gen` extra (torch, torchdiffeq, POT, diffusers, scikit-learn): without it,
as in the Python 3.13 job that installs no torch, they are not collected."""

from __future__ import annotations

import importlib.util

GEN_EXTRA = ("torch", "torchdiffeq", "ot", "diffusers", "sklearn")

collect_ignore_glob = [] if all(importlib.util.find_spec(m) for m in GEN_EXTRA) else ["test_*.py", "*/test_*.py"]
