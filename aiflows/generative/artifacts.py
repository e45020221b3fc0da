"""Where samples go: an artifact store that other processes read by reference, never inline on the bus.

    store = open_artifacts("file")                   # $AIFLOWS_HOME/artifacts (a shared path)
    store = open_artifacts("redis://host:6379/0")    # values in Redis, for machines without a shared disk
    ref = store.put(npz_bytes(x=samples), "npz")     # ArtifactRef(uri=..., sha256=..., size=...)
    arrays = load_npz(read_artifact(ref))            # in any process that can reach the same store

Artifacts are content-addressed (sha256), written atomically, and checked against their hash on read.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from ..exceptions import ConfigError
from .errors import GenerativeError

__all__ = [
    "ArtifactError",
    "ArtifactRef",
    "ArtifactStore",
    "FileArtifacts",
    "RedisArtifacts",
    "load_npz",
    "npz_bytes",
    "open_artifacts",
    "picture",
    "png_bytes",
    "read_artifact",
]

Kind = Literal["npz", "png"]
_MEDIA = {"npz": "application/x-npz", "png": "image/png"}


class ArtifactError(GenerativeError):
    """An artifact that cannot be stored or read (missing, altered, unreachable store)."""


class ArtifactRef(BaseModel):
    """A reference to stored bytes: `file:///abs/path` or `redis://host:port/db#key`, with their hash and size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uri: str
    kind: Kind
    media_type: str
    sha256: str
    size: int


class ArtifactStore(Protocol):
    def put(self, data: bytes, kind: Kind) -> ArtifactRef: ...

    def get(self, ref: ArtifactRef) -> bytes: ...


def _check(ref: ArtifactRef, data: bytes) -> bytes:
    if hashlib.sha256(data).hexdigest() != ref.sha256:
        raise ArtifactError(f"artifact {ref.uri} does not match its sha256 {ref.sha256[:12]}...: altered or truncated")
    return data


class FileArtifacts:
    """Files under a folder (default `$AIFLOWS_HOME/artifacts`), named by their hash."""

    def __init__(self, root: str | Path | None = None) -> None:
        home = Path(os.environ.get("AIFLOWS_HOME") or Path.home() / ".aiflows")
        self.root = Path(root) if root is not None else home / "artifacts"

    def put(self, data: bytes, kind: Kind) -> ArtifactRef:
        digest = hashlib.sha256(data).hexdigest()
        path = (self.root / digest[:2] / f"{digest}.{kind}").resolve()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return ArtifactRef(uri=path.as_uri(), kind=kind, media_type=_MEDIA[kind], sha256=digest, size=len(data))

    def get(self, ref: ArtifactRef) -> bytes:
        if not ref.uri.startswith("file://"):
            raise ArtifactError(f"{ref.uri} is not a file artifact")
        path = Path(ref.uri[len("file://") :])
        try:
            return _check(ref, path.read_bytes())
        except OSError as exc:
            raise ArtifactError(f"cannot read artifact {path}: {exc.strerror}") from None


class RedisArtifacts:
    """Values in Redis under `{namespace}:artifact:{sha256}`, kept `ttl_s` seconds (a day by default)."""

    def __init__(self, url: str, *, namespace: str = "aiflows", ttl_s: int = 86400) -> None:
        self.url = url
        self.namespace = namespace
        self.ttl_s = ttl_s
        self._client: Any = None

    def _redis(self) -> Any:
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.url)
        return self._client

    def put(self, data: bytes, kind: Kind) -> ArtifactRef:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{self.namespace}:artifact:{digest}"
        self._redis().set(key, data, ex=self.ttl_s)
        uri = f"{self.url}#{key}"
        return ArtifactRef(uri=uri, kind=kind, media_type=_MEDIA[kind], sha256=digest, size=len(data))

    def get(self, ref: ArtifactRef) -> bytes:
        url, _, key = ref.uri.partition("#")
        client = self._redis() if url == self.url else RedisArtifacts(url)._redis()
        data = client.get(key)
        if data is None:
            raise ArtifactError(f"artifact {key} is not in Redis (expired after {self.ttl_s} s, or another server)")
        return _check(ref, bytes(data))


def open_artifacts(spec: str | None = None, *, namespace: str = "aiflows") -> FileArtifacts | RedisArtifacts:
    """'file' (or None): `$AIFLOWS_HOME/artifacts`; a folder path; or a redis:// / rediss:// URL."""
    if spec is None or spec == "file":
        return FileArtifacts()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisArtifacts(spec, namespace=namespace)
    if "://" in spec:
        raise ConfigError(f"artifact store '{spec}': expected 'file', a folder, or a redis:// URL")
    return FileArtifacts(spec)


def read_artifact(ref: ArtifactRef | dict[str, Any]) -> bytes:
    """The bytes a reference names, from whichever store it points to (hash checked)."""
    ref = ref if isinstance(ref, ArtifactRef) else ArtifactRef.model_validate(ref)
    if ref.uri.startswith("file://"):
        return FileArtifacts().get(ref)
    return RedisArtifacts(ref.uri.partition("#")[0]).get(ref)


def npz_bytes(**arrays: Any) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def load_npz(data: bytes) -> dict[str, Any]:
    import numpy as np

    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def png_bytes(pixels: Any) -> bytes:
    """An 8-bit grayscale (h, w) or RGB (h, w, 3) PNG from values in [0, 1] (numpy or torch), no image library."""
    import numpy as np

    array = np.asarray(pixels, dtype=np.float64)
    image = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
    color = 2 if image.ndim == 3 else 0
    h, w = image.shape[:2]
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(h))

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def picture(samples: Any, *, size: int = 192) -> Any:
    """A (h, w[, 3]) array in [0, 1] showing samples: images tiled in a grid, 2-D points as a density map."""
    import numpy as np

    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 2:  # points: a 2-D histogram over their range, square-root scaled
        lo, hi = x.min(axis=0), x.max(axis=0)
        span = np.maximum(hi - lo, 1e-9)
        cells = np.clip(((x - lo) / span * (size - 1)).round().astype(int), 0, size - 1)
        counts = np.zeros((size, size))
        np.add.at(counts, (size - 1 - cells[:, 1], cells[:, 0]), 1.0)
        return 1.0 - np.sqrt(counts / counts.max())
    if x.ndim != 4:
        raise ArtifactError(f"cannot draw samples of shape {x.shape}: expected (n, 2) points or (n, c, h, w) images")
    n, c, h, w = x.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (h + 1) + 1, cols * (w + 1) + 1, c))
    images = (np.clip(x, -1, 1) + 1) / 2  # samples live in [-1, 1]
    for i in range(n):
        r, k = divmod(i, cols)
        grid[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + k * (w + 1) : 1 + k * (w + 1) + w] = images[i].transpose(
            1, 2, 0
        )
    return grid[..., 0] if c == 1 else grid[..., :3]
