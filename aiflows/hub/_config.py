"""Hub configuration: sources, trust and overrides, from `hub.yaml` files.

Two files are read, the project's first: `<project>/hub.yaml` and `$AIFLOWS_HOME/hub.yaml`
(`AIFLOWS_HOME` defaults to `~/.aiflows`). Relative paths in a file are relative to that file.

    sources:
      - name: team                                   # a label, used by `trust.sources`
        git: "git://git.example.org/{owner}/{name}.git"   # URL template; {owner} {name} {full}
      - name: local
        folder: ../flows                              # holds <owner>/<name>/ folders (or a template)
      - name: shared
        index: /srv/flows/index.yaml                  # an index file listing flows
      - name: hf
        hf: "{owner}/{name}"                          # Hugging Face repo id template
        trusted: true                                 # import its code without asking
    trust:
      sources: [team]                                 # trusted source labels
      hashes: [3f2a...]                               # trusted content hashes
    overrides:
      ada/greeter: ../greeter                         # use a working copy instead of the lock
    protocols: [https, ssh, file]                     # git transports allowed (default); add git, http
    limits: {max-files: 2000, max-bytes: 52428800}    # the most one pulled flow may hold (defaults)

The project's file wins for `protocols` and each limit; the home file fills in what it leaves out.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._errors import HubError
from ._files import DEFAULT_LIMITS, Limits
from ._manifest import validate_flow_name
from ._validate import DEFAULT_PROTOCOLS, KNOWN_PROTOCOLS, check_folder_location, check_hf_id, git_protocol
from ._yaml import describe_validation_error, read_model

__all__ = ["CONFIG_FILE", "HubConfig", "LimitsConfig", "SourceSpec", "TrustConfig", "parse_source", "update_config"]

CONFIG_FILE = "hub.yaml"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^[^/]+@[^/]+:")
SOURCE_KINDS = ("git", "folder", "index", "hf")


class SourceSpec(BaseModel):
    """Where flows come from; exactly one of git, folder, index, hf."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    git: str | None = None
    folder: str | None = None
    index: str | None = None
    hf: str | None = None
    trusted: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> SourceSpec:
        given = [k for k in SOURCE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(SOURCE_KINDS)} (got {', '.join(given) or 'none'})")
        sample = self.location.replace("{owner}", "o").replace("{name}", "n").replace("{full}", "o/n")
        try:  # a template is checked with its placeholders filled; each filled URL is checked again on use
            if self.kind == "git":
                git_protocol(sample)
            elif self.kind == "hf":
                check_hf_id(sample, "source")
            else:
                check_folder_location(sample, "source")
        except HubError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SOURCE_KINDS if getattr(self, k) is not None)

    @property
    def location(self) -> str:
        return str(getattr(self, self.kind))

    @property
    def label(self) -> str:
        return self.name or f"{self.kind}:{self.location}"

    def relative_to(self, base: Path) -> SourceSpec:
        """Make relative folder/index/git paths absolute, relative to `base`."""
        kind, loc = self.kind, self.location
        if kind == "hf" or _SCHEME.match(loc) or Path(loc).expanduser().is_absolute():
            return self
        return self.model_copy(update={kind: str((base / loc).resolve())})


class TrustConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(default_factory=list)
    hashes: list[str] = Field(default_factory=list)


