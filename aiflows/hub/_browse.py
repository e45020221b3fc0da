"""`aiflows hub list / show / search`: what the configured sources, the lock and the cache hold.

Listing never fetches: it reads index files, folder sources, the lock and the cache records.
`show` may fetch a git source's tags to list its versions.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ._client import Hub
from ._errors import HubError
from ._lock import Lockfile
from ._manifest import load_manifest
from ._refs import parse_reference
from ._repos import FolderRepo

__all__ = ["FlowInfo", "list_flows", "search_flows", "show_flow"]


class FlowInfo(BaseModel):
    name: str
    version: str
    description: str = ""
    where: str  # source label, "lock" or "cache"


def list_flows(hub: Hub) -> list[FlowInfo]:
    """Every flow the sources can enumerate, plus what is locked and cached; one row per name and version."""
    rows: dict[tuple[str, str], FlowInfo] = {}
    lock = Lockfile.read(hub.lock_path)
    for name, locked in lock.flows.items():
        rows[(name, locked.version)] = FlowInfo(
            name=name, version=locked.version, where="lock", description=_cached_description(hub, locked.hash)
        )
    for src in hub.sources:
        for name in src.names():
            entry = src.index.flows.get(name)
            if entry is not None:
                version, description = entry.version, entry.description
            else:
                repo = src.repo(name)
                if not isinstance(repo, FolderRepo):
                    continue
                manifest = repo.manifest("")
                version, description = manifest.version, manifest.description
            rows.setdefault(
                (name, version), FlowInfo(name=name, version=version, description=description, where=src.label)
            )
    for record in hub.cache.records():
        rows.setdefault(
            (record.name, record.version),
            FlowInfo(
                name=record.name,
                version=record.version,
                where="cache",
                description=_cached_description(hub, record.hash),
            ),
        )
    return sorted(rows.values(), key=lambda r: (r.name, r.version))


def _cached_description(hub: Hub, digest: str) -> str:
    folder = hub.cache.path(digest)
    try:
        return load_manifest(folder).description if folder.is_dir() else ""
    except HubError:
        return ""


def search_flows(hub: Hub, term: str) -> list[FlowInfo]:
    """Rows of `list_flows` whose name or description contains `term` (case-insensitive)."""
    needle = term.lower()
    return [r for r in list_flows(hub) if needle in r.name.lower() or needle in r.description.lower()]


def show_flow(hub: Hub, reference: str) -> dict[str, Any]:
    """The manifest, versions, lock pin and trust of one flow."""
    ref = parse_reference(reference)
    info: dict[str, Any] = {"name": ref.name}
    locked = Lockfile.read(hub.lock_path).flows.get(ref.name)
    manifest = None
    if locked is not None:
        info["locked"] = locked.model_dump(exclude_none=True)
        info["trusted"] = hub.is_trusted(ref.name, locked)
        if hub.cache.has(locked.hash):
            info["cached"] = str(hub.cache.path(locked.hash))
            manifest = load_manifest(hub.cache.path(locked.hash))
    try:
        found = hub.find(ref.name)
    except HubError as exc:
        if locked is None:
            raise
        found, info["sources"] = [], str(exc)
    if found:
        info["source"] = found[0].source
        info["versions"] = [str(c.version) for c in found]
        if manifest is None:
            manifest = found[0].repo.manifest(found[0].rev)
    if manifest is None:
        raise HubError(f"{ref.name}: not found in any source, the lock or the cache")
    info["manifest"] = manifest.model_dump(by_alias=True)
    return info
