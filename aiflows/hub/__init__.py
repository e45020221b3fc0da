"""The flows hub: share flows as versioned folders, pull them safely, use them by name.

A hub flow is a folder with a `flow.yaml` manifest, code, prompts, a README and tests. Flows are
pulled from sources (git repositories, folders or archives, index files, Hugging Face) into a
content-addressed cache under `$AIFLOWS_HOME/hub/`, pinned in the project's `flows.lock`, and
verified against their hash every time they load. Pulling runs no code; importing code from
outside the first-party catalogue (`flows_hub/`) needs its content hash trusted, or to have been
fetched by this machine from where a trusted source places it. Nothing a lock, index or manifest
says reaches git unchecked, and hub code is imported from its verified source, never from bytecode.

    $ aiflows hub pull ada/greeter@">=1,<2" --source "git=https://git.example.org/{owner}/{name}.git"
    >>> from aiflows import hub
    >>> greeter = hub.load("ada/greeter", config={"greeting": "Hi"})
    >>> greeter.run_sync({"name": "Ada"})

Modules, bottom up: `_validate` (what may reach git: full commits, allowed URL shapes), `_files`
(safe contents, hashing, size caps), `_manifest`, `_refs`, `_git`, `_repos` (one flow's history),
`_sources` (names to repos), `_cache`, `_lock`, `_resolve`, `_importer` (source-only imports),
`_loader` (import and build), `_client` (`Hub`: pull, sync, trust, load, override), then the
authoring tools `_scaffold`, `_check`, `_publish`, `_catalogue` and the read-only `_browse`.
"""

from __future__ import annotations

from typing import Any

from ._browse import FlowInfo, list_flows, search_flows, show_flow
from ._cache import Cache, CacheRecord
from ._catalogue import build_index, check_index, write_index
from ._check import CheckReport, check_flow
from ._client import Hub, find_project
from ._config import HubConfig, SourceSpec, TrustConfig, parse_source
from ._errors import HubError, IntegrityError, ResolutionError, TrustError
from ._loader import load_folder
from ._lock import LockedFlow, Lockfile
from ._manifest import Manifest, load_manifest
from ._publish import PublishResult, publish_flow
from ._refs import Reference, RefKind, parse_reference
from ._scaffold import new_flow
from ._sources import Index, IndexEntry

__all__ = [
    "Cache",
    "CacheRecord",
    "CheckReport",
    "FlowInfo",
    "Hub",
    "HubConfig",
    "HubError",
    "Index",
    "IndexEntry",
    "IntegrityError",
    "LockedFlow",
    "Lockfile",
    "Manifest",
    "PublishResult",
    "RefKind",
    "Reference",
    "ResolutionError",
    "SourceSpec",
    "TrustConfig",
    "TrustError",
    "build_index",
    "check_flow",
    "check_index",
    "find_project",
    "list_flows",
    "load",
    "load_folder",
    "load_manifest",
    "new_flow",
    "parse_reference",
    "parse_source",
    "publish_flow",
    "search_flows",
    "show_flow",
    "write_index",
]


def load(reference: str, *, config: dict[str, Any] | None = None, name: str | None = None) -> Any:
    """Build the pulled flow `reference` (`owner/name[@REV]`) for the project around the current folder.

    The project is the nearest folder at or above the current one holding `flows.lock` or `hub.yaml`.

    The flow comes from its override, if the project's `hub.yaml` has one, else from the cache entry
    `flows.lock` pins, after its content hash, trust and aiflows version are checked. `config` is
    merged over the manifest's default `config:`; `name` names the instance.

    Raises:
        HubError: not pulled, or the lock pins another revision, or it needs another aiflows.
        IntegrityError: the cache entry no longer matches its hash.
        TrustError: third-party code whose source or hash is not trusted.
    """
    return Hub().load(reference, config=config, name=name)
