"""Sources: where to look for a flow by name.

A source maps `owner/name` to a repo: a git URL template, a folder (or template), an index file
listing flows, or a Hugging Face repo id template. The first-party catalogue, `flows_hub/` next to
the `aiflows` package, is an index source that is always present; its flows are trusted by the
hash of what is installed there (`first_party_hash`), never by a lock's say-so.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._config import SourceSpec
from ._errors import HubError
from ._files import ARCHIVE_SUFFIXES, check_relative, hash_folder
from ._manifest import MANIFEST_FILE, validate_flow_name
from ._repos import Repo, Repos
from ._validate import check_hf_id, git_protocol
from ._yaml import read_model

__all__ = ["FIRST_PARTY", "Index", "IndexEntry", "Source", "first_party_hash", "first_party_index"]

FIRST_PARTY = "first-party"


def first_party_index() -> Path:
    """`flows_hub/index.yaml`, beside the installed `aiflows` package."""
    return Path(__file__).resolve().parents[2] / "flows_hub" / "index.yaml"


@lru_cache(maxsize=8)
def _read_index(path: str, mtime_ns: int) -> Index:
    return read_model(Path(path), Index)


@lru_cache(maxsize=64)
def _installed_hash(folder: str, mtime_ns: int) -> str:
    return hash_folder(Path(folder))


def first_party_hash(name: str) -> str | None:
    """The content hash of the first-party flow `name` as installed in `flows_hub/`, or None if there is none.

    Hashed from the installed files (memoised per folder and its manifest's mtime), not read from
    the index, so neither a lock nor a stale index can make other content count as first-party.
    """
    index = first_party_index()
    try:
        mtime = index.stat().st_mtime_ns
    except OSError:
        return None
    entry = _read_index(str(index), mtime).flows.get(name)
    if entry is None or entry.path is None:
        return None
    folder = (index.parent / entry.path).resolve()
    manifest = folder / MANIFEST_FILE
    if not manifest.is_file():
        return None
    return _installed_hash(str(folder), manifest.stat().st_mtime_ns)


def _holds_one_flow(path: Path) -> bool:
    """A folder source pointing straight at one flow (a flow folder or an archive), not at a root of them."""
    return path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES) or (path / MANIFEST_FILE).is_file()


class IndexEntry(BaseModel):
    """One flow in an index: where it lives (`path` relative to the index, `git` or `hf`) and a summary."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    git: str | None = None
    hf: str | None = None
    version: str = ""
    description: str = ""
    hash: str = ""

    @model_validator(mode="after")
    def _one_place(self) -> IndexEntry:
        if sum(x is not None for x in (self.path, self.git, self.hf)) != 1:
            raise ValueError("give exactly one of path, git, hf")
        try:  # an index is someone else's file: nothing in it may reach git unchecked
            if self.git is not None:
                git_protocol(self.git)
            elif self.hf is not None:
                check_hf_id(self.hf, "index")
            else:
                check_relative(str(self.path), "index")
        except HubError as exc:
            raise ValueError(str(exc).removeprefix("index: ")) from None
        return self


class Index(BaseModel):
    """An index file: `flows: {owner/name: {path|git|hf: ..., version, description, hash}}`."""

    model_config = ConfigDict(extra="forbid")

    flows: dict[str, IndexEntry] = Field(default_factory=dict)

    @field_validator("flows")
    @classmethod
    def _names(cls, value: dict[str, IndexEntry]) -> dict[str, IndexEntry]:
        for name in value:
            validate_flow_name(name)
        return value


class Source:
    """One configured source, bound to the repos of the current operation."""

    def __init__(self, spec: SourceSpec, repos: Repos, *, trusted: bool = False) -> None:
        self.spec = spec
        self.label = spec.label
        self.trusted = trusted or spec.trusted
        self._repos = repos

    @cached_property
    def index(self) -> Index:
        return read_model(Path(self.spec.location), Index) if self.spec.kind == "index" else Index()

    def place(self, name: str) -> tuple[str, str] | None:
        """(repo kind, location) of `name` in this source, or None if it has no such flow."""
        owner, short = name.split("/", 1)
        kind, loc = self.spec.kind, self.spec.location
        if kind == "index":
            entry = self.index.flows.get(name)
            if entry is None:
                return None
            if entry.path is not None:
                return "folder", str((Path(loc).parent / entry.path).resolve())
            return ("git", entry.git) if entry.git is not None else ("hf", str(entry.hf))
        filled = loc.replace("{owner}", owner).replace("{name}", short).replace("{full}", name)
        if kind == "folder":
            if filled == loc and _holds_one_flow(Path(loc)):
                return ("folder", loc) if self._repos.get("folder", loc).manifest("").name == name else None
            path = Path(filled) if filled != loc else Path(loc) / owner / short
            return ("folder", str(path)) if path.exists() else None
        return kind, filled

    def repo(self, name: str) -> Repo | None:
        place = self.place(name)
        return None if place is None else self._repos.get(*place)

    def names(self) -> list[str]:
        """Flows this source can enumerate (index and folder roots; templates cannot)."""
        if self.spec.kind == "index":
            return sorted(self.index.flows)
        root = Path(self.spec.location)
        if self.spec.kind == "folder" and "{" not in self.spec.location and root.is_dir():
            return sorted(f"{p.parent.parent.name}/{p.parent.name}" for p in root.glob("*/*/flow.yaml"))
        return []
