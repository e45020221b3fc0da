"""Repos: one flow's history in one place (a git remote, a folder or archive, a Hugging Face repo).

A repo lists versions, names revisions, and hands out the manifest and files at a revision.
Nothing here runs code from the repo. `Repos` makes and remembers them, so each git remote is
fetched at most once per hub operation.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

from ._errors import HubError
from ._files import ARCHIVE_SUFFIXES, DEFAULT_LIMITS, FileEntry, Limits, read_archive, read_folder
from ._git import GitMirror
from ._manifest import MANIFEST_FILE, Manifest, parse_manifest
from ._validate import DEFAULT_PROTOCOLS, check_commit, check_folder_location, check_hf_id

__all__ = ["FolderRepo", "GitRepo", "HfRepo", "Repo", "Repos", "manifest_of"]

_TAG = re.compile(r"^v(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)$")


def _tag_versions(tags: dict[str, str]) -> dict[Version, str]:
    out: dict[Version, str] = {}
    for tag, commit in tags.items():
        if m := _TAG.match(tag):
            try:
                out[Version(m.group(1))] = commit
            except InvalidVersion:
                continue
    return out


def manifest_of(entries: list[FileEntry], where: str) -> Manifest:
    for entry in entries:
        if entry.path == MANIFEST_FILE:
            return parse_manifest(entry.data, f"{where}:{MANIFEST_FILE}")
    raise HubError(f"{where}: no {MANIFEST_FILE}; a hub flow needs a manifest at its top level")


RepoKind = Literal["git", "folder", "hf"]


class Repo(ABC):
    kind: RepoKind
    location: str

    @abstractmethod
    def versions(self) -> dict[Version, str]:
        """Version -> revision; raises `HubError` when the repo cannot be reached."""

    @abstractmethod
    def resolve(self, rev: str) -> str:
        """The revision a tag, branch or commit names."""

    @abstractmethod
    def entries(self, rev: str) -> list[FileEntry]:
        """The checked files at `rev`."""

    def manifest(self, rev: str) -> Manifest:
        return manifest_of(self.entries(rev), f"{self.location}@{rev[:12]}" if rev else self.location)


class GitRepo(Repo):
    kind = "git"

    def __init__(
        self, url: str, mirrors: Path, limits: Limits = DEFAULT_LIMITS, protocols: Iterable[str] = DEFAULT_PROTOCOLS
    ) -> None:
        self.location = url
        self._mirror = GitMirror(mirrors, url, protocols)
        self._limits = limits

    def versions(self) -> dict[Version, str]:
        self._mirror.update()
        return _tag_versions(self._mirror.tags())

    def resolve(self, rev: str) -> str:
        self._mirror.update()
        commit = self._mirror.resolve(rev)
        if commit is None:
            raise HubError(f"{self.location}: no tag, branch or commit named {rev!r}")
        return commit

    def manifest(self, rev: str) -> Manifest:
        commit = self._mirror.ensure_commit(rev)
        data = self._mirror.read(commit, MANIFEST_FILE)
        where = f"{self.location}@{rev[:12]}:{MANIFEST_FILE}"
        if data is None:
            raise HubError(f"{where}: missing; a hub flow needs a manifest at its top level")
        return parse_manifest(data, where)

    def entries(self, rev: str) -> list[FileEntry]:
        return self._mirror.entries(self._mirror.ensure_commit(rev), self._limits)


class FolderRepo(Repo):
    """A folder or an archive: one version, the one its manifest states."""

    kind = "folder"

    def __init__(self, path: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.location = check_folder_location(path, "folder source")
        self._limits = limits
        self._entries: list[FileEntry] | None = None

    def exists(self) -> bool:
        return Path(self.location).exists()

    def entries(self, rev: str = "") -> list[FileEntry]:
        if self._entries is None:
            path = Path(self.location)
            if not path.exists():
                raise HubError(f"{path}: no such folder or archive")
            archive = path.name.endswith(ARCHIVE_SUFFIXES)
            self._entries = read_archive(path, self._limits) if archive else read_folder(path, self._limits)
        return self._entries

    def versions(self) -> dict[Version, str]:
        return {self.manifest("").parsed_version: ""}

    def resolve(self, rev: str) -> str:
        raise HubError(f"{self.location}: a folder has a single version; ask for a version constraint, not {rev!r}")


class HfRepo(Repo):
    """A Hugging Face model repository, reached through huggingface_hub (imported only here)."""

    kind = "hf"

    def __init__(self, repo_id: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.location = check_hf_id(repo_id, "hf source")
        self._limits = limits
        self._snapshots: dict[str, list[FileEntry]] = {}

    def _fail(self, exc: Exception) -> HubError:
        return HubError(
            f"Hugging Face repository {self.location}: cannot reach it "
            f"(offline, HF_HUB_OFFLINE set, or no such repository): {type(exc).__name__}: {exc}"
        )

    def _api(self) -> Any:  # huggingface_hub.HfApi, imported only when an hf source is used
        try:
            from huggingface_hub import HfApi
        except ImportError:
            raise HubError(
                f"Hugging Face repository {self.location}: install huggingface_hub to use hf sources"
            ) from None
        return HfApi()

    def versions(self) -> dict[Version, str]:
        api = self._api()
        try:
            refs = api.list_repo_refs(self.location)
        # huggingface_hub raises many types (httpx, requests, its own); here all mean "unreachable".
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc) from None
        return _tag_versions({t.name: t.target_commit for t in refs.tags})

    def resolve(self, rev: str) -> str:
        api = self._api()
        try:
            return str(api.repo_info(self.location, revision=rev).sha)
        except Exception as exc:  # noqa: BLE001 - see versions()
            raise self._fail(exc) from None

    def entries(self, rev: str) -> list[FileEntry]:
        if rev not in self._snapshots:
            check_commit(rev, f"Hugging Face repository {self.location}")
            self._api()
            from huggingface_hub import snapshot_download

            tmp = Path(tempfile.mkdtemp(prefix="aiflows-hf-"))
            try:
                try:
                    snapshot_download(self.location, revision=rev, local_dir=tmp / "snap")
                except Exception as exc:  # noqa: BLE001 - see versions()
                    raise self._fail(exc) from None
                shutil.rmtree(tmp / "snap" / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping
                self._snapshots[rev] = read_folder(tmp / "snap", self._limits)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return self._snapshots[rev]


class Repos:
    """Makes repos by (kind, location) and remembers them for one hub operation."""

    def __init__(
        self, mirrors: Path, limits: Limits = DEFAULT_LIMITS, protocols: Iterable[str] = DEFAULT_PROTOCOLS
    ) -> None:
        self._mirrors = mirrors
        self.limits = limits
        self.protocols = tuple(protocols)
        self._made: dict[tuple[str, str], Repo] = {}
        self._lock = threading.Lock()  # prefetch and sync threads ask for repos too

    def get(self, kind: str, location: str) -> Repo:
        key = (kind, location)
        with self._lock:
            if key not in self._made:
                self._made[key] = self._make(kind, location)
            return self._made[key]

    def _make(self, kind: str, location: str) -> Repo:
        if kind == "git":
            return GitRepo(location, self._mirrors, self.limits, self.protocols)
        if kind == "folder":
            return FolderRepo(location, self.limits)
        if kind == "hf":
            return HfRepo(location, self.limits)
        raise HubError(f"unknown repo kind {kind!r}; expected git, folder or hf")
