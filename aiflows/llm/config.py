"""The configuration of a chat flow: one flat, typed record with a default for every field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .structured import ResponseFormatMode

__all__ = ["ChatConfig"]


class ChatConfig(BaseModel):
    """What a `ChatFlow` asks, of which model, and how.

    Templates are jinja2, given inline or as files. A relative file is looked up in the `base_dir`
    given to the flow, else next to the module defining a ChatFlow subclass, then in the working
    directory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- model ---------------------------------------------------------------------------------
    model: str | None = None  # model string (see aiflows.llm.models); AIFLOWS_MODEL overrides it
    api_base: str | None = None  # OpenAI-compatible endpoint for litellm models (vLLM, llama.cpp, proxy)
    api_key_env: list[str] = Field(default_factory=list)  # env variables holding api keys (comma-separated ok)

    # -- prompts -------------------------------------------------------------------------------
    system_prompt: str | None = None  # rendered once, on the first turn of a session
    system_prompt_file: str | None = None
    first_prompt: str | None = None  # the first user turn; default "{{ query }}"
    first_prompt_file: str | None = None
    later_prompt: str | None = None  # later user turns; default: the first-turn template
    later_prompt_file: str | None = None
    first_k: int | None = Field(default=None, ge=0)  # keep this many of the oldest previous messages
    last_k: int | None = Field(default=None, ge=0)  # and this many of the newest; None and None keep all

    # -- sampling ------------------------------------------------------------------------------
    n: int = Field(default=1, ge=1)  # completions per call; `content` is the first
    temperature: float | None = Field(default=None, ge=0)  # None: the provider's default
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    stop: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stream: bool = False  # emit each text delta as a "token" event while the answer arrives

    # -- structured output ---------------------------------------------------------------------
    response_model: str | None = None  # "module:Class" of a pydantic model the answer must match
    response_format: ResponseFormatMode = "prompt"  # also ask the provider for JSON ("json_object"/"json_schema")
    structured_retries: int = Field(default=2, ge=0)  # re-asks after an invalid answer

    # -- reliability ---------------------------------------------------------------------------
    max_retries: int = Field(default=4, ge=0)  # retries on rate limits and transient errors
    retry_base_s: float = Field(default=0.5, ge=0)  # first backoff, doubling per retry (with jitter)
    retry_max_s: float = Field(default=20.0, ge=0)  # longest single wait
    key_cooldown_s: float = Field(default=60.0, ge=0)  # how long a rate-limited key rests
    request_timeout_s: float | None = Field(default=None, gt=0)  # per request, given to the provider

    # -- cache ---------------------------------------------------------------------------------
    cache: str | None = None  # None/"off"; "on"/"sqlite" ($AIFLOWS_HOME/llm_cache.sqlite); a path; redis://...
    cache_namespace: str = ""  # separates endpoints that serve different models under one name

    # -- local models (hf:/local:) -------------------------------------------------------------
    device: str | None = None  # "cpu", "cuda", ...; None: cuda when available
    dtype: str | None = None  # "float32", "bfloat16", ...; None: float32 on CPU, bfloat16 on GPU
    max_new_tokens: int = Field(default=512, ge=1)  # when max_tokens is not set
    hf_cache_dir: str | None = None  # Hugging Face cache folder; None: the Hugging Face default
