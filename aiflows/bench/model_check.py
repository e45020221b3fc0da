"""Is the model there, and will it answer? Asked before any problem runs, so a first mistake fails at once.

`check_model_available`: a local transformers model must be a folder (`local:`) or in the Hugging
Face cache (`hf:`), unless the hub is reachable to download it.
`check_flow_models`: every chat model of the cc flow passes `aiflows.llm.preflight` (key, model
known, context window against the longest problem's prompt) before the first problem runs.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiflows.llm.errors import ModelUnavailableError
from aiflows.llm.models import choose_model, parse_model
from aiflows.llm.preflight import PreflightReport, preflight
from aiflows.problems import Problem

__all__ = ["check_flow_models", "check_model_available", "hub_reachable"]

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


def _chats(flow: Any) -> Iterator[Any]:
    """The chat flows inside a composition (anything with a model `choice` and a chat `config`)."""
    seen: set[int] = set()
    stack = [flow]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if hasattr(current, "choice") and hasattr(current, "prompt_sources"):
            yield current
        subflows = getattr(current, "subflows", None)
        if isinstance(subflows, dict):
            stack.extend(sub for sub in subflows.values() if not isinstance(sub, str))


def _problem_text(problem: Problem) -> str:
    return "\n".join(part for part in (problem.title, problem.statement, problem.prompt or "") if part)


def check_flow_models(flow: Any, problems: Sequence[Problem]) -> list[PreflightReport]:
    """Preflight every distinct model of `flow`'s chat flows against the longest problem's first prompt.

    Raises:
        LLMError: a model would not answer (no key, unknown model, unreachable endpoint, a local
            model's folder incomplete) or the longest prompt does not fit its context window.
    """
    longest = max(problems, key=lambda p: len(_problem_text(p)), default=None)
    # One check per model and endpoint (a model answers for all its roles), with the longest first prompt.
    groups: dict[tuple[str, str | None, int], tuple[Any, str]] = {}
    for chat in _chats(flow):
        cfg = chat.config
        key = (chat.choice.model, chat.choice.api_base, cfg.max_tokens or cfg.max_new_tokens)
        prompt = chat.prompt_sources() + ("\n" + _problem_text(longest) if longest is not None else "")
        if key not in groups or len(prompt) > len(groups[key][1]):
            groups[key] = (chat, prompt)
    reports: list[PreflightReport] = []
    for chat, prompt in groups.values():
        what = f"the first prompt of problem '{longest.id}' to '{chat.name}'" if longest is not None else "the prompt"
        report = preflight(chat.choice, chat.config, prompts=[prompt] if longest is not None else [], what=what)
        if report.how == "not cached":  # an hf: model not downloaded yet: check_model_available decides
            check_model_available(chat.choice.model)
        reports.append(report)
    return reports
