"""Nothing a source holds can write outside the cache: `..`, absolute paths, symlinks out."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from aiflows.hub import Hub, IntegrityError, SourceSpec
from aiflows.hub._files import (
    FileEntry,
    content_hash,
    read_archive,
    read_folder,
    write_entries,
)

from .conftest import ENV, FlowRepos, flow_files, git, write_files

VALID = flow_files("eve/evil", "1.0.0")


def _tar(path: Path, extra: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in VALID.items():
            data = text.encode()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in extra:
            tf.addfile(info, io.BytesIO(b"pwned") if info.isfile() else None)
    return path


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 5
    return info


def _link(name: str, target: str, *, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "member",
    [
        _file("../escaped.txt"),
        _file("a/../../escaped.txt"),
        _file("/tmp/escaped.txt"),
        _link("leak", "/etc/passwd"),
        _link("leak", "../../outside"),
        _link("sub/leak", "../../outside"),
        _link("hard", "../outside", hard=True),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-absolute", "symlink-up", "nested-symlink-up", "hardlink-up"],
)
def test_archive_escapes_are_refused_and_nothing_is_written(
    tmp_path: Path, project: Path, member: tarfile.TarInfo
) -> None:
    archive = _tar(tmp_path / "evil-1.0.0.tar.gz", [member])
    with pytest.raises(IntegrityError) as info:
        Hub(project, sources=[SourceSpec(folder=str(archive))]).pull(["eve/evil"])
    assert str(archive) in str(info.value)
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped.txt").exists()
    cache = tmp_path / "home" / "hub" / "cache"
    assert not cache.exists() or not [p for p in cache.iterdir() if not p.name.startswith(".staging")]


def test_zip_with_dotdot_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("flow.yaml", VALID["flow.yaml"])
        zf.writestr("../../escaped.txt", "pwned")
    with pytest.raises(IntegrityError, match="climbs out"):
        read_archive(path)


def test_symlinks_inside_the_flow_become_plain_copies(tmp_path: Path, project: Path) -> None:
    archive = _tar(tmp_path / "ok.tar.gz", [_link("prompts/again.md", "../README.md")])
    lock = Hub(project, sources=[SourceSpec(folder=str(archive))]).pull(["eve/evil"])
    entry = Hub(project).cache.path(lock.flows["eve/evil"].hash)
    copy = entry / "prompts" / "again.md"
    assert copy.read_text() == VALID["README.md"] and not copy.is_symlink()


def test_folder_symlink_pointing_out_is_refused(tmp_path: Path) -> None:
    folder = write_files(tmp_path / "flow", VALID)
    os.symlink("/etc/passwd", folder / "passwd")
    with pytest.raises(IntegrityError, match="symlink 'passwd' points outside the flow"):
        read_folder(folder)


def test_write_entries_never_leaves_its_folder(tmp_path: Path) -> None:
    with pytest.raises(IntegrityError):
        write_entries([FileEntry("../x", b"pwned")], tmp_path / "dest")
    assert not (tmp_path / "x").exists()


def test_content_hash_covers_paths_bytes_and_the_executable_bit() -> None:
    base = [FileEntry("a.py", b"1")]
    assert content_hash(base) == content_hash([FileEntry("a.py", b"1")])
    assert content_hash(base) != content_hash([FileEntry("a.py", b"2")])
    assert content_hash(base) != content_hash([FileEntry("b.py", b"1")])
    assert content_hash(base) != content_hash([FileEntry("a.py", b"1", executable=True)])


def _git_in(bare: Path, *args: str, stdin: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(bare), *args], input=stdin, capture_output=True, text=True, check=True, env=ENV
    ).stdout.strip()


def _evil_repo(tmp_path: Path, extra: list[str]) -> FlowRepos:
    """A repository whose v1.0.0 tree holds crafted entries that git itself would never check out.

    `extra` items: "DOTDOT" adds a folder named `..` holding `escaped.txt`; "name:target" adds a symlink.
    """
    repos = FlowRepos(base=tmp_path / "evil-repos", work=tmp_path / "evil-work")
    repos.add_version("eve/evil", "1.0.0", VALID)
    bare = repos.bare("eve/evil")
    entries = git("ls-tree", "v1.0.0", cwd=bare).splitlines()
    for item in extra:
        if item == "DOTDOT":
            blob = _git_in(bare, "hash-object", "-w", "--stdin", stdin="pwned")
            sub = _git_in(bare, "mktree", stdin=f"100644 blob {blob}\tescaped.txt\n")
            entries.append(f"040000 tree {sub}\t..")
        else:
            name, target = item.split(":", 1)
            entries.append(f"120000 blob {_git_in(bare, 'hash-object', '-w', '--stdin', stdin=target)}\t{name}")
    tree = _git_in(bare, "mktree", stdin="\n".join(entries) + "\n")
    commit = _git_in(bare, "commit-tree", tree, "-m", "evil", stdin="")
    git("tag", "-f", "v1.0.0", commit, cwd=bare)
    return repos


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["DOTDOT"], "climbs out"),
        (["passwd:/etc/passwd"], "points outside the flow"),
        (["up:../../../outside"], "points outside the flow"),
    ],
    ids=["tree-dotdot", "symlink-absolute", "symlink-up"],
)
def test_crafted_git_trees_are_refused(tmp_path: Path, project: Path, lines: list[str], expected: str) -> None:
    repos = _evil_repo(tmp_path, lines)
    with pytest.raises(IntegrityError, match=expected):
        Hub(project, sources=[SourceSpec(git=repos.file_template())]).pull(["eve/evil"])
    assert not (tmp_path / "home" / "hub" / "escaped.txt").exists()
    assert not list((tmp_path / "home").rglob("escaped.txt"))
