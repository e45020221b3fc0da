"""Errors the hub raises.

AiflowsError
└── HubError              a hub operation failed (bad manifest, unreachable source, failing tests)
    ├── ResolutionError   no set of versions satisfies every constraint
    ├── IntegrityError    content does not match its hash, its lock, or escapes the cache
    └── TrustError        third-party code would be imported without trust
"""

from __future__ import annotations

from aiflows.exceptions import AiflowsError

__all__ = ["HubError", "IntegrityError", "ResolutionError", "TrustError"]


class HubError(AiflowsError):
    """A hub operation failed; the message names the flow, file or source involved."""


class ResolutionError(HubError):
    """Dependency constraints cannot be met; the message lists who requires what."""


class IntegrityError(HubError):
    """Content differs from its recorded hash, or would be written outside the cache."""


class TrustError(HubError):
    """Importing this flow's code needs its source or content hash to be trusted."""
