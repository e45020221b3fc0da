"""Flow contents as plain data, read safely from folders, archives and git trees.

Every origin is turned into a list of `FileEntry` (relative path, bytes, executable bit) before
anything touches the disk. Paths are checked here, once: no absolute paths, no `..`, no symlink
leaving the flow. Symlinks that stay inside become plain copies of their target, so a cached
flow is only ever regular files and its content hash says everything about it. `Limits` caps how
many files and bytes one flow may hold, checked before the bytes are read where the format allows.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import IO, NamedTuple

from ._errors import HubError, IntegrityError

__all__ = [
    "DEFAULT_LIMITS",
    "FileEntry",
    "Limits",
    "check_relative",
    "content_hash",
    "hash_folder",
    "read_archive",
    "read_folder",
    "resolve_links",
    "write_entries",
]

IGNORED_DIRS = frozenset({".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
_MAX_LINK_DEPTH = 16


class FileEntry(NamedTuple):
    path: str  # posix, relative, normalised
    data: bytes
    executable: bool = False


class Limits(NamedTuple):
    """How much one flow may hold; hub.yaml's `limits:` raises or lowers them."""

    max_files: int = 2000
    max_bytes: int = 50 * 1024 * 1024

    def check(self, files: int, total: int, where: str) -> None:
        """Raise `HubError` once `files` or `total` bytes read so far exceed a limit."""
        if files > self.max_files:
            raise HubError(
                f"{where}: holds more than {self.max_files} files, the most a hub flow may hold; "
                f"raise 'limits: max-files:' in hub.yaml if you trust this source"
            )
        if total > self.max_bytes:
            raise HubError(
                f"{where}: holds more than {self.max_bytes} bytes, the most a hub flow may hold; "
                f"raise 'limits: max-bytes:' in hub.yaml if you trust this source"
            )


DEFAULT_LIMITS = Limits()
NO_LIMITS = Limits(max_files=2**62, max_bytes=2**62)


def _ignored(path: str) -> bool:
    parts = path.split("/")
    return any(p in IGNORED_DIRS for p in parts[:-1]) or parts[-1] in IGNORED_DIRS or path.endswith(IGNORED_SUFFIXES)


def check_relative(path: str, where: str) -> str:
    """Return `path` normalised, or raise `IntegrityError` if it could land outside its root."""
    if not path or "\0" in path or "\\" in path:
        raise IntegrityError(f"{where}: refusing path {path!r}: empty or with NUL/backslash characters")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise IntegrityError(f"{where}: refusing absolute path {path!r}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise IntegrityError(f"{where}: refusing path {path!r}: it climbs out of the flow folder ('..')")
    return "/".join(parts)


def resolve_links(
    files: dict[str, FileEntry], links: dict[str, str], where: str, *, keep_ignored: bool = False
) -> list[FileEntry]:
    """Turn in-tree symlinks into copies of their targets; refuse links that leave the tree."""
    out = dict(files)
    for link, target in links.items():
        current, seen = link, 0
        while True:
            if target.startswith("/"):
                raise IntegrityError(f"{where}: symlink {link!r} points outside the flow (-> {target})")
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
            if joined == ".." or joined.startswith("../"):
                raise IntegrityError(f"{where}: symlink {link!r} points outside the flow (-> {target})")
            if joined in files:
                out[link] = FileEntry(link, files[joined].data, files[joined].executable)
                break
            if joined in links and seen < _MAX_LINK_DEPTH:
                current, target, seen = joined, links[joined], seen + 1
                continue
            raise IntegrityError(f"{where}: symlink {link!r} does not point to a file inside the flow (-> {target})")
    return sorted((e for e in out.values() if keep_ignored or not _ignored(e.path)), key=lambda e: e.path)


def read_folder(root: Path, limits: Limits = DEFAULT_LIMITS, *, strict: bool = False) -> list[FileEntry]:
    """Read every file under `root` (skipping caches and `.git`), refusing symlinks that leave it.

    With `strict`, nothing is skipped: a cache entry must hold exactly its hashed files, since a
    `__pycache__/*.pyc` there would be imported in place of the source it claims to come from.
    """
    if not root.is_dir():
        raise IntegrityError(f"{root}: not a folder")
    files: dict[str, FileEntry] = {}
    links: dict[str, str] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if not strict:
            dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS]
        for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(dirpath, d)))]:
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                links[rel] = os.readlink(full)
            elif stat.S_ISREG(st.st_mode):
                if strict or not _ignored(rel):
                    total += st.st_size
                    limits.check(len(files) + len(links) + 1, total, str(root))
                    files[rel] = FileEntry(rel, Path(full).read_bytes(), bool(st.st_mode & stat.S_IXUSR))
            else:
                raise IntegrityError(f"{root}: refusing {rel!r}: not a regular file")
            limits.check(len(files) + len(links), total, str(root))
    return resolve_links(files, links, str(root), keep_ignored=strict)


