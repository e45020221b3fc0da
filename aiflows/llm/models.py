"""Which backend answers a model string.

The rule, in one place:

- `hf:<repo id>` is a transformers model from the Hugging Face cache (downloaded on first use);
  `hf:` alone is the default local model, `Qwen/Qwen2.5-Coder-0.5B-Instruct`;
- `local:<path>` is a transformers model in a local folder;
- anything else is a litellm model string (`openai/gpt-4o-mini`, `anthropic/...`, `ollama/...`,
  or `openai/<name>` with an `api_base` for any OpenAI-compatible server such as vLLM or llama.cpp).

Which model a flow uses: `AIFLOWS_MODEL` when set (the CLI's `--model` sets it), so one variable
retargets a whole composition; else the flow's `model:` config; else the default local model.
When the model comes from `AIFLOWS_MODEL`, its endpoint comes from `AIFLOWS_API_BASE`.
Several keys for one provider: `AIFLOWS_<PROVIDER>_API_KEYS=k1,k2` (e.g. AIFLOWS_OPENAI_API_KEYS),
or name the variables holding them in the flow's `api_key_env`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .backends.transformers_backend import DEFAULT_LOCAL_MODEL
from .errors import MissingKeyError, UnknownModelError

__all__ = ["DEFAULT_MODEL", "ModelChoice", "ModelSpec", "choose_model", "parse_model", "provider_keys"]

DEFAULT_MODEL = f"hf:{DEFAULT_LOCAL_MODEL}"


class ModelSpec(BaseModel):
    """A parsed model string: which backend, and the name that backend takes."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["litellm", "transformers"]
    name: str  # litellm model string, repo id or local path
    local: bool = False  # transformers: `name` is a folder

    @property
    def canonical(self) -> str:
        """The model string spelled out (`hf:` becomes `hf:<default repo id>`)."""
        if self.kind == "litellm":
            return self.name
        return f"local:{self.name}" if self.local else f"hf:{self.name}"


class ModelChoice(BaseModel):
    """The model a flow will use and where that choice came from."""

    model_config = ConfigDict(frozen=True)

    model: str
    source: Literal["env", "config", "default"]
    api_base: str | None = None


def parse_model(model: str) -> ModelSpec:
    """Split a model string by the rule in this module's docstring.

    Raises:
        UnknownModelError: the string is empty or a `local:` without a path.
    """
    value = model.strip()
    if not value:
        raise UnknownModelError("empty model string", model=model)
    if value == "hf" or value.startswith("hf:"):
        name = value[3:].strip() or DEFAULT_LOCAL_MODEL
        return ModelSpec(kind="transformers", name=name)
    if value.startswith("local:"):
        path = value[len("local:") :].strip()
        if not path:
            raise UnknownModelError("'local:' needs a path, e.g. local:/models/qwen", model=model)
        return ModelSpec(kind="transformers", name=path, local=True)
    return ModelSpec(kind="litellm", name=value)


def choose_model(configured: str | None, api_base: str | None, env: Mapping[str, str]) -> ModelChoice:
    """Apply the precedence: AIFLOWS_MODEL, then the flow's config, then the default."""
    from_env = (env.get("AIFLOWS_MODEL") or "").strip()
    if from_env:
        model = parse_model(from_env).canonical
        return ModelChoice(model=model, source="env", api_base=env.get("AIFLOWS_API_BASE") or None)
    if configured:
        return ModelChoice(model=parse_model(configured).canonical, source="config", api_base=api_base)
    return ModelChoice(model=DEFAULT_MODEL, source="default")


def provider_keys(model: str, names: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The api keys to rotate for `model`: from the variables `names`, else AIFLOWS_<PROVIDER>_API_KEYS.

    Each variable may hold several keys separated by commas. An empty list means "let the
    provider's client read its usual variable".

    Raises:
        MissingKeyError: a variable named in `names` is not set.
    """
    keys: list[str] = []
    for name in names:
        value = env.get(name)
        if value is None or not value.strip():
            raise MissingKeyError(f"api_key_env names {name}, which is not set", model=model)
        keys.extend(k.strip() for k in value.split(",") if k.strip())
    if names:
        return keys
    provider = model.split("/", 1)[0] if "/" in model else ""
    if provider:
        pooled = env.get(f"AIFLOWS_{provider.upper().replace('-', '_')}_API_KEYS", "")
        keys = [k.strip() for k in pooled.split(",") if k.strip()]
    return keys
