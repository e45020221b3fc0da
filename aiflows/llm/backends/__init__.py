"""Backends that answer a `Request`: litellm (any provider) and local transformers models."""

from __future__ import annotations

from .litellm_backend import LiteLLMBackend
from .transformers_backend import TransformersBackend

__all__ = ["LiteLLMBackend", "TransformersBackend"]
