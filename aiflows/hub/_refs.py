"""Flow references: `owner/name`, `owner/name@REV`.

REV is a version constraint (`>=1.2,<2`, `==1.0.0`), a bare version (`1.2.0`, `v1.2.0`),
a commit (7 to 40 hex digits), or a tag/branch name. Constraints and versions pick among the
`vX.Y.Z` tags; the rest name one revision.
"""

from __future__ import annotations

import re
from enum import StrEnum

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict

from ._errors import HubError
from ._manifest import validate_flow_name

__all__ = ["RefKind", "Reference", "parse_reference"]

_VERSION = re.compile(r"^v?(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_OPERATORS = ("==", "!=", "<", ">", "~=", "===")


class RefKind(StrEnum):
    ANY = "any"  # no revision: the newest version
    CONSTRAINT = "constraint"
    COMMIT = "commit"
    NAMED = "named"  # a tag or branch


class Reference(BaseModel):
    """A parsed `owner/name@REV`."""

    model_config = ConfigDict(frozen=True)

    name: str
    rev: str = ""
    kind: RefKind = RefKind.ANY

    @property
    def spec(self) -> SpecifierSet:
        """The version constraint (empty, matching everything, unless kind is CONSTRAINT)."""
        return SpecifierSet(self.rev) if self.kind is RefKind.CONSTRAINT else SpecifierSet()

    def __str__(self) -> str:
        return f"{self.name}@{self.rev}" if self.rev else self.name


def parse_reference(text: str) -> Reference:
    """Parse `owner/name[@REV]`; raise `HubError` naming the part that is wrong."""
    name, _, rev = text.strip().partition("@")
    try:
        validate_flow_name(name)
    except ValueError as exc:
        raise HubError(f"reference {text!r}: {exc}") from None
    rev = rev.strip()
    if not rev:
        return Reference(name=name)
    if version := _VERSION.match(rev):
        return Reference(name=name, rev=f"=={version.group(1)}", kind=RefKind.CONSTRAINT)
    if rev.startswith(_OPERATORS):
        try:
            SpecifierSet(rev)
        except InvalidSpecifier:
            raise HubError(f"reference {text!r}: {rev!r} is not a version constraint such as '>=1.2,<2'") from None
        return Reference(name=name, rev=rev, kind=RefKind.CONSTRAINT)
    if _COMMIT.match(rev):
        return Reference(name=name, rev=rev, kind=RefKind.COMMIT)
    if any(c in rev for c in " ~^:?*[\\") or rev.startswith("-") or ".." in rev:
        raise HubError(f"reference {text!r}: {rev!r} is not a valid tag, branch, commit or version constraint")
    return Reference(name=name, rev=rev, kind=RefKind.NAMED)
