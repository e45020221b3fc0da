"""Importing a verified flow folder and building its entrypoint class.

Each cached flow is imported as its own package, `_aiflows_hub_<hash>`, whose path is the cache
folder; two versions of a flow therefore never share modules, and a flow's modules can import each
other relatively (`from .prompts import SYSTEM`). `sys.modules` is the only memo. Modules are
compiled from their `.py` source by `_importer`, never from cached bytecode.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from aiflows._version import __version__
from aiflows.flow import Flow

from ._errors import HubError
from ._importer import register_package
from ._manifest import Manifest, load_manifest

__all__ = ["aiflows_version", "build_flow", "check_compatible", "deep_merge", "load_folder"]


def aiflows_version() -> str:
    """The running aiflows version."""
    return __version__


def check_compatible(manifest: Manifest, where: str) -> None:
    """Refuse a flow whose `requires-aiflows` excludes this aiflows, or whose requirements are missing."""
    running = aiflows_version()
    if not manifest.supports_aiflows(running):
        raise HubError(
            f"{manifest.name} {manifest.version} ({where}) requires aiflows {manifest.requires_aiflows}, "
            f"but this is aiflows {running}"
        )
    missing = []
    for text in manifest.requirements:
        req = Requirement(text)
        try:
            installed = importlib.metadata.version(req.name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(text)
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            missing.append(f"{text} (installed: {installed})")
    if missing:
        raise HubError(
            f"{manifest.name} {manifest.version} needs Python packages that are missing: "
            f"{', '.join(missing)}; install them with pip (the hub never installs anything itself)"
        )


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`, merging nested mappings key by key."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _import_class(folder: Path, manifest: Manifest, package: str) -> type:
    module_name, _, class_name = manifest.entrypoint.partition(":")
    register_package(package, folder)  # source only: a planted .pyc is never what runs
    try:
        module = importlib.import_module(f"{package}.{module_name}")
    except ImportError as exc:
        raise HubError(
            f"{manifest.name} {manifest.version}: entrypoint {manifest.entrypoint!r}: "
            f"cannot import module {module_name!r} from {folder}: {exc}"
        ) from exc
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type):
        raise HubError(
            f"{manifest.name} {manifest.version}: entrypoint {manifest.entrypoint!r}: "
            f"{folder / (module_name.replace('.', '/') + '.py')} defines no class {class_name!r}"
        )
    return cls


def build_flow(folder: Path, manifest: Manifest, package: str, config: dict[str, Any] | None, name: str | None) -> Any:
    """Import the entrypoint from `folder` and instantiate it with the merged config."""
    cls = _import_class(folder, manifest, package)
    if not issubclass(cls, Flow):
        raise HubError(f"{manifest.name} {manifest.version}: entrypoint {manifest.entrypoint!r} is not a Flow subclass")
    kwargs: dict[str, Any] = {"config": deep_merge(manifest.config, config or {})}
    if name is not None:
        kwargs["name"] = name
    return cls(**kwargs)


def load_folder(path: Path, *, config: dict[str, Any] | None = None, name: str | None = None) -> Any:
    """Build the flow in a working-copy folder (no lock, no hash): for a flow's own tests and overrides.

    Loading a folder you point at is an explicit act of trust, so no trust check applies.
    """
    folder = path.resolve()
    manifest = load_manifest(folder)
    check_compatible(manifest, str(folder))
    package = "_aiflows_hub_dev_" + hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return build_flow(folder, manifest, package, config, name)
