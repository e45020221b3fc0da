"""What a pull reads is bounded: file count and total size caps, no `..`, no symlink out, for every source kind.

Each test builds a real source (a folder, a .tar.gz or .zip archive, a git repository) that breaks
one rule, pulls it, and checks the error names the source and the limit, and that nothing reached
the cache or the lock.
"""

# ruff: noqa: F811 - the hub fixtures are imported by name and then requested as arguments

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from aiflows.hub import Hub, HubError, IntegrityError, SourceSpec

from .hub_helpers import (  # noqa: F401 - fixtures are used by name
    FlowRepos,
    flow_files,
    hub_home,
    project,
    write_files,
)

pytestmark = pytest.mark.slow

VALID = flow_files("eve/big", "1.0.0")
MANY = {f"data/{i}.txt": "x" for i in range(2001)}  # one more than the default cap, with the 4 flow files
HUGE = {"data/blob.bin": "0" * (50 * 1024 * 1024 + 1)}  # one byte over the default 50 MiB


def _folder(tmp_path: Path, extra: dict[str, str]) -> SourceSpec:
    return SourceSpec(folder=str(write_files(tmp_path / "big", {**VALID, **extra})))


def _tar(tmp_path: Path, extra: dict[str, str]) -> SourceSpec:
    path = tmp_path / "big-1.0.0.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        for rel, text in {**VALID, **extra}.items():
            data = text.encode()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return SourceSpec(folder=str(path))


def _zip(tmp_path: Path, extra: dict[str, str]) -> SourceSpec:
    path = tmp_path / "big-1.0.0.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for rel, text in {**VALID, **extra}.items():
            zf.writestr(rel, text)
    return SourceSpec(folder=str(path))


def _git(tmp_path: Path, extra: dict[str, str]) -> SourceSpec:
    repos = FlowRepos(base=tmp_path / "repos", work=tmp_path / "work")
    repos.add_version("eve/big", "1.0.0", {**VALID, **extra})
    return SourceSpec(git=repos.file_template())


SOURCES = {"folder": _folder, "tar": _tar, "zip": _zip, "git": _git}


def _assert_nothing_kept(project: Path, hub_home: Path) -> None:
    cache = hub_home / "hub" / "cache"
    assert not cache.exists() or not [p for p in cache.iterdir() if not p.name.startswith(".staging")]
    assert not (project / "flows.lock").exists()


@pytest.mark.parametrize("kind", SOURCES)
def test_more_files_than_the_cap_are_refused(tmp_path: Path, project: Path, hub_home: Path, kind: str) -> None:
    spec = SOURCES[kind](tmp_path, MANY)
    with pytest.raises(HubError, match="holds more than 2000 files, the most a hub flow may hold") as info:
        Hub(project, sources=[spec]).pull(["eve/big"])
    assert "limits: max-files:" in str(info.value)
    _assert_nothing_kept(project, hub_home)


@pytest.mark.parametrize("kind", SOURCES)
def test_more_bytes_than_the_cap_are_refused(tmp_path: Path, project: Path, hub_home: Path, kind: str) -> None:
    spec = SOURCES[kind](tmp_path, HUGE)
    with pytest.raises(HubError, match=f"holds more than {50 * 1024 * 1024} bytes") as info:
        Hub(project, sources=[spec]).pull(["eve/big"])
    assert "limits: max-bytes:" in str(info.value)
    _assert_nothing_kept(project, hub_home)


def test_a_zip_member_that_inflates_past_its_declared_size_is_refused(
    tmp_path: Path, project: Path, hub_home: Path
) -> None:
    """The header says 10 bytes; the deflated stream holds 60 MiB of zeros."""
    path = tmp_path / "bomb-1.0.0.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel, text in VALID.items():
            zf.writestr(rel, text)
        zf.writestr("bomb.bin", b"\0" * (60 * 1024 * 1024))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("bomb.bin")
    size = (60 * 1024 * 1024).to_bytes(4, "little")
    for at in (raw.find(b"PK\x03\x04", info.header_offset) + 22, raw.rfind(b"PK\x01\x02") + 24):
        assert raw[at : at + 4] == size
        raw[at : at + 4] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(IntegrityError, match=f"{path}: not a readable archive"):
        Hub(project, sources=[SourceSpec(folder=str(path))]).pull(["eve/big"])
    _assert_nothing_kept(project, hub_home)


def test_the_caps_are_set_in_hub_yaml(tmp_path: Path, project: Path) -> None:
    spec = _folder(tmp_path, {f"data/{i}.txt": "x" for i in range(20)})
    (project / "hub.yaml").write_text("limits:\n  max-files: 10\n")
    with pytest.raises(HubError, match="holds more than 10 files"):
        Hub(project, sources=[spec]).pull(["eve/big"])
    (project / "hub.yaml").write_text("limits:\n  max-files: 30\n")
    assert "eve/big" in Hub(project, sources=[spec]).pull(["eve/big"]).flows


def test_a_symlink_out_of_a_folder_source_is_refused(tmp_path: Path, project: Path, hub_home: Path) -> None:
    folder = write_files(tmp_path / "big", VALID)
    os.symlink("/etc/passwd", folder / "passwd")
    with pytest.raises(IntegrityError, match="symlink 'passwd' points outside the flow"):
        Hub(project, sources=[SourceSpec(folder=str(folder))]).pull(["eve/big"])
    _assert_nothing_kept(project, hub_home)


@pytest.mark.parametrize(("member", "expected"), [("../escaped.txt", "climbs out"), ("/tmp/escaped.txt", "absolute")])
def test_dotdot_and_absolute_names_in_an_archive_are_refused(
    tmp_path: Path, project: Path, hub_home: Path, member: str, expected: str
) -> None:
    spec = _tar(tmp_path, {member: "pwned"})
    with pytest.raises(IntegrityError, match=expected):
        Hub(project, sources=[spec]).pull(["eve/big"])
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped.txt").exists()
    _assert_nothing_kept(project, hub_home)
