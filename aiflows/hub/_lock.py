"""`flows.lock`: the exact flows a project uses, so another machine gets the same bytes.

Each flow is pinned by where it was fetched from (repo kind and location), the commit (for git and
Hugging Face) and the content hash. `aiflows hub sync` fetches exactly these and refuses any
content whose hash differs. The file is JSON (which is also YAML): every `hub.load` reads it, and
JSON parses tens of times faster.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import HubError
from ._yaml import describe_validation_error, parse_model

__all__ = ["LOCK_FILE", "LockedFlow", "Lockfile"]

LOCK_FILE = "flows.lock"


class LockedFlow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    hash: str
    kind: str  # git | folder | hf
    location: str
    commit: str | None = None
    source: str = ""  # label of the source it came from, for trust
    dependencies: dict[str, str] = Field(default_factory=dict)


class Lockfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lock_version: int = 1
    requested: list[str] = Field(default_factory=list)  # the references asked for, as typed
    flows: dict[str, LockedFlow] = Field(default_factory=dict)

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
