"""Any provider litellm supports, by model string, with our own retries and key rotation.

litellm's and the OpenAI client's own retries are turned off (`max_retries=0`) so that one
policy, ours, decides: rate limits rest the key that hit them and move to the next, transient
errors back off, everything else becomes a typed error at once. Keys are scrubbed from every
message this module raises or logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..errors import ContextLengthError, LLMError, MissingKeyError, ProviderError, UnknownModelError
from ..retry import KeyPool, RetryPolicy
from ..types import Chunk, Completion, Request, Usage

__all__ = ["LiteLLMBackend"]

log = logging.getLogger("aiflows.llm")

_NO_KEY = "no-key"  # sent to a keyless api_base: the OpenAI client refuses to send none


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True  # it otherwise prints a help banner on every error
    return litellm


class _Failure(Exception):
    """A classified provider error: final or retryable, and whether the key was rate limited."""

    def __init__(self, error: LLMError, *, retry: bool, rate_limited: bool = False, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retry = retry
        self.rate_limited = rate_limited
        self.retry_after = retry_after


class LiteLLMBackend:
    """Calls `litellm.acompletion` for a model string such as `openai/gpt-4o-mini`.

    Args:
        model: a litellm model string (`openai/...`, `anthropic/...`, `ollama/...`, ...).
        api_base: an OpenAI-compatible endpoint (vLLM, llama.cpp, a proxy), if any.
        api_keys: keys to rotate through; None lets litellm read the provider's usual variable.
        retry: the retry policy for rate limits and transient errors.
        key_cooldown_s: how long a rate-limited key is put aside.
        timeout_s: per-request timeout given to the provider client.

    Raises:
        UnknownModelError: litellm knows no provider for `model`.
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_keys: Sequence[str] | None = None,
        retry: RetryPolicy | None = None,
        key_cooldown_s: float = 60.0,
        timeout_s: float | None = None,
        seed: int | None = None,
    ) -> None:
        litellm = _litellm()
        try:
            _, self.provider, _, _ = litellm.get_llm_provider(model)
        except Exception:
            raise UnknownModelError(
                "no backend for this model string: use '<provider>/<model>' as litellm names it "
                "(e.g. 'openai/gpt-4o-mini', 'anthropic/claude-3-5-haiku-latest', 'ollama/llama3'), "
                "'hf:<repo id>' or 'local:<path>' for a transformers model",
                model=model,
            ) from None
        self.model = model
        self.api_base = api_base
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self._keys = [k for k in (api_keys or []) if k]
        self._pool = KeyPool(self._keys, cooldown_s=key_cooldown_s) if self._keys else None
        self._rng = random.Random(seed)
        # An OpenAI-compatible server of one's own (vLLM, llama.cpp, Ollama) usually wants no key;
        # the client still sends one, so a placeholder goes unless the provider's variable is set.
        self._missing_key = None if self._keys or api_base else self._check_environment(litellm)
        self._placeholder = _NO_KEY if api_base and not self._keys and not self._env_key(litellm) else None

    def __repr__(self) -> str:
        return f"LiteLLMBackend(model={self.model!r}, keys={len(self._keys)})"

    def _env_key(self, litellm: Any) -> bool:
        """Whether the provider's own key variable (OPENAI_API_KEY, ...) is set."""
        try:
            report = litellm.validate_environment(self.model)
        except Exception:  # noqa: BLE001 - no report: assume none
            return False
        return not any("KEY" in m or "TOKEN" in m for m in report.get("missing_keys") or [])

    def _check_environment(self, litellm: Any) -> str | None:
        try:
            report = litellm.validate_environment(self.model)
        except Exception:
            return None
        missing = [m for m in report.get("missing_keys") or [] if "KEY" in m or "TOKEN" in m]
        return ", ".join(missing) if missing else None

    # -- calls ---------------------------------------------------------------------------------
    def _kwargs(self, request: Request, key: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_retries": 0,
            **request.sampling(),
        }
        if request.n > 1:
            kwargs["n"] = request.n
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if key is not None:
            kwargs["api_key"] = key
        elif self._placeholder is not None:
            kwargs["api_key"] = self._placeholder
        if self.timeout_s is not None:
            kwargs["timeout"] = self.timeout_s
        return kwargs

    def require_key(self) -> None:
        """Raise `MissingKeyError` when the provider needs a key and none is set (no call made)."""
        if self._missing_key:
            raise MissingKeyError(
                f"no api key: set {self._missing_key} (several: AIFLOWS_<PROVIDER>_API_KEYS=k1,k2), or list keys "
                "in the flow's api_key_env; a server of your own needs none: give its api_base",
                model=self.model,
            )

    async def _next_key(self, first_try: bool) -> str | None:
        if self._pool is None:
            return None
        key, wait = self._pool.acquire()
        if wait > 0 and first_try:
            # Every key is resting: wait for the first to come back, but no longer than one backoff.
            # (A retry has just backed off already, so it goes ahead with the least tired key.)
            await asyncio.sleep(min(wait, self.retry.max_delay_s))
        return key

    async def _backoff(self, failure: _Failure, key: str | None, attempt: int) -> None:
        if failure.rate_limited and key is not None and self._pool is not None:
            self._pool.rest(key, failure.retry_after)
            if self._pool.resting() < len(self._pool):
                # Another key is fresh: switch at once instead of waiting.
                log.info("model %s: rate limited, switching key (retry %d)", self.model, attempt + 1)
                return
        delay = self.retry.delay(attempt, self._rng, failure.retry_after)
        log.info(
            "model %s: %s; retry %d/%d in %.2fs",
            self.model,
            failure.error.cause,
            attempt + 1,
            self.retry.max_retries,
            delay,
        )
        await asyncio.sleep(delay)

    async def complete(self, request: Request) -> Completion:
        litellm = _litellm()
        self.require_key()
        failure: _Failure | None = None
        for attempt in range(self.retry.max_retries + 1):
            key = await self._next_key(attempt == 0)
            try:
                response = await litellm.acompletion(**self._kwargs(request, key))
            except Exception as exc:  # noqa: BLE001 - every provider error is classified here
                failure = self._classify(exc, litellm)
                if not failure.retry:
                    raise failure.error from None
                if attempt < self.retry.max_retries:
                    await self._backoff(failure, key, attempt)
                continue
            return self._completion(response)
        assert failure is not None
        raise self._final(failure)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        """Stream chunks; a failure before the first chunk is retried, one after it is final."""
        litellm = _litellm()
        self.require_key()
        failure: _Failure | None = None
        for attempt in range(self.retry.max_retries + 1):
            key = await self._next_key(attempt == 0)
            started = False
            try:
                kwargs = self._kwargs(request, key)
                response = await litellm.acompletion(**kwargs, stream=True, stream_options={"include_usage": True})
                async for part in response:
                    for chunk in self._chunks(part):
                        started = True
                        yield chunk
                return
            except Exception as exc:  # noqa: BLE001 - classified here
                failure = self._classify(exc, litellm)
                if not failure.retry:
                    raise failure.error from None
                if started:
                    raise self._final(failure) from None
                if attempt < self.retry.max_retries:
                    await self._backoff(failure, key, attempt)
        assert failure is not None
        raise self._final(failure)

    # -- answers -------------------------------------------------------------------------------
    def _usage(self, raw: Any, cost: Any = None) -> Usage:
        """Usage from litellm's numbers; `cost` is litellm's own figure when it computed one already."""
        if raw is None:
            return Usage(calls=1)
        prompt = int(getattr(raw, "prompt_tokens", 0) or 0)
        completion = int(getattr(raw, "completion_tokens", 0) or 0)
        total = int(getattr(raw, "total_tokens", 0) or prompt + completion)
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            cost_usd=float(cost) if isinstance(cost, (int, float)) else self._cost(prompt, completion),
            calls=1,
        )

    def _cost(self, prompt: int, completion: int) -> float:
        try:
            p, c = _litellm().cost_per_token(model=self.model, prompt_tokens=prompt, completion_tokens=completion)
        except Exception:  # noqa: BLE001 - a model without a price costs 0, not an error
            return 0.0
        return float(p + c)

    def _completion(self, response: Any) -> Completion:
        choices = sorted(response.choices, key=lambda c: c.index)
        return Completion(
            completions=[(c.message.content or "") for c in choices],
            finish_reasons=[c.finish_reason for c in choices],
            usage=self._usage(
                getattr(response, "usage", None), (getattr(response, "_hidden_params", None) or {}).get("response_cost")
            ),
            model=str(getattr(response, "model", "") or self.model),
        )

    def _chunks(self, part: Any) -> list[Chunk]:
        out = [
            Chunk(index=c.index, delta=(c.delta.content or "") if c.delta else "", finish_reason=c.finish_reason)
            for c in part.choices
        ]
        usage: Any = getattr(part, "usage", None)
        if usage is not None and usage.total_tokens:
            out.append(Chunk(usage=self._usage(usage, getattr(usage, "cost", None))))
        return out

    # -- errors --------------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        """Remove keys and any password in the api_base (https://user:password@host) from a message."""
        secrets = list(self._keys)
        if self.api_base:
            from urllib.parse import urlsplit

            password = urlsplit(self.api_base).password
            if password:
                secrets.append(password)
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def _final(self, failure: _Failure) -> LLMError:
        err = failure.error
        return ProviderError(
            f"{err.cause} (gave up after {self.retry.max_retries + 1} tries)",
            model=self.model,
            status=getattr(err, "status", None),
        )

    def _classify(self, exc: Exception, litellm: Any) -> _Failure:
        """Map a litellm/OpenAI-client exception to a typed error, and say whether to retry."""
        status = getattr(exc, "status_code", None)
        text = self._scrub(_short(exc))
        model = self.model
        if isinstance(exc, litellm.ContextWindowExceededError):
            error: LLMError = ContextLengthError(f"prompt too long for the context window: {text}", model=model)
            return _Failure(error, retry=False)
        if "missing credentials" in text.lower() or isinstance(exc, litellm.AuthenticationError):
            return _Failure(MissingKeyError(f"api key missing or rejected: {text}", model=model), retry=False)
        if isinstance(exc, litellm.RateLimitError) or status == 429:
            error = ProviderError(f"rate limited (429): {text}", model=model, status=429)
            return _Failure(error, retry=True, rate_limited=True, retry_after=_retry_after(exc))
        if isinstance(exc, litellm.NotFoundError):
            error = UnknownModelError(f"the provider does not know this model: {text}", model=model)
            return _Failure(error, retry=False)
        transient = (
            litellm.Timeout,
            litellm.APIConnectionError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            TimeoutError,
        )
        if isinstance(exc, transient) or (isinstance(status, int) and status >= 500):
            label = f"error {status}" if isinstance(status, int) else type(exc).__name__
            return _Failure(ProviderError(f"transient {label}: {text}", model=model, status=status), retry=True)
        label = f"provider error {status}" if isinstance(status, int) else "provider error"
        return _Failure(ProviderError(f"{label}: {text}", model=model, status=status), retry=False)


def _short(exc: Exception) -> str:
    """The first line of an exception's text, without litellm's module prefix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.removeprefix("litellm.")[:500]


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
