"""A run in progress in this process: its journal, loaded once, and who is using it."""

from __future__ import annotations

from ..records import JournalEntry
from .store.base import Store

__all__ = ["ActiveRun"]


class ActiveRun:
    __slots__ = ("journal", "journaling", "run_id", "store", "users")

    def __init__(self, run_id: str, store: Store, journal: dict[str, JournalEntry], journaling: bool) -> None:
        self.run_id = run_id
        self.store = store
        self.journal = journal
        self.journaling = journaling
        self.users = 0

    def record(self, path: str, entry: JournalEntry) -> None:
        self.journal[path] = entry
        self.store.record_journal(self.run_id, path, entry)
