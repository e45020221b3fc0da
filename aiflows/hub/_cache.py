"""The content-addressed cache: `$AIFLOWS_HOME/hub/cache/<sha256>/`.

A flow lands here once per distinct content. The folder name is the content hash, so an entry
is verified by hashing it again (a small flow is a few files: well under a millisecond). A sidecar
`<sha256>.json` records where the content came from, for `list` and `show`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel

from ._errors import IntegrityError
from ._files import NO_LIMITS, FileEntry, content_hash, read_folder, write_entries

__all__ = ["Cache", "CacheRecord"]


class CacheRecord(BaseModel):
    """Where a cache entry came from."""

    name: str
    version: str
    hash: str
    source: str = ""
    location: str = ""
    commit: str | None = None
    kind: str = ""
    files: dict[str, str] = {}  # path -> sha256, to name the file that changed
    origins: list[str] = []  # every "kind:location@commit" this machine fetched this content from


def _origin(kind: str, location: str, commit: str | None) -> str:
    return f"{kind}:{location}@{commit or ''}"


class Cache:
    """Store and verify flow contents by hash under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest

    def has(self, digest: str) -> bool:
        return self.path(digest).is_dir()

    def put(self, entries: list[FileEntry], record: CacheRecord) -> Path:
        """Store `entries` (already checked) and return their folder; reuse it if present and intact."""
        digest = content_hash(entries)
        if digest != record.hash:
            raise IntegrityError(
                f"{record.name} {record.version}: content hash {digest} differs from expected {record.hash}"
            )
        final = self.path(digest)
        if final.is_dir():
            self.verify(digest)
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
            try:
                write_entries(entries, staging / "flow")
                os.replace(staging / "flow", final)  # atomic: a half-written entry is never visible
            except OSError:
                if not final.is_dir():
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        files = {e.path: hashlib.sha256(e.data).hexdigest() for e in entries}
        old = self.record(digest)
        origin = _origin(record.kind, record.location, record.commit)
        origins = sorted({*(old.origins if old else []), *record.origins, origin})
        update = {"files": files, "origins": origins}
        self._record_path(digest).write_text(record.model_copy(update=update).model_dump_json(indent=2))
        return final

    def fetched_from(self, digest: str, kind: str, location: str, commit: str | None) -> bool:
        """Whether this machine itself fetched the content `digest` from `location` at `commit`.

        Recorded by `put` after the bytes were read from there, so unlike a lock's word it is provenance.
        """
        record = self.record(digest)
        return record is not None and _origin(kind, location, commit) in record.origins

    def verify(self, digest: str) -> Path:
        """Return the entry's folder after checking its content still hashes to `digest`.

        Every file counts, `__pycache__` included: Python would import a planted `.pyc` instead of
        the verified source, so an entry holding anything its hash does not cover is refused.
        """
        folder = self.path(digest)
        if not folder.is_dir():
            raise IntegrityError(f"{folder}: cache entry is missing; run `aiflows hub sync`")
        entries = read_folder(folder, NO_LIMITS, strict=True)
        actual = content_hash(entries)
        if actual != digest:
            changed, added = self._changed_file(folder, entries, digest)
            what = (
                "is not part of it (its hash does not cover this file: planted code or bytecode is never imported)"
                if added
                else "was modified (content no longer matches its hash)"
            )
            raise IntegrityError(
                f"{changed}: cache entry {digest[:12]} {what}; delete {folder} and run `aiflows hub sync`"
            )
        return folder

    def _changed_file(self, folder: Path, entries: list[FileEntry], digest: str) -> tuple[str, bool]:
        """The first file that differs from the recorded ones (or the folder if unknown), and whether it is extra."""
        record = self.record(digest)
        if record is None or not record.files:
            return str(folder), False
        now = {e.path: hashlib.sha256(e.data).hexdigest() for e in entries}
        for path in sorted(set(now) | set(record.files)):
            if now.get(path) != record.files.get(path):
                return str(folder / path), path not in record.files
        return str(folder), False

    def _record_path(self, digest: str) -> Path:
        return self.root / f"{digest}.json"

    def record(self, digest: str) -> CacheRecord | None:
        try:
            return CacheRecord.model_validate(json.loads(self._record_path(digest).read_text()))
        except (OSError, ValueError):
            return None

    def records(self) -> list[CacheRecord]:
        if not self.root.is_dir():
            return []
        out = [r for p in sorted(self.root.glob("*.json")) if (r := self.record(p.stem)) is not None]
        return sorted(out, key=lambda r: (r.name, r.version))
