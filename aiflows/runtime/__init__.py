"""Hosting flows on a bus, the run journal, state stores and tracing."""

from ..records import JournalEntry, RunRecord, RunResult, RunStatus, Span
from .runtime import Runtime
from .settings import aiflows_home, default_store_path
from .store import MemoryStore, SqliteStore, Store

__all__ = [
    "JournalEntry",
    "MemoryStore",
    "RunRecord",
    "RunResult",
    "RunStatus",
    "Runtime",
    "Span",
    "SqliteStore",
    "Store",
    "aiflows_home",
    "default_store_path",
]
