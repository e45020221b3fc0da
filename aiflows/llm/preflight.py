"""Before a long job: will this model answer at all, and does the prompt fit?

A benchmark of a hundred problems should not find out on the hundredth that the key is missing.
`preflight` asks the cheapest question that settles it, once, and raises the typed error a
model call would have raised (with one clear message):

- an OpenAI-compatible endpoint (`api_base`: vLLM, llama.cpp, Ollama, a proxy): its model list
  (`GET {api_base}/models`): unreachable, key refused, model not served; the context window
  when the server states it (vLLM's `max_model_len`, llama.cpp's `n_ctx_train`, `context_length`).
  An endpoint without a model list gets one cheap call (one token) instead;
- a provider litellm knows: the provider's key in the environment, then one cheap call; the
  context window from litellm's model table;
- a local transformers model (`local:` folder or `hf:` cache): `config.json` (readable, with a
  `model_type`), a tokenizer and weights beside it; the window from `max_position_embeddings`.

    report = preflight(chat.choice, chat.config, os.environ, prompts=["...longest prompt..."])
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .config import ChatConfig
from .errors import ContextLengthError, MissingKeyError, ModelUnavailableError, ProviderError, UnknownModelError
from .models import ModelChoice, ModelSpec, parse_model, provider_keys

__all__ = ["PreflightReport", "estimate_tokens", "preflight", "served_models"]

_WINDOW_KEYS = ("max_model_len", "context_length", "context_window", "max_context_length", "n_ctx", "n_ctx_train")
_CONFIG_WINDOW_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json")
_WEIGHT_GLOBS = ("*.safetensors", "pytorch_model*.bin", "*.pt", "*.gguf")


class PreflightReport(BaseModel):
    """What the check found: the model, where it answers, and its context window when known."""

    model: str
    api_base: str | None = None
    how: str  # "model list", "one call", "key", "config.json"
    context_window: int | None = None
    served: list[str] = Field(default_factory=list)  # what the endpoint lists, when it lists
    prompt_tokens: int | None = None  # the largest prompt checked, as counted (or estimated)


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is for an API model (4 characters a token, rounded up)."""
    return -(-len(text) // 4)


def _key_for(spec: ModelSpec, config: ChatConfig, env: Mapping[str, str]) -> str | None:
    keys = provider_keys(spec.name, config.api_key_env, env)
    if keys:
        return keys[0]
    provider = spec.name.split("/", 1)[0].upper().replace("-", "_") if "/" in spec.name else ""
    return env.get(f"{provider}_API_KEY") or None if provider else None


def served_models(api_base: str, key: str | None, *, timeout_s: float = 10.0) -> tuple[int, Any]:
    """`GET {api_base}/models`: the HTTP status and the parsed JSON body (None when not JSON).

    Raises:
        ProviderError: the endpoint cannot be reached at all.
    """
    url = api_base.rstrip("/") + "/models"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - the user's endpoint
            status, raw = int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        status, raw = int(exc.code), exc.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProviderError(f"cannot reach {api_base} ({reason}); is the server running?") from None
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


def _entries(body: Any) -> list[dict[str, Any]]:
    """The model entries of an OpenAI list (`data`) or an Ollama one (`models`)."""
    if isinstance(body, dict):
        items = body.get("data") if isinstance(body.get("data"), list) else body.get("models")
        if isinstance(items, list):
            return [i for i in items if isinstance(i, dict)]
    return []


def _entry_id(entry: dict[str, Any]) -> str:
    return str(entry.get("id") or entry.get("name") or entry.get("model") or "")


def _window_of(mapping: Mapping[str, Any], keys: Sequence[str]) -> int | None:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    meta = mapping.get("meta")
    return _window_of(meta, keys) if isinstance(meta, Mapping) else None


def _served_name(spec: ModelSpec) -> str:
    """The name an endpoint knows the model by: `openai/qwen` asks the server for `qwen`."""
    return spec.name.split("/", 1)[1] if "/" in spec.name else spec.name


def _matches(name: str, served: str) -> bool:
    return served == name or served.removesuffix(":latest") == name or name.removesuffix(":latest") == served


def _check_endpoint(
    choice: ModelChoice, spec: ModelSpec, config: ChatConfig, env: Mapping[str, str]
) -> PreflightReport:
    assert choice.api_base is not None
    api_base = choice.api_base
    try:
        status, body = served_models(api_base, _key_for(spec, config, env))
    except ProviderError as exc:
        exc.model = choice.model
        raise
    if status in (401, 403):
        raise MissingKeyError(
            f"{api_base} refused the api key (HTTP {status}) when asked for its models; "
            f"give the key it expects (AIFLOWS_{spec.name.split('/', 1)[0].upper()}_API_KEYS or the provider's variable)",
            model=choice.model,
        )
    entries = _entries(body) if status == 200 else []
    if not entries:  # no model list here (a proxy, an older server): ask for one token instead
        window = _one_call(choice, config, env)
        return PreflightReport(model=choice.model, api_base=api_base, how="one call", context_window=window)
    served = [_entry_id(e) for e in entries]
    name = _served_name(spec)
    found = next((e for e in entries if _matches(name, _entry_id(e)) or _matches(spec.name, _entry_id(e))), None)
    if found is None:
        prefix = spec.name.split("/", 1)[0] + "/" if "/" in spec.name else ""
        raise UnknownModelError(
            f"{api_base} does not serve '{name}'; it serves: {', '.join(served)} (e.g. --model {prefix}{served[0]})",
            model=choice.model,
        )
    return PreflightReport(
        model=choice.model,
        api_base=api_base,
        how="model list",
        context_window=_window_of(found, _WINDOW_KEYS),
        served=served,
    )


def _one_call(choice: ModelChoice, config: ChatConfig, env: Mapping[str, str]) -> int | None:
    """Ask for one token through the backend the flow will use; its typed error is the answer."""
    from .backends.litellm_backend import LiteLLMBackend
    from .retry import RetryPolicy
    from .types import ChatMessage, Request

    spec = parse_model(choice.model)
    backend = LiteLLMBackend(
        spec.name,
        api_base=choice.api_base,
        api_keys=provider_keys(spec.name, config.api_key_env, env),
        retry=RetryPolicy(max_retries=1, base_delay_s=0.5, max_delay_s=2.0),
        timeout_s=config.request_timeout_s or 30.0,
    )
    request = Request(model=spec.name, messages=(ChatMessage(role="user", content="Say OK."),), max_tokens=1)
    try:
        asyncio.run(backend.complete(request))
    except ProviderError as exc:
        if exc.status != 429:
            raise
        # Rate limited: the key was accepted and the model is known; the run's own retries wait.
    return _litellm_window(spec.name)


def _litellm_window(model: str) -> int | None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    try:
        info = litellm.get_model_info(model)
    except Exception:  # noqa: BLE001 - a model litellm has no table entry for: window unknown
        return None
    value = info.get("max_input_tokens") or info.get("max_tokens")
    return int(value) if isinstance(value, int) and value > 0 else None


def _check_provider(
    choice: ModelChoice, spec: ModelSpec, config: ChatConfig, env: Mapping[str, str]
) -> PreflightReport:
    from .backends.litellm_backend import LiteLLMBackend

    # Building the backend checks that litellm knows the provider and that a key is there.
    backend = LiteLLMBackend(spec.name, api_keys=provider_keys(spec.name, config.api_key_env, env))
    backend.require_key()
    window = _one_call(choice, config, env)
    return PreflightReport(model=choice.model, how="one call", context_window=window)


def _check_local(choice: ModelChoice, spec: ModelSpec, config: ChatConfig) -> tuple[PreflightReport, Path | None]:
    how = (
        "give it a model: AIFLOWS_MODEL=local:/path/to/model (a folder with config.json, weights and tokenizer), "
        "or an API model (AIFLOWS_MODEL=openai/gpt-4o-mini with OPENAI_API_KEY set, or --api-base for a local server)"
    )
    if spec.local:
        folder: Path | None = Path(spec.name).expanduser()
    else:
        folder = _cached_folder(spec.name, config.hf_cache_dir)
    if folder is None:  # an hf: model not in the cache: the caller decides whether a download is possible
        return PreflightReport(model=choice.model, how="not cached"), None
    assert folder is not None
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ModelUnavailableError(f"no model folder with a config.json at {folder}; {how}", model=choice.model)
    try:
        data = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{config_file} is not readable JSON ({exc})", model=choice.model) from None
    if not isinstance(data, dict) or not data.get("model_type"):
        raise ModelUnavailableError(
            f"{config_file} has no 'model_type': not a transformers model configuration", model=choice.model
        )
    if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
        raise ModelUnavailableError(
            f"no tokenizer in {folder} (looked for {', '.join(_TOKENIZER_FILES)}); save one with the model",
            model=choice.model,
        )
    if spec.local and not any(next(folder.glob(pattern), None) for pattern in _WEIGHT_GLOBS):
        raise ModelUnavailableError(f"no weights in {folder} (*.safetensors or pytorch_model*.bin)", model=choice.model)
    report = PreflightReport(
        model=choice.model, how="config.json", context_window=_window_of(data, _CONFIG_WINDOW_KEYS)
    )
    return report, folder


def _cached_folder(repo_id: str, cache_dir: str | None) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(repo_id, "config.json", cache_dir=cache_dir)
    return Path(found).parent if isinstance(found, str) and Path(found).is_file() else None


def _count_local(folder: Path, text: str) -> int:
    """Tokens of `text` by the model's own tokenizer.json when there is one, else an estimate."""
    path = folder / "tokenizer.json"
    if path.is_file():
        try:
            from tokenizers import Tokenizer

            return len(Tokenizer.from_file(str(path)).encode(text).ids)
        except Exception:  # noqa: BLE001 - an unusual tokenizer: fall back to the estimate
            pass
    return estimate_tokens(text)


def preflight(
    choice: ModelChoice,
    config: ChatConfig | None = None,
    env: Mapping[str, str] | None = None,
    *,
    prompts: Sequence[str] = (),
    what: str = "the prompt",
) -> PreflightReport:
    """Check that `choice`'s model answers and that the longest of `prompts` fits its window.

    Args:
        choice: the model and endpoint a flow will use (`ChatFlow.choice`).
        config: the flow's config (keys, answer length); default `ChatConfig()`.
        env: the environment (default `os.environ`).
        prompts: prompt texts the job will send; the longest is checked against the window.
        what: names the longest prompt in the error (e.g. "problem 'hello'").

    Returns:
        What was found; `how == "not cached"` for an `hf:` model that is not downloaded yet.

    Raises:
        MissingKeyError, UnknownModelError, ProviderError, ModelUnavailableError, ContextLengthError:
            the model would not answer, or the prompt would not fit.
    """
    cfg = config or ChatConfig()
    environ = os.environ if env is None else env
    spec = parse_model(choice.model)
    folder: Path | None = None
    if spec.kind == "transformers":
        report, folder = _check_local(choice, spec, cfg)
        answer = cfg.max_tokens or cfg.max_new_tokens
    elif choice.api_base:
        report = _check_endpoint(choice, spec, cfg, environ)
        answer = cfg.max_tokens or 0
    else:
        report = _check_provider(choice, spec, cfg, environ)
        answer = cfg.max_tokens or 0
    if not prompts:
        return report
    longest = max(prompts, key=len)
    tokens = _count_local(folder, longest) if folder is not None else estimate_tokens(longest)
    report = report.model_copy(update={"prompt_tokens": tokens})
    window = report.context_window
    if window is not None and tokens + answer > window:
        about = "" if folder is not None and (folder / "tokenizer.json").is_file() else "about "
        raise ContextLengthError(
            f"{what} needs {about}{tokens} tokens plus {answer} for the answer, more than the model's context "
            f"window of {window} tokens; use a model with a longer context, or shorter problems",
            model=choice.model,
        )
    return report
