"""`aiflows hub publish PATH --to REMOTE`: check, tag `vX.Y.Z`, push.

The folder need not be a git repository: its checked files are committed on top of the remote's
`main` in a scratch mirror, tagged, and pushed. A version is immutable: re-publishing identical
content is a no-op, re-tagging it with different content is refused.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from ._check import check_flow
from ._errors import HubError
from ._files import content_hash, read_folder, write_entries
from ._git import GitMirror, run_git
from ._validate import DEFAULT_PROTOCOLS

__all__ = ["PublishResult", "publish_flow"]

BRANCH = "main"


class PublishResult(BaseModel):
    name: str
    version: str
    tag: str
    commit: str
    hash: str
    pushed: bool  # False when the same content was already published under this tag


def publish_flow(
    path: Path, remote: str, *, run_tests: bool = True, protocols: Iterable[str] = DEFAULT_PROTOCOLS
) -> PublishResult:
    """Publish the flow folder at `path` to the git `remote` as tag `v<version>`.

    `remote` is checked like any source URL and may use only `protocols` (hub.yaml's `protocols:`).
    """
    allowed = tuple(protocols)
    report = check_flow(path, run_tests=run_tests)
    manifest, digest = report.manifest, report.hash
    tag = f"v{manifest.version}"
    with tempfile.TemporaryDirectory(prefix="aiflows-publish-") as tmp:
        mirror = GitMirror(Path(tmp), remote, allowed)
        mirror.update()
        existing = mirror.tags().get(tag)
        if existing is not None:
            published = content_hash(mirror.entries(existing))
            if published != digest:
                raise HubError(
                    f"{remote}: tag {tag} already holds {manifest.name} with different content "
                    f"({published[:12]}, here {digest[:12]}); bump 'version' in {report.folder}/flow.yaml"
                )
            return PublishResult(
                name=manifest.name, version=manifest.version, tag=tag, commit=existing, hash=digest, pushed=False
            )
        worktree = Path(tmp) / "tree"
        write_entries(read_folder(report.folder), worktree)
        git = ("--git-dir", str(mirror.path), "--work-tree", str(worktree))
        run_git(*git, "add", "--all", "--force", "--", ".")
        tree = run_git(*git, "write-tree").decode().strip()
        parent = mirror.resolve(f"refs/heads/{BRANCH}")
        ident = ("-c", "user.name=aiflows hub", "-c", "user.email=hub@aiflows.invalid")
        commit = (
            run_git(
                *git,
                *ident,
                "commit-tree",
                tree,
                *(["-p", parent] if parent else []),
                "-m",
                f"{manifest.name} {manifest.version}",
            )
            .decode()
            .strip()
        )
        run_git(*git, "tag", "--end-of-options", tag, commit)
        try:
            run_git(
                *git,
                "push",
                "--quiet",
                "--",
                mirror.url,
                f"{commit}:refs/heads/{BRANCH}",
                f"refs/tags/{tag}",
                protocols=allowed,
            )
        except HubError as exc:
            raise HubError(f"{remote}: push of {tag} failed: {exc}") from None
    return PublishResult(name=manifest.name, version=manifest.version, tag=tag, commit=commit, hash=digest, pushed=True)