class LimitsConfig(BaseModel):
    """`limits:` in hub.yaml; unset keys fall back to the other file, then to the defaults."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max_files: int | None = Field(default=None, alias="max-files", gt=0)
    max_bytes: int | None = Field(default=None, alias="max-bytes", gt=0)

    def resolved(self) -> Limits:
        return Limits(self.max_files or DEFAULT_LIMITS.max_files, self.max_bytes or DEFAULT_LIMITS.max_bytes)


class HubConfig(BaseModel):
    """One `hub.yaml`, or several merged."""

    model_config = ConfigDict(extra="forbid")

    sources: list[SourceSpec] = Field(default_factory=list)
    trust: TrustConfig = Field(default_factory=TrustConfig)
    overrides: dict[str, str] = Field(default_factory=dict)
    protocols: list[str] | None = None  # git transports allowed; None: DEFAULT_PROTOCOLS
    limits: LimitsConfig = Field(default_factory=LimitsConfig)

    @field_validator("protocols")
    @classmethod
    def _protocols(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in KNOWN_PROTOCOLS:
                raise ValueError(f"unknown git protocol {name!r}; expected some of {', '.join(KNOWN_PROTOCOLS)}")
        return value

    @property
    def allowed_protocols(self) -> tuple[str, ...]:
        return tuple(self.protocols) if self.protocols is not None else DEFAULT_PROTOCOLS

    @field_validator("overrides")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            validate_flow_name(name)
        return value

    @classmethod
    def read(cls, path: Path) -> HubConfig:
        """Read one file (absent means empty), resolving its relative paths."""
        if not path.is_file():
            return cls()
        cfg = read_model(path, cls)
        base = path.parent
        return cls(
            sources=[s.relative_to(base) for s in cfg.sources],
            trust=cfg.trust,
            overrides={k: str((base / v).expanduser().resolve()) for k, v in cfg.overrides.items()},
            protocols=cfg.protocols,
            limits=cfg.limits,
        )

    def merged(self, other: HubConfig) -> HubConfig:
        """This config first, then `other`'s sources; trust is the union; our overrides win."""
        return HubConfig(
            sources=[*self.sources, *other.sources],
            trust=TrustConfig(
                sources=sorted({*self.trust.sources, *other.trust.sources}),
                hashes=sorted({*self.trust.hashes, *other.trust.hashes}),
            ),
            overrides={**other.overrides, **self.overrides},
            protocols=self.protocols if self.protocols is not None else other.protocols,
            limits=LimitsConfig.model_validate(
                {
                    "max-files": self.limits.max_files or other.limits.max_files,
                    "max-bytes": self.limits.max_bytes or other.limits.max_bytes,
                }
            ),
        )


def parse_source(text: str) -> SourceSpec:
    """Read a `--source` value: `KIND=LOCATION` or a bare location whose kind is guessed.

    Guessing: `hf://ID` is Hugging Face, a `.yaml` file is an index, an existing folder that is not a
    git repository is a folder source, anything else is a git URL template.
    """
    try:
        return _guess_source(text)
    except ValidationError as exc:
        raise HubError(f"--source {text!r}: {describe_validation_error(exc)}") from None


def _guess_source(text: str) -> SourceSpec:
    kind, sep, loc = text.partition("=")
    if sep and kind in SOURCE_KINDS:
        return SourceSpec.model_validate({kind: loc}).relative_to(Path.cwd())
    if text.startswith("hf://"):
        return SourceSpec(hf=text.removeprefix("hf://"))
    if text.endswith((".yaml", ".yml")):
        return SourceSpec(index=text).relative_to(Path.cwd())
    path = Path(text).expanduser()
    if "{" not in text and path.is_dir() and not (path / "HEAD").exists() and not (path / ".git").exists():
        return SourceSpec(folder=text).relative_to(Path.cwd())
    if not text:
        raise HubError("--source: empty; expected KIND=LOCATION with KIND one of git, folder, index, hf")
    return SourceSpec(git=text).relative_to(Path.cwd())


def update_config(path: Path, section: str, key: str, value: object | None) -> None:
    """Set (or with None, remove) one entry of a `hub.yaml` section, keeping its other keys (not its comments)."""
    raw = yaml.safe_load(path.read_text()) if path.is_file() else None
    raw = raw if isinstance(raw, dict) else {}
    if section == "overrides":
        entries = dict(raw.get("overrides") or {})
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = value
        raw["overrides"] = entries
    elif section == "trust.hashes":
        trust = dict(raw.get("trust") or {})
        hashes = [h for h in trust.get("hashes") or [] if h != key]
        trust["hashes"] = hashes if value is None else [*hashes, key]
        raw["trust"] = trust
    else:
        raise HubError(f"{path}: cannot update unknown section {section!r}")
    HubConfig.model_validate(raw)  # never write a file we could not read back
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
