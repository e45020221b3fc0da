"""Build the backend a chat flow's config asks for: model choice, keys, retries, cache."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .backends.litellm_backend import LiteLLMBackend
from .backends.transformers_backend import TransformersBackend
from .cache import CachedBackend, ResponseCache, open_cache
from .config import ChatConfig
from .models import ModelChoice, parse_model, provider_keys
from .retry import RetryPolicy
from .types import Backend

__all__ = ["build_backend", "home_dir"]


def home_dir(env: Mapping[str, str]) -> Path:
    """`$AIFLOWS_HOME`, or `~/.aiflows`."""
    return Path(env.get("AIFLOWS_HOME") or Path.home() / ".aiflows").expanduser()


def build_backend(
    choice: ModelChoice,
    config: ChatConfig,
    env: Mapping[str, str],
    *,
    cache: ResponseCache | None = None,
) -> Backend:
    """The backend for `choice`, wrapped in the configured cache (or `cache` when given).

    Raises:
        UnknownModelError: the model string names no backend.
        MissingKeyError: `api_key_env` names an unset variable.
    """
    spec = parse_model(choice.model)
    backend: Backend
    if spec.kind == "transformers":
        backend = TransformersBackend(
            spec.name,
            local=spec.local,
            device=config.device,
            dtype=config.dtype,
            max_new_tokens=config.max_new_tokens,
            cache_dir=config.hf_cache_dir,
        )
    else:
        backend = LiteLLMBackend(
            spec.name,
            api_base=choice.api_base,
            api_keys=provider_keys(spec.name, config.api_key_env, env),
            retry=RetryPolicy(
                max_retries=config.max_retries, base_delay_s=config.retry_base_s, max_delay_s=config.retry_max_s
            ),
            key_cooldown_s=config.key_cooldown_s,
            timeout_s=config.request_timeout_s,
        )
    store = cache if cache is not None else open_cache(config.cache, home=home_dir(env))
    if store is not None:
        backend = CachedBackend(backend, store, namespace=config.cache_namespace)
    return backend
