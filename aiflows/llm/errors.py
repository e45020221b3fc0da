"""Typed errors of LLM flows.

    AiflowsError
    └── LLMError                  a model call could not give an answer (names flow, model, cause)
        ├── UnknownModelError     the model string names no backend or provider
        ├── MissingKeyError       no api key (or a rejected one) for the provider
        ├── PromptTemplateError   a prompt template is broken or misses a variable
        ├── ContextLengthError    the prompt does not fit the model's context window
        ├── ProviderError         the provider kept failing after the last retry
        ├── StructuredOutputError the answer never matched the requested schema
        └── ModelUnavailableError a local model is neither cached nor downloadable

Backends raise these without knowing the flow; `ChatFlow` fills in `flow` on the way out, so the
message a caller finally reads says which flow, which model and what went wrong.
"""

from __future__ import annotations

from aiflows.exceptions import AiflowsError

__all__ = [
    "ContextLengthError",
    "LLMError",
    "MissingKeyError",
    "ModelUnavailableError",
    "PromptTemplateError",
    "ProviderError",
    "StructuredOutputError",
    "UnknownModelError",
]


class LLMError(AiflowsError):
    """A model call failed; carries `flow`, `model` and `cause` as attributes."""

    def __init__(self, cause: str, *, model: str = "", flow: str = "") -> None:
        self.cause = cause
        self.model = model
        self.flow = flow
        super().__init__(cause)

    def __str__(self) -> str:
        parts = []
        if self.flow:
            parts.append(f"flow '{self.flow}'")
        if self.model:
            parts.append(f"model '{self.model}'")
        where = ", ".join(parts)
        return f"{where}: {self.cause}" if where else self.cause


class UnknownModelError(LLMError):
    """The model string does not name a backend or a provider litellm knows."""


class MissingKeyError(LLMError):
    """The provider needs an api key and none was given, or it rejected the one given."""


class PromptTemplateError(LLMError):
    """A prompt template does not parse, or renders with a variable that was not given."""


class ContextLengthError(LLMError):
    """The prompt is longer than the model's context window."""


class ProviderError(LLMError):
    """The provider answered with an error, after the last retry for transient ones."""

    def __init__(self, cause: str, *, model: str = "", flow: str = "", status: int | None = None) -> None:
        self.status = status
        super().__init__(cause, model=model, flow=flow)


class StructuredOutputError(LLMError):
    """The model's answer did not validate against the requested schema after the last retry."""

    def __init__(self, cause: str, *, model: str = "", flow: str = "", last_output: str = "") -> None:
        self.last_output = last_output
        super().__init__(cause, model=model, flow=flow)


class ModelUnavailableError(LLMError):
    """A local model could not be loaded: not in the cache and no way to download it."""
