"""Read `problem.yaml` (every format version in use) into one typed `PackageConfig`.

Three generations of the ICPC/Kattis format are in the wild and the loaders meet all of them:
- legacy (problemtools, DOMjudge, older BAPCtools): `validation: default | custom [interactive]
  [scoring] [multi-pass]`, `validator_flags`, `limits.time_multiplier`, a `.timelimit` file;
- 2023-07-draft: `type:` and a `name:` per language, `output_validator_flags`, `data/testdata.yaml`;
- 2025-09: `type:` as a list, `limits.time_limit`, `output_validator/`, `data/test_group.yaml`
  with `output_validator_args`.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aiflows.problems._files import read_text, read_yaml_mapping
from aiflows.problems.errors import ProblemError
from aiflows.problems.model import Validation

__all__ = ["DEFAULT_TIME_LIMIT", "PackageConfig", "find_output_validator", "read_package_config"]

DEFAULT_TIME_LIMIT = 2.0  # seconds, used when a package states none (problemtools derives it by running)

_TYPES = {"pass-fail", "scoring", "interactive", "multi-pass", "submit-answer"}
_LEGACY_MODIFIERS = {"interactive", "scoring", "multi-pass"}
_VALIDATOR_SOURCES = {".py", ".py3", ".c", ".cc", ".cpp", ".cxx", ".java", ".go", ".kt", ".rs", ".sh"}


class PackageConfig(BaseModel):
    """What the judge and the prompt need from `problem.yaml` and its neighbours."""

    model_config = ConfigDict(frozen=True)

    name: str  # the English name when there are several
    names: dict[str, str] = Field(default_factory=dict)  # language -> name
    format_version: str = "legacy"
    types: list[str] = Field(default_factory=lambda: ["pass-fail"])  # pass-fail/scoring/interactive/...
    validation: Validation = "default"
    validator_flags: list[str] = Field(default_factory=list)
    time_limit: float = DEFAULT_TIME_LIMIT
    time_limit_source: str = "default"  # "problem.yaml", ".timelimit", "domjudge-problem.ini", "default"
    time_multiplier: float | None = None  # legacy: limit = multiplier x slowest accepted run
    # When the package states no limit, it is the slowest accepted run x ac_to_time_limit (rounded);
    # a run counts as clearly too slow past limit x time_limit_to_tle. Defaults per format: 2023-07 and
    # later `limits.time_multipliers` 2.0 / 1.5 (and time_resolution 1.0); legacy problemtools
    # `limits.time_multiplier` 5 / `limits.time_safety_margin` 2.
    ac_to_time_limit: float = 5.0
    time_limit_to_tle: float = 2.0
    time_resolution: float | None = None  # 2023-07+: the computed limit is rounded up to a multiple
    memory_limit_mb: int = 1024
    output_limit_mb: int = 8
    validation_passes: int = 2  # multi-pass: the most times the program runs on one test
    source: str = ""
    license: str = ""
    output_validator: Path | None = None
    repaired_yaml: bool = False  # an unquoted `key: a: b` line was quoted to parse the file
    constants: dict[str, Any] = Field(default_factory=dict)  # BAPCtools `{{name}}` substitutions

    @property
    def multi_pass(self) -> bool:
        return "multi-pass" in self.types

    @property
    def scoring(self) -> bool:
        return "scoring" in self.types


def read_package_config(
    root: Path, *, problem: str | None = None, default_time_limit: float | None = None, repair_yaml: bool = False
) -> PackageConfig:
    """Parse `root/problem.yaml` and the files that complete it.

    Args:
        root: the package folder.
        problem: the id used in error messages (defaults to the folder name).
        default_time_limit: used when the package states none (a contest-level `problems.yaml`).
        repair_yaml: when the YAML does not parse, quote top-level scalar values that contain
            `: ` (e.g. `name: New Elements: Part 1`) and try once more.

    Raises:
        ProblemError: missing or unparsable `problem.yaml`, an unknown validation mode or type,
            a limit that is not a positive number, or custom validation without a validator.
    """
    pid = problem or root.name
    path = root / "problem.yaml"
    if not path.is_file():
        raise ProblemError("no problem.yaml: not a problem package", problem=pid, path=path)
    repaired = False
    try:
        raw = read_yaml_mapping(path, problem=pid)
    except ProblemError:
        fixed = _quote_colon_values(read_text(path, problem=pid)) if repair_yaml else None
        if fixed is None:
            raise
        raw, repaired = fixed, True
    err = _Err(pid, path)

    names = _names(raw.get("name"), err)
    version = str(raw.get("problem_format_version") or "legacy")
    types, legacy_custom = _types_and_mode(raw, err)
    limits = raw.get("limits") or {}
    if not isinstance(limits, dict):
        raise err("expected a mapping", "limits")

    time_limit, tl_source = _time_limit(root, raw, limits, err)
    validator = find_output_validator(root)
    interactive = "interactive" in types
    custom = legacy_custom or interactive or "multi-pass" in types
    if version != "legacy" and validator is not None:
        custom = True  # newer formats: a custom validator is used whenever one is present
    if custom and validator is None:
        key = "validation" if "validation" in raw else "type"
        raise err(
            "custom validation is set but no output validator was found "
            "(looked in output_validators/ and output_validator/)",
            key,
        )
    validation: Validation = "custom-interactive" if interactive else ("custom" if custom else "default")

    return PackageConfig(
        name=names.get("en") or next(iter(names.values()), "") or root.name,
        names=names,
        format_version=version,
        types=types,
        validation=validation,
        validator_flags=_flags(root, raw, err),
        time_limit=time_limit if time_limit is not None else (default_time_limit or DEFAULT_TIME_LIMIT),
        time_limit_source=tl_source if time_limit is not None else ("contest" if default_time_limit else "default"),
        time_multiplier=_positive(limits.get("time_multiplier"), err, "limits.time_multiplier"),
        **_multipliers(version, limits, err),
        memory_limit_mb=int(_positive(limits.get("memory"), err, "limits.memory") or 1024),
        output_limit_mb=int(_positive(limits.get("output"), err, "limits.output") or 8),
        validation_passes=_passes(limits.get("validation_passes"), err),
        source=_source(raw.get("source")),
        license=str(raw.get("license") or ""),
        output_validator=validator if validation != "default" else None,
        repaired_yaml=repaired,
        constants=raw["constants"] if isinstance(raw.get("constants"), dict) else {},
    )


def _quote_colon_values(text: str) -> dict[str, Any] | None:
    """Parse `text` after quoting top-level `key: value` lines whose value holds `: `."""
    import json

    import yaml

    def quote(m: re.Match[str]) -> str:
        value = m[2].strip()
        return m[0] if value[:1] in "'\"[{|>&*!" else f"{m[1]}: {json.dumps(value, ensure_ascii=False)}"

    try:
        data = yaml.safe_load(re.sub(r"(?m)^([A-Za-z_]+):[ \t]+(\S.*?:\s.*)$", quote, text))
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


class _Err:
    """Builds errors that name this problem and file."""

    def __init__(self, problem: str, path: Path) -> None:
        self.problem, self.path = problem, path

    def __call__(self, reason: str, key: str | None = None, path: Path | None = None) -> ProblemError:
        return ProblemError(reason, problem=self.problem, path=path or self.path, key=key)


def _names(value: Any, err: _Err) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value.strip()} if value.strip() else {}
    if isinstance(value, dict):
        return {str(k): str(v).strip() for k, v in value.items() if v is not None and str(v).strip()}
    raise err(f"expected a string or a mapping of language to name, found {type(value).__name__}", "name")


def _types_and_mode(raw: dict[str, Any], err: _Err) -> tuple[list[str], bool]:
    """Merge the new `type:` and the legacy `validation:`; return (types, legacy says custom)."""
    types: list[str] = []
    value = raw.get("type")
    if value is not None:
        words = value.split() if isinstance(value, str) else value
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise err("expected a string or a list of strings", "type")
        for word in words:
            if word not in _TYPES:
                raise err(f"unknown problem type '{word}' (expected one of {', '.join(sorted(_TYPES))})", "type")
            types.append(word)
    custom = False
    mode = raw.get("validation")
    if mode is not None:
        if not isinstance(mode, str):
            raise err(
                f"expected a string such as 'default' or 'custom interactive', found {type(mode).__name__}",
                "validation",
            )
        words = mode.split()
        head, rest = (words[0], words[1:]) if words else ("", [])
        if (
            head not in ("default", "custom")
            or any(w not in _LEGACY_MODIFIERS for w in rest)
            or (head == "default" and any(w != "scoring" for w in rest))
        ):
            raise err(
                f"unknown validation mode '{mode}' (expected 'default', 'custom', 'custom interactive', "
                "'custom multi-pass' or one of them with 'scoring')",
                "validation",
            )
        custom = head == "custom"
        types.extend(w for w in rest if w not in types)
    return types or ["pass-fail"], custom


def _time_limit(root: Path, raw: dict[str, Any], limits: dict[str, Any], err: _Err) -> tuple[float | None, str]:
    for key, value in (("limits.time_limit", limits.get("time_limit")), ("time_limit", raw.get("time_limit"))):
        if value is not None:
            return _positive(value, err, key), "problem.yaml"
    dot = root / ".timelimit"
    if dot.is_file():
        text = read_text(dot, problem=err.problem).strip()
        try:
            return _positive(float(text), err, None, dot), ".timelimit"
        except ValueError:
            raise err(f"expected a number of seconds, found '{text[:40]}'", None, dot) from None
    ini = root / "domjudge-problem.ini"
    if ini.is_file():
        m = re.search(r"^\s*timelimit\s*=\s*['\"]?([0-9.]+)", read_text(ini, problem=err.problem), re.M)
        if m:
            return _positive(float(m.group(1)), err, "timelimit", ini), "domjudge-problem.ini"
    return None, "default"


def _positive(value: Any, err: _Err, key: str | None, path: Path | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise err(f"expected a positive number, found {value!r}", key, path)
    return float(value)


def _multipliers(version: str, limits: dict[str, Any], err: _Err) -> dict[str, Any]:
    """`limits.time_multipliers` (2023-07 on) or the legacy `time_multiplier` / `time_safety_margin`."""
    if version == "legacy":
        ac = _positive(limits.get("time_multiplier"), err, "limits.time_multiplier")
        tle = _positive(limits.get("time_safety_margin"), err, "limits.time_safety_margin")
        return {"ac_to_time_limit": ac or 5.0, "time_limit_to_tle": tle or 2.0}
    raw = limits.get("time_multipliers") or {}
    if not isinstance(raw, dict):
        raise err("expected a mapping (ac_to_time_limit, time_limit_to_tle)", "limits.time_multipliers")
    ac = _positive(raw.get("ac_to_time_limit"), err, "limits.time_multipliers.ac_to_time_limit")
    tle = _positive(raw.get("time_limit_to_tle"), err, "limits.time_multipliers.time_limit_to_tle")
    resolution = _positive(limits.get("time_resolution"), err, "limits.time_resolution")
    legacy_ac = _positive(limits.get("time_multiplier"), err, "limits.time_multiplier")  # drafts still use it
    return {
        "ac_to_time_limit": ac or legacy_ac or 2.0,
        "time_limit_to_tle": tle or 1.5,
        "time_resolution": resolution or 1.0,
    }


def _passes(value: Any, err: _Err) -> int:
    """`limits.validation_passes`: a whole number of at least 2 (the format's default is 2)."""
    if value is None:
        return 2
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise err(f"expected a whole number of at least 2, found {value!r}", "limits.validation_passes")
    return value


def _split_flags(value: Any, err: _Err, key: str, path: Path | None = None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value]
    raise err(f"expected a string or a list of strings, found {type(value).__name__}", key, path)


def _flags(root: Path, raw: dict[str, Any], err: _Err) -> list[str]:
    """Problem-wide validator flags; the data folder's settings override problem.yaml's.

    BAPCtools writes `data/test_group.yaml` from the top-level `test_group.yaml:` entry of
    `generators/generators.yaml`; when the data folder lacks it, that entry is read instead.
    """
    flags = _split_flags(raw.get("validator_flags"), err, "validator_flags") or _split_flags(
        raw.get("output_validator_flags"), err, "output_validator_flags"
    )
    settings: list[tuple[Path, dict[str, Any]]] = []
    for name in ("test_group.yaml", "testdata.yaml"):
        path = root / "data" / name
        if path.is_file():
            settings.append((path, read_yaml_mapping(path, problem=err.problem)))
    generators = root / "generators" / "generators.yaml"
    if not settings and generators.is_file():
        top = read_yaml_mapping(generators, problem=err.problem)
        settings += [
            (generators, top[name]) for name in ("test_group.yaml", "testdata.yaml") if isinstance(top.get(name), dict)
        ]
    for path, data in settings:
        for key in ("output_validator_args", "output_validator_flags"):
            if key in data:
                flags = _split_flags(data[key], err, key, path)
    return flags


def _source(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return str(value or "")


def find_output_validator(root: Path) -> Path | None:
    """Locate the custom output validator: `output_validators/<name>/`, or `output_validator/`.

    Returns the program's folder; when a folder holds exactly one source file and nothing
    else it returns that file, so a single-file validator can be run without a build step.
    """
    for folder in (root / "output_validators", root / "output_validator"):
        if not folder.is_dir():
            continue
        entries = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]
        if not entries:
            continue
        dirs = [p for p in entries if p.is_dir()]
        if len(dirs) == 1 and len(entries) == 1:
            return _single_source(dirs[0])
        if not dirs and any(p.suffix in _VALIDATOR_SOURCES or p.name in ("build", "run") for p in entries):
            return _single_source(folder)
        if dirs:
            return _single_source(dirs[0])
    return None


def _single_source(folder: Path) -> Path:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_file() and entries[0].suffix in _VALIDATOR_SOURCES:
        return entries[0]
    return folder
