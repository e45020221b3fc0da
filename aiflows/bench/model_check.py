"""Is the model there? Asked before any problem runs, so a missing model fails at once.

A local transformers model must be a folder (`local:`) or in the Hugging Face cache (`hf:`),
unless the hub is reachable to download it. API models are not checked here: their errors
come back per problem, with the provider's message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

from aiflows.llm.errors import ModelUnavailableError
from aiflows.llm.models import choose_model, parse_model

__all__ = ["check_model_available", "hub_reachable"]

_HF_HOST = ("huggingface.co", 443)


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection (False when HF_HUB_OFFLINE is set)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection(_HF_HOST, timeout=timeout_s):
            return True
    except OSError:
        return False


def _cached(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(repo_id, "config.json")
    return isinstance(found, str) and Path(found).is_file()


def check_model_available(model: str | None, env: Mapping[str, str] | None = None) -> str:
    """Return the model string that will be used, or raise saying how to provide one.

    Raises:
        ModelUnavailableError: a local model is neither on disk nor downloadable right now.
    """
    environ = os.environ if env is None else env
    choice = choose_model(model, None, environ)
    spec = parse_model(choice.model)
    if spec.kind != "transformers":
        return choice.model
    how = (
        "give it a model: AIFLOWS_MODEL=local:/path/to/model (a folder with config.json, weights and tokenizer); "
        f"or download {spec.name} while online (`huggingface-cli download {spec.name}`); "
        "or use an API model, e.g. AIFLOWS_MODEL=openai/gpt-4o-mini with OPENAI_API_KEY set"
    )
    if spec.local:
        if not (Path(spec.name) / "config.json").is_file():
            raise ModelUnavailableError(f"no model folder with a config.json at {spec.name}; {how}", model=choice.model)
        return choice.model
    if _cached(spec.name) or hub_reachable():
        return choice.model
    raise ModelUnavailableError(
        f"the model {spec.name} is not in the Hugging Face cache and the hub cannot be reached (offline); {how}",
        model=choice.model,
    )
