"""The `flow.yaml` manifest: what a hub flow is, what it needs, and how to build it.

A manifest is read once into `Manifest`, a frozen pydantic model. A bad manifest is reported as
`HubError` naming the file, the key and what was expected, so an author fixes it in one go.

    name: ada/greeter                 # owner/name
    version: 1.2.0                    # semver
    description: Greets people.
    entrypoint: flow:Greeter          # module:Class, module relative to the folder
    requires-aiflows: ">=0.1,<0.2"    # range of aiflows versions the code works with
    dependencies:                     # other hub flows, with version constraints
      ada/formatter: ">=1.0,<2"
    requirements: ["jinja2>=3"]       # Python packages the code imports
    config: {greeting: Hello}         # default config, merged under the caller's
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._errors import HubError
from ._yaml import parse_model

__all__ = [
    "MANIFEST_FILE",
    "SEMVER",
    "Manifest",
    "load_manifest",
    "parse_manifest",
    "validate_flow_name",
    "validate_version",
]

MANIFEST_FILE = "flow.yaml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_ENTRYPOINT = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")


def validate_version(value: str) -> str:
    """`value` if it is a semantic version (manifests and locks alike), else ValueError."""
    if not SEMVER.match(value):
        raise ValueError(f"expected a semantic version such as 1.2.0, got {value!r}")
    return value


def validate_flow_name(name: str) -> str:
    """Return `name` if it reads `owner/name`, else raise `ValueError` saying so."""
    if not _NAME.match(name):
        raise ValueError(f"expected 'owner/name' (letters, digits, '_', '.', '-'), got {name!r}")
    return name


class Manifest(BaseModel):
    """A hub flow's `flow.yaml`."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str
    version: str
    description: str = ""
    entrypoint: str
    requires_aiflows: str = Field(default="", alias="requires-aiflows")
    dependencies: dict[str, str] = Field(default_factory=dict)
    requirements: list[str] = Field(default_factory=list)
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return validate_flow_name(value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return validate_version(value)

    @field_validator("entrypoint")
    @classmethod
    def _entrypoint(cls, value: str) -> str:
        if not _ENTRYPOINT.match(value):
            raise ValueError(f"expected 'module:Class' (e.g. 'flow:Greeter'), got {value!r}")
        return value

    @field_validator("requires_aiflows")
    @classmethod
    def _requires(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier as exc:
            raise ValueError(f"expected a version range such as '>=0.1,<0.2', got {value!r}") from exc
        return value

    @field_validator("dependencies")
    @classmethod
    def _dependencies(cls, value: dict[str, str]) -> dict[str, str]:
        for dep, spec in value.items():
            validate_flow_name(dep)
            try:
                SpecifierSet(spec)
            except InvalidSpecifier as exc:
                raise ValueError(f"{dep}: expected a version constraint such as '>=1,<2', got {spec!r}") from exc
        return value

    @field_validator("requirements")
    @classmethod
    def _requirements(cls, value: list[str]) -> list[str]:
        for req in value:
            try:
                Requirement(req)
            except InvalidRequirement as exc:
                raise ValueError(f"expected a pip requirement such as 'jinja2>=3', got {req!r}") from exc
        return value

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    @property
    def owner(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split("/", 1)[1]

    def supports_aiflows(self, version: str) -> bool:
        """Whether this flow declares it works with aiflows `version` (pre-releases included)."""
        try:
            return SpecifierSet(self.requires_aiflows).contains(Version(version), prereleases=True)
        except InvalidVersion:
            return False


def parse_manifest(text: str | bytes, where: str) -> Manifest:
    """Parse manifest text; `where` (a file path or `url@rev:flow.yaml`) is named in every error."""
    return parse_model(text, Manifest, where)


def load_manifest(folder: Path) -> Manifest:
    """Read `folder/flow.yaml`."""
    path = folder / MANIFEST_FILE
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise HubError(f"{path}: no {MANIFEST_FILE} here; a hub flow is a folder with a manifest") from None
    return parse_manifest(text, str(path))
