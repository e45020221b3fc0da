"""Runs in progress in this process: each one's journal, loaded once, and who is using it."""

from __future__ import annotations

from collections.abc import Callable

from ..records import JournalEntry
from .store.base import Store

__all__ = ["ActiveRun", "ActiveRuns"]


class ActiveRun:
    """One run in progress: its journal (the `RunJournal` a handler's Context reads) and its users."""

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


class ActiveRuns:
    """The runs in progress in one runtime, shared by its hosts so nested calls share one journal.

    A run is loaded by its first user and dropped when its last user lets go (`users` counts them).
    """

    __slots__ = ("_by_id", "get", "journaling", "store")

    def __init__(self, store: Store, journaling: bool) -> None:
        self.store = store
        self.journaling = journaling
        self._by_id: dict[str, ActiveRun] = {}
        # The run in progress with this id, or None: the dict's own `get`, called directly on every call.
        self.get: Callable[[str], ActiveRun | None] = self._by_id.get

    async def load(self, run_id: str) -> ActiveRun:
        """The run in progress with this id, its journal loaded from the store if nobody has it yet."""
        journal = await self.store.load_journal(run_id) if self.journaling else {}
        run = self._by_id.get(run_id)  # someone may have loaded it while we awaited
        if run is None:
            run = self._by_id[run_id] = ActiveRun(run_id, self.store, journal, self.journaling)
        return run

    def release(self, run: ActiveRun) -> None:
        """Forget `run` (its last user is done), unless another load has replaced it already."""
        if self._by_id.get(run.run_id) is run:
            del self._by_id[run.run_id]

    def forget(self, run_id: str) -> None:
        """Drop the run with this id, so the next user reloads its journal (a resume does this)."""
        self._by_id.pop(run_id, None)
