"""Which human store goes with a runtime's store.

A `HumanFlow` never names its store: it uses the one that goes with the run store of the runtime
it runs in (the same SQLite file, the same Redis server, or memory that lives as long as the
`MemoryStore`). So moving a deployment from SQLite to Redis changes nothing in the flows, and a
terminal or web page that opens the same run store sees the same questions.
"""

from __future__ import annotations

import weakref
from typing import Any

from aiflows.exceptions import ConfigError

from ._store import HumanStore, MemoryHumanStore

__all__ = ["CompanionStores", "attach_human_store", "human_store_for"]


class CompanionStores:
    """One human store per run store, kept as long as the run store lives."""

    def __init__(self) -> None:
        self._by_store: weakref.WeakKeyDictionary[Any, HumanStore] = weakref.WeakKeyDictionary()

    def attach(self, run_store: Any, human_store: HumanStore) -> None:
        """Use `human_store` for every flow whose runtime keeps its runs in `run_store`."""
        self._by_store[run_store] = human_store

    def get(self, run_store: Any) -> HumanStore:
        found = self._by_store.get(run_store)
        if found is None:
            found = self._by_store[run_store] = _derive(run_store)
        return found


def _derive(run_store: Any) -> HumanStore:
    from aiflows.runtime.store import MemoryStore, SqliteStore

    if isinstance(run_store, MemoryStore):
        return MemoryHumanStore()
    if isinstance(run_store, SqliteStore):
        from ._sqlite import SqliteHumanStore

        return SqliteHumanStore(run_store.path)
    if type(run_store).__name__.startswith("Redis"):
        from ._redis import RedisHumanStore

        return RedisHumanStore.beside(run_store)
    raise ConfigError(
        f"no human store goes with a {type(run_store).__name__}: "
        "call aiflows.human.attach_human_store(run_store, human_store) first"
    )


# The registry of companions: weak, so it holds nothing alive and keeps no state of its own.
_COMPANIONS = CompanionStores()


def human_store_for(run_store: Any) -> HumanStore:
    """The human store that goes with `run_store` (created on first use)."""
    return _COMPANIONS.get(run_store)


def attach_human_store(run_store: Any, human_store: HumanStore) -> None:
    """Make `human_store` the one that goes with `run_store` (for stores aiflows cannot pair itself)."""
    _COMPANIONS.attach(run_store, human_store)