def _read_capped(stream: IO[bytes], budget: int, where: str, limits: Limits, count: int, total: int) -> bytes:
    """Read at most `budget` bytes; one byte more means the archive lied about a size or is too big."""
    data = stream.read(budget + 1)
    if len(data) > budget:
        limits.check(count, total + len(data), where)
    return data


def read_archive(path: Path, limits: Limits = DEFAULT_LIMITS) -> list[FileEntry]:
    """Read a `.tar[.gz|.bz2|.xz]`/`.tgz` or `.zip` archive without extracting it.

    Members are counted and sized from their headers, and each is read with what is left of the
    byte budget, so a decompression bomb stops at the limit.
    """
    try:
        return _read_archive(path, limits)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError) as exc:
        raise IntegrityError(f"{path}: not a readable archive: {exc}") from None


def _read_archive(path: Path, limits: Limits) -> list[FileEntry]:
    where = str(path)
    files: dict[str, FileEntry] = {}
    links: dict[str, str] = {}
    total = 0
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                rel = check_relative(info.filename, where)
                mode = info.external_attr >> 16
                count = len(files) + len(links) + 1
                limits.check(count, total + info.file_size, where)
                with zf.open(info) as stream:
                    data = _read_capped(stream, limits.max_bytes - total, where, limits, count, total)
                total += len(data)
                if stat.S_ISLNK(mode):
                    links[rel] = data.decode()
                else:
                    files[rel] = FileEntry(rel, data, bool(mode & stat.S_IXUSR))
    else:
        with tarfile.open(path) as tf:
            for member in tf:  # one header at a time: a million-member archive stops at the limit
                if member.isdir():
                    continue
                rel = check_relative(member.name, where)
                count = len(files) + len(links) + 1
                total += member.size if member.isfile() else 0
                limits.check(count, total, where)
                if member.issym():
                    links[rel] = member.linkname
                elif member.islnk():
                    links[rel] = "/".join([".."] * rel.count("/") + [check_relative(member.linkname, where)])
                elif member.isfile():
                    extracted = tf.extractfile(member)
                    assert extracted is not None
                    files[rel] = FileEntry(rel, extracted.read(), bool(member.mode & stat.S_IXUSR))
                else:
                    raise IntegrityError(f"{where}: refusing {member.name!r}: not a regular file")
    return resolve_links(files, links, where)


def content_hash(entries: list[FileEntry]) -> str:
    """sha256 over the sorted (path, executable bit, file sha256) triples: the flow's identity."""
    outer = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.path):
        digest = hashlib.sha256(entry.data).hexdigest()
        outer.update(f"{entry.path}\0{'x' if entry.executable else 'f'}\0{digest}\n".encode())
    return outer.hexdigest()


def hash_folder(root: Path, limits: Limits = NO_LIMITS) -> str:
    return content_hash(read_folder(root, limits))


def write_entries(entries: list[FileEntry], dest: Path) -> None:
    """Write entries under the (new, empty) folder `dest`; nothing can land outside it."""
    dest.mkdir(parents=True, exist_ok=False)
    base = dest.resolve()
    for entry in entries:
        rel = check_relative(entry.path, str(dest))
        target = base.joinpath(*rel.split("/"))
        if base not in target.parents:
            raise IntegrityError(f"{dest}: refusing {entry.path!r}: it would be written outside the cache")
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as fh:  # "x": never follow or overwrite anything already there
            fh.write(entry.data)
        target.chmod(0o755 if entry.executable else 0o644)
