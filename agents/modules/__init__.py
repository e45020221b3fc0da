"""The agent's modules backed by models: `LLMModule` for any phase, `PlannerFlow` with the recorder seam,
`LocalPolicy` (a transformers model that gives token ids and log-probabilities) and the default prompts."""

from .llm import LLMModule, PlannerFlow, parse_phase
from .prompts import PROMPTS, SYSTEM
from .tokens import LocalPolicy, TokenBackend, TokenCompletion

__all__ = [
    "LLMModule",
    "LocalPolicy",
    "PROMPTS",
    "PlannerFlow",
    "SYSTEM",
    "TokenBackend",
    "TokenCompletion",
    "parse_phase",
]
