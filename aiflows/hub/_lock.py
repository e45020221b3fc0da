"""`flows.lock`: the exact flows a project uses, so another machine gets the same bytes.

Each flow is pinned by where it was fetched from (repo kind and location), the commit (for git and
Hugging Face) and the content hash. A lock comes with the repository a user clones, so it is
untrusted input: every value is checked on reading (a full hex commit, a git URL of a known shape,
a sha256 hash, flow names and versions), before any of it can reach git. `aiflows hub sync` fetches exactly these and refuses any
content whose hash differs. The file is JSON (which is also YAML): every `hub.load` reads it, and
JSON parses tens of times faster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._errors import HubError
from ._manifest import validate_flow_name, validate_version
from ._refs import parse_reference
from ._validate import check_commit, check_folder_location, check_hf_id, git_protocol
from ._yaml import describe_validation_error, parse_model

__all__ = ["LOCK_FILE", "LockedFlow", "Lockfile"]

LOCK_FILE = "flows.lock"


_HASH = re.compile(r"^[0-9a-f]{64}$")


def _valid(check: Callable[..., object], *args: str) -> None:
    """Run a `_validate` check, turning its `HubError` into the `ValueError` pydantic reports with the key."""
    try:
        check(*args)
    except HubError as exc:
        raise ValueError(str(exc).removeprefix("lock: ")) from None


class LockedFlow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    hash: str
    kind: Literal["git", "folder", "hf"]
    location: str
    commit: str | None = None
    source: str = ""  # label of the source it came from; informative only, never grounds for trust
    dependencies: dict[str, str] = Field(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return validate_version(value)

    @field_validator("hash")
    @classmethod
    def _hash(cls, value: str) -> str:
        if not _HASH.match(value):
            raise ValueError(f"expected a sha256 content hash (64 hex digits), got {value!r}")
        return value

    @field_validator("commit")
    @classmethod
    def _commit(cls, value: str | None) -> str | None:
        if value is not None:
            _valid(check_commit, value, "lock")
        return value

    @field_validator("dependencies")
    @classmethod
    def _dependencies(cls, value: dict[str, str]) -> dict[str, str]:
        for dep, spec in value.items():
            validate_flow_name(dep)
            try:
                SpecifierSet(spec)
            except InvalidSpecifier as exc:
                raise ValueError(f"{dep}: expected a version constraint, got {spec!r}") from exc
        return value

    @model_validator(mode="after")
    def _location(self) -> LockedFlow:
        if self.kind == "git":
            _valid(git_protocol, self.location)
        elif self.kind == "hf":
            _valid(check_hf_id, self.location, "lock")
        else:
            _valid(check_folder_location, self.location, "lock")
        if self.kind == "git" and self.commit is None:
            raise ValueError("a git flow must pin a commit")
        return self


class Lockfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lock_version: int = 1
    requested: list[str] = Field(default_factory=list)  # the references asked for, as typed
    flows: dict[str, LockedFlow] = Field(default_factory=dict)

    @field_validator("requested")
    @classmethod
    def _requested(cls, value: list[str]) -> list[str]:
        for text in value:
            _valid(parse_reference, text)
        return value

    @field_validator("flows")
    @classmethod
    def _names(cls, value: dict[str, LockedFlow]) -> dict[str, LockedFlow]:
        for name in value:
            validate_flow_name(name)
        return value

    @classmethod
    def read(cls, path: Path) -> Lockfile:
        """Read `path` (absent means empty); errors name the file and the key."""
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return cls()
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                return parse_model(text, cls, str(path))  # hand-written YAML is accepted too
            raise HubError(f"{path}: {describe_validation_error(exc)}") from None

    def write(self, path: Path) -> None:
        """Write atomically, flows sorted by name, so diffs show only what changed."""
        data = self.model_dump(exclude_none=True)
        data["flows"] = dict(sorted(data["flows"].items()))
        tmp = path.with_suffix(".lock.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(path)
