"""A local transformers model: chat template, generation on CPU or GPU, token streaming.

Loading a model takes seconds to minutes, so each process loads a model once and keeps it in a
small cache keyed by (source, device, dtype); every flow that names it shares it. Generation
blocks, so it runs in a worker thread and the event loop stays free; streaming reads a
`TextIteratorStreamer` fed by that thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ContextLengthError, ModelUnavailableError, ProviderError
from ..types import Chunk, Completion, Request, Usage

__all__ = ["DEFAULT_LOCAL_MODEL", "TransformersBackend"]

DEFAULT_LOCAL_MODEL = "Qwen/Qwen2.5-Coder-0.5B-Instruct"


@dataclass
class _Loaded:
    tokenizer: Any
    model: Any
    lock: threading.Lock = field(default_factory=threading.Lock)  # one generation at a time per model


class _ModelCache:
    """Loaded models by key, least-recently-used evicted past `size`; loads are serialized."""

    def __init__(self, size: int = 2) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str, str], _Loaded] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_load(self, key: tuple[str, str, str], load: Any) -> _Loaded:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            loaded: _Loaded = load()
            self._items[key] = loaded
            while len(self._items) > self._size:
                self._items.popitem(last=False)
            return loaded

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items


# One per process on purpose: a model's weights are the most expensive thing to load twice.
_MODELS = _ModelCache()


def _unavailable(name: str, cause: str) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"cannot load the local model: {cause}. To provide it: set AIFLOWS_MODEL=local:/path/to/model "
        f"(a folder with config.json, weights and tokenizer); or download it while online with "
        f"`huggingface-cli download {name}` (it is then read from the Hugging Face cache); "
        "or use an API model, e.g. AIFLOWS_MODEL=openai/gpt-4o-mini with OPENAI_API_KEY set",
        model=name,
    )


class TransformersBackend:
    """Generates with a transformers causal LM, loaded by repo id or from a local folder.

    Args:
        source: a Hugging Face repo id (from the cache, downloaded on first use) or a local path.
        local: True when `source` is a path (`local:` models); it must exist.
        device: "cpu", "cuda", "cuda:1"...; None picks cuda when available.
        dtype: "float32", "bfloat16", "float16"; None gives float32 on CPU and bfloat16 on GPU.
        max_new_tokens: the generation limit when a request sets no `max_tokens`.
        cache_dir: where Hugging Face files are cached (None: the Hugging Face default).
    """

    def __init__(
        self,
        source: str = DEFAULT_LOCAL_MODEL,
        *,
        local: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        max_new_tokens: int = 512,
        cache_dir: str | None = None,
    ) -> None:
        self.source = source
        self.local = local
        self.device = device
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.cache_dir = cache_dir
        self.model = f"local:{source}" if local else f"hf:{source}"

    def __repr__(self) -> str:
        return f"TransformersBackend({self.model!r})"

    # -- loading -------------------------------------------------------------------------------
    def _resolved(self) -> tuple[str, str]:
        import torch

        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = self.dtype or ("float32" if device == "cpu" else "bfloat16")
        return device, dtype

    def _load(self) -> _Loaded:
        device, dtype = self._resolved()
        return _MODELS.get_or_load((self.source, device, dtype), lambda: self._load_now(device, dtype))

    def _load_now(self, device: str, dtype: str) -> _Loaded:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.local and not Path(self.source).is_dir():
            raise _unavailable(self.source, f"no model folder at {self.source}")
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        options: dict[str, Any] = {"local_files_only": offline or self.local}
        if self.cache_dir:
            options["cache_dir"] = self.cache_dir
        load_errors: tuple[type[BaseException], ...] = (OSError, ValueError)
        try:
            from huggingface_hub.errors import HfHubHTTPError

            load_errors = (*load_errors, HfHubHTTPError)
        except ImportError:  # pragma: no cover - older hubs raise OSError subclasses only
            pass
        model: Any
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.source, **options)
            model = AutoModelForCausalLM.from_pretrained(self.source, dtype=getattr(torch, dtype), **options)
        except load_errors as exc:
            where = "offline and not in the Hugging Face cache" if offline else "not cached and not downloadable"
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            raise _unavailable(self.source, f"{where} ({type(exc).__name__}: {first_line})") from None
        model.to(device)
        model.eval()
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        return _Loaded(tokenizer=tokenizer, model=model)

    async def load(self) -> None:
        """Load the model now (in a thread), instead of on the first request."""
        await asyncio.to_thread(self._load)

    # -- generation ----------------------------------------------------------------------------
    def _prepare(self, loaded: _Loaded, request: Request) -> tuple[dict[str, Any], dict[str, Any], int]:
        tok, model = loaded.tokenizer, loaded.model
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if getattr(tok, "chat_template", None) is None:
            raise ProviderError("the tokenizer has no chat template", model=self.model)
        inputs = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        n_prompt = int(inputs["input_ids"].shape[1])
        limit = getattr(model.config, "max_position_embeddings", None)
        max_new = request.max_tokens or self.max_new_tokens
        if limit is not None and n_prompt >= limit:
            raise ContextLengthError(
                f"prompt too long for the context window: {n_prompt} tokens, the model takes {limit}",
                model=self.model,
            )
        if limit is not None:
            max_new = min(max_new, limit - n_prompt)
        sample = (
            request.temperature is not None
            and request.temperature > 0
            or (request.temperature is None and request.n > 1)
        )
        options: dict[str, Any] = {"max_new_tokens": max_new, "pad_token_id": tok.pad_token_id, "do_sample": sample}
        if sample:
            options["temperature"] = request.temperature if request.temperature is not None else 1.0
            if request.top_p is not None:
                options["top_p"] = request.top_p
            options["num_return_sequences"] = request.n
        if request.stop:
            options["stop_strings"] = list(request.stop)
            options["tokenizer"] = tok
        return inputs, options, n_prompt

    def _seed(self, request: Request) -> None:
        if request.seed is not None:
            import torch

            torch.manual_seed(request.seed)

    def _generate(self, request: Request) -> Completion:
        import torch

        loaded = self._load()
        inputs, options, n_prompt = self._prepare(loaded, request)
        tok = loaded.tokenizer
        with loaded.lock, torch.inference_mode():
            self._seed(request)
            out = loaded.model.generate(**inputs, **options)
        texts: list[str] = []
        completion_tokens = 0
        for seq in out:
            new = seq[n_prompt:]
            completion_tokens += _length(new, tok)
            texts.append(_cut(tok.decode(new, skip_special_tokens=True), request.stop))
        if len(texts) < request.n:  # greedy decoding gives one answer; every copy would be the same
            texts = (texts * request.n)[: request.n]
        usage = Usage(
            prompt_tokens=n_prompt,
            completion_tokens=completion_tokens,
            total_tokens=n_prompt + completion_tokens,
            calls=1,
        )
        return Completion(completions=texts, finish_reasons=["stop"] * len(texts), usage=usage, model=self.model)

    async def complete(self, request: Request) -> Completion:
        return await asyncio.to_thread(self._generate, request)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Stream tokens of one completion; with n > 1 each completion comes as one chunk."""
        if request.n > 1:
            done = await self.complete(request)
            for i, text in enumerate(done.completions):
                yield Chunk(index=i, delta=text, finish_reason="stop")
            yield Chunk(usage=done.usage)
            return
        from transformers import TextIteratorStreamer

        loaded = await asyncio.to_thread(self._load)
        inputs, options, n_prompt = await asyncio.to_thread(self._prepare, loaded, request)
        streamer = TextIteratorStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True)
        result: dict[str, Any] = {}
        worker = threading.Thread(
            target=self._generate_into, args=(loaded, request, inputs, options, streamer, result), daemon=True
        )
        worker.start()
        sentinel = object()
        iterator = iter(streamer)
        while True:
            piece = await asyncio.to_thread(next, iterator, sentinel)
            if piece is sentinel:
                break
            if piece:
                yield Chunk(delta=str(piece))
        await asyncio.to_thread(worker.join)
        if "error" in result:
            raise ProviderError(f"generation failed: {result['error']}", model=self.model)
        completion_tokens = int(result.get("tokens", 0))
        yield Chunk(finish_reason="stop")
        yield Chunk(
            usage=Usage(
                prompt_tokens=n_prompt,
                completion_tokens=completion_tokens,
                total_tokens=n_prompt + completion_tokens,
                calls=1,
            )
        )

    def _generate_into(
        self,
        loaded: _Loaded,
        request: Request,
        inputs: dict[str, Any],
        options: dict[str, Any],
        streamer: Any,
        result: dict[str, Any],
    ) -> None:
        import torch

        try:
            with loaded.lock, torch.inference_mode():
                self._seed(request)
                out = loaded.model.generate(**inputs, **options, streamer=streamer)
            result["tokens"] = _length(out[0][inputs["input_ids"].shape[1] :], loaded.tokenizer)
        except Exception as exc:  # noqa: BLE001 - reported to the awaiting coroutine
            result["error"] = f"{type(exc).__name__}: {exc}"
            streamer.end()  # wake the reader, which would otherwise wait forever


def _length(tokens: Any, tok: Any) -> int:
    """Generated tokens up to and including the first end-of-sequence token (padding excluded)."""
    ids: list[int] = tokens.tolist()
    eos = tok.eos_token_id
    if eos in ids:
        return ids.index(eos) + 1
    pad = tok.pad_token_id
    return sum(1 for t in ids if t != pad) if pad != eos else len(ids)


def _cut(text: str, stop: tuple[str, ...] | None) -> str:
    if not stop:
        return text
    cut = min((text.find(s) for s in stop if s in text), default=-1)
    return text[:cut] if cut >= 0 else text
