"""Manifests and references: good ones parse, bad ones name the file, the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows.hub import HubError, RefKind, load_manifest, parse_reference

GOOD = """\
name: ada/greeter
version: 1.2.0
description: Greets.
entrypoint: flow:Greeter
requires-aiflows: ">=0.1,<0.2"
dependencies: {ada/fmt: ">=1,<2"}
requirements: ["jinja2>=3"]
config: {greeting: Hello}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "flow.yaml").write_text(text)
    return tmp_path


def test_good_manifest(tmp_path: Path) -> None:
    m = load_manifest(_write(tmp_path, GOOD))
    assert (m.name, m.version, m.owner, m.short_name) == ("ada/greeter", "1.2.0", "ada", "greeter")
    assert m.dependencies == {"ada/fmt": ">=1,<2"} and m.config == {"greeting": "Hello"}
    assert m.supports_aiflows("0.1.5") and not m.supports_aiflows("0.2.0")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("entrypoint: flow:Greeter\n", ""), "key 'entrypoint': required key is missing"),
        (("version: 1.2.0", "version: one"), "key 'version': expected a semantic version such as 1.2.0, got 'one'"),
        (("entrypoint: flow:Greeter", "entrypoint: flow.Greeter"), "key 'entrypoint': expected 'module:Class'"),
        (("name: ada/greeter", "name: greeter"), "key 'name': expected 'owner/name'"),
        (('">=1,<2"', '"about one"'), "key 'dependencies': ada/fmt: expected a version constraint"),
        (('"jinja2>=3"', '"jinja2 >>> 3"'), "key 'requirements': expected a pip requirement"),
        (("config:", "colour: red\nconfig:"), "key 'colour': unknown key"),
        (('">=0.1,<0.2"', '"0.1"'), "key 'requires-aiflows': expected a version range"),
    ],
)
def test_bad_manifest_names_file_and_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    folder = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(HubError) as info:
        load_manifest(folder)
    assert str(folder / "flow.yaml") in str(info.value) and expected in str(info.value)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HubError, match="no flow.yaml here"):
        load_manifest(tmp_path)
    with pytest.raises(HubError, match="not valid YAML"):
        load_manifest(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(HubError, match="expected a mapping"):
        load_manifest(_write(tmp_path, "- a list\n"))


@pytest.mark.parametrize(
    ("text", "kind", "rev"),
    [
        ("ada/x", RefKind.ANY, ""),
        ("ada/x@1.2.0", RefKind.CONSTRAINT, "==1.2.0"),
        ("ada/x@v1.2.0", RefKind.CONSTRAINT, "==1.2.0"),
        ("ada/x@>=1.2,<2", RefKind.CONSTRAINT, ">=1.2,<2"),
        ("ada/x@~=1.2", RefKind.CONSTRAINT, "~=1.2"),
        ("ada/x@3f2a9c1", RefKind.COMMIT, "3f2a9c1"),
        ("ada/x@main", RefKind.NAMED, "main"),
        ("ada/x@release/2024", RefKind.NAMED, "release/2024"),
    ],
)
def test_references(text: str, kind: RefKind, rev: str) -> None:
    ref = parse_reference(text)
    assert (ref.name, ref.kind, ref.rev) == ("ada/x", kind, rev)


@pytest.mark.parametrize("text", ["ada", "ada/x@>=one", "ada/x@a..b", "ada/x@-rf", "/x@1"])
def test_bad_references(text: str) -> None:
    with pytest.raises(HubError, match="reference"):
        parse_reference(text)
