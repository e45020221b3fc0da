"""Index files: a folder of hub flows described in one `index.yaml`.

`flows_hub/index.yaml` (the first-party catalogue) is made this way, and so can anyone's: run
`aiflows hub index DIR` after changing a flow, and `aiflows hub index --check DIR` in CI to make
sure the index still matches the folders (names, versions, descriptions and content hashes).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ._errors import HubError
from ._files import IGNORED_DIRS, hash_folder
from ._manifest import MANIFEST_FILE, load_manifest
from ._sources import Index, IndexEntry
from ._yaml import read_model

__all__ = ["INDEX_FILE", "build_index", "check_index", "write_index"]

INDEX_FILE = "index.yaml"


def build_index(root: Path) -> Index:
    """Describe every flow folder under `root` (a folder holding a `flow.yaml`)."""
    root = root.resolve()
    flows: dict[str, IndexEntry] = {}
    for manifest_path in sorted(root.rglob(MANIFEST_FILE)):
        folder = manifest_path.parent
        if any(part in IGNORED_DIRS for part in folder.relative_to(root).parts):
            continue
        manifest = load_manifest(folder)
        if manifest.name in flows:
            raise HubError(
                f"{manifest_path}: key 'name': {manifest.name} is also defined in "
                f"{root / str(flows[manifest.name].path)}"
            )
        flows[manifest.name] = IndexEntry(
            path=folder.relative_to(root).as_posix(),
            version=manifest.version,
            description=manifest.description,
            hash=hash_folder(folder),
        )
    return Index(flows=flows)


def _dump(index: Index) -> str:
    header = "# The flows in this folder; regenerate with `aiflows hub index <this folder>`.\n"
    body: str = yaml.safe_dump(index.model_dump(exclude_none=True), sort_keys=True)
    return header + body


def write_index(root: Path) -> Path:
    """Write `root/index.yaml` from the folders under `root`."""
    path = root / INDEX_FILE
    path.write_text(_dump(build_index(root)))
    return path


def check_index(root: Path) -> Index:
    """Raise `HubError` listing every entry of `root/index.yaml` that no longer matches its folder."""
    path = root / INDEX_FILE
    if not path.is_file():
        raise HubError(f"{path}: missing; run `aiflows hub index {root}`")
    recorded = read_model(path, Index)
    actual = build_index(root)
    problems = []
    for name in sorted(set(recorded.flows) | set(actual.flows)):
        old, new = recorded.flows.get(name), actual.flows.get(name)
        if old is None:
            problems.append(f"{name}: not listed (its folder is {new.path if new else '?'})")
        elif new is None:
            problems.append(f"{name}: listed, but no folder under {root} defines it")
        else:
            for key in ("path", "version", "description", "hash"):
                if getattr(old, key) != getattr(new, key):
                    was, now = getattr(old, key), getattr(new, key)
                    problems.append(f"{name}: key '{key}' is {was!r}, the folder says {now!r}")
    if problems:
        raise HubError(f"{path}: out of date; run `aiflows hub index {root}`:\n  " + "\n  ".join(problems))
    return recorded
