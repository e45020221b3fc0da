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
from ._files import FileEntry, content_hash, read_folder, write_entries

__all__ = ["Cache", "CacheRecord"]


class CacheRecord(BaseModel):
    """Where a cache entry came from."""

    name: str
    version: str
    hash: str
    source: str = ""
    location: str = ""
    commit: str | None = None
    files: dict[str, str] = {}  # path -> sha256, to name the file that changed


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
            raise IntegrityError(f"{record.name} {record.version}: content hash {digest} "
                                 f"differs from expected {record.hash}")
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
        self._record_path(digest).write_text(record.model_copy(update={"files": files}).model_dump_json(indent=2))
        return final

    def verify(self, digest: str) -> Path:
        """Return the entry's folder after checking its content still hashes to `digest`."""
        folder = self.path(digest)
        if not folder.is_dir():
            raise IntegrityError(f"{folder}: cache entry is missing; run `aiflows hub sync`")
        entries = read_folder(folder)
        actual = content_hash(entries)
        if actual != digest:
            changed = self._changed_file(folder, entries, digest)
            raise IntegrityError(f"{changed}: cache entry {digest[:12]} was modified "
                                 f"(content no longer matches its hash); delete {folder} and run `aiflows hub sync`")
        return folder

    def _changed_file(self, folder: Path, entries: list[FileEntry], digest: str) -> str:
        """Name the first file that differs from the recorded one (or the folder if unknown)."""
        record = self.record(digest)
        if record is None or not record.files:
            return str(folder)
        now = {e.path: hashlib.sha256(e.data).hexdigest() for e in entries}
        for path in sorted(set(now) | set(record.files)):
            if now.get(path) != record.files.get(path):
                return str(folder / path)
        return str(folder)

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
