"""LLM flows: chat models as flows, over litellm (any provider) or local transformers models.

    ChatFlow       a chat model as an atomic flow; its conversation is its state, per session
    ChatConfig     the flow's config: model, jinja2 prompts, window, sampling, retries, cache
    Backend        what answers a Request: LiteLLMBackend, TransformersBackend, or your own
    ResponseCache  SQLiteCache (default) or RedisCache, wrapped around a backend by CachedBackend
    UsageMeter     sums the `llm.usage` events of a run

Modules: `types` (the data), `prompts`, `conversation`, `structured`, `retry`, `cache`, `models`
(the model-string rule), `factory`, `chat`, `usage`, `errors`, `preflight` (will the model answer,
and does the prompt fit, asked once before a long job), `backends/`, and `testing` (an
OpenAI-protocol server on loopback for tests).
"""

from __future__ import annotations

from .backends import LiteLLMBackend, TransformersBackend
from .cache import CachedBackend, RedisCache, ResponseCache, SQLiteCache, cache_key, open_cache
from .chat import ChatFlow
from .config import ChatConfig
from .conversation import window
from .errors import (
    ContextLengthError,
    LLMError,
    MissingKeyError,
    ModelUnavailableError,
    PromptTemplateError,
    ProviderError,
    StructuredOutputError,
    UnknownModelError,
)
from .models import DEFAULT_MODEL, choose_model, parse_model
from .preflight import PreflightReport, preflight
from .prompts import PromptTemplate
from .retry import KeyPool, RetryPolicy
from .types import Backend, ChatMessage, Chunk, Completion, Request, Usage
from .usage import USAGE_EVENT, UsageMeter

__all__ = [
    "Backend",
    "CachedBackend",
    "ChatConfig",
    "ChatFlow",
    "ChatMessage",
    "Chunk",
    "Completion",
    "ContextLengthError",
    "DEFAULT_MODEL",
    "KeyPool",
    "LLMError",
    "LiteLLMBackend",
    "MissingKeyError",
    "ModelUnavailableError",
    "PreflightReport",
    "PromptTemplate",
    "PromptTemplateError",
    "ProviderError",
    "RedisCache",
    "Request",
    "ResponseCache",
    "RetryPolicy",
    "SQLiteCache",
    "StructuredOutputError",
    "TransformersBackend",
    "USAGE_EVENT",
    "UnknownModelError",
    "Usage",
    "UsageMeter",
    "cache_key",
    "choose_model",
    "open_cache",
    "parse_model",
    "preflight",
    "window",
]
