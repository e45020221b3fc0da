"""`web_search`: a search engine behind a small protocol; one real provider's API shape (Brave Search).

`SearchBackend` is anything with `search(query, k)`. `BraveSearch` speaks Brave's web search API
(`GET {base}/res/v1/web/search?q=...&count=k` with an `X-Subscription-Token` header, results under
`web.results[]` with title, url, description); point `base_url` at any server of that shape.
Without a key the tool says so in its result instead of calling anything.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from pydantic import BaseModel, Field

from aiflows.context import Context
from aiflows.exceptions import ConfigError

from .base import ToolFlow, ToolResult

__all__ = ["BraveSearch", "SearchBackend", "SearchError", "SearchHit", "WebSearchConfig", "WebSearchTool"]


class SearchHit(BaseModel):
    title: str
    url: str
    snippet: str = ""


class SearchError(RuntimeError):
    """The search backend answered with an error or an answer of the wrong shape."""


class SearchBackend(Protocol):
    def search(self, query: str, k: int) -> list[SearchHit]: ...


class BraveSearch:
    """Brave Search's web endpoint (or a server of its shape at `base_url`)."""

    def __init__(self, api_key: str, base_url: str = "https://api.search.brave.com", timeout_s: float = 15) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def search(self, query: str, k: int) -> list[SearchHit]:
        url = f"{self.base_url}/res/v1/web/search?" + urllib.parse.urlencode({"q": query, "count": k})
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "X-Subscription-Token": self.api_key}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise SearchError(f"search backend answered HTTP {exc.code}: {exc.read()[:200]!r}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise SearchError(f"search backend at {self.base_url} failed: {exc}") from None
        results = body.get("web", {}).get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise SearchError("search backend answer has no web.results list")
        return [
            SearchHit(title=str(r.get("title", "")), url=str(r.get("url", "")), snippet=str(r.get("description", "")))
            for r in results[:k]
            if isinstance(r, dict)
        ]


class WebSearchConfig(BaseModel):
    base_url: str = "https://api.search.brave.com"
    api_key_env: str = "BRAVE_API_KEY"  # the environment variable holding the key
    k: int = Field(default=5, ge=1, le=20)
    timeout_s: float = Field(default=15, gt=0)


class WebSearchTool(ToolFlow):
    """Searches the web and returns titles, links and snippets."""

    class Input(BaseModel):
        query: str = Field(description="search terms")

    Config = WebSearchConfig
    config: WebSearchConfig
    description = "Searches the web for a query and returns the top results (title, url, snippet)."
    output = "numbered results: title, url and snippet"
    limitations = "needs a configured search backend (an API key); snippets only, pages are not opened"
    examples = [{"command": {"query": "boiling point of ethanol"}, "result": "1. Ethanol - ... 78.37 °C"}]

    def __init__(self, *, name: str = "web_search", backend: SearchBackend | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._backend = backend

    def backend(self) -> SearchBackend:
        if self._backend is not None:
            return self._backend
        key = os.environ.get(self.config.api_key_env, "")
        if not key:
            raise ConfigError(
                f"no web search backend is configured: set {self.config.api_key_env} (a Brave Search API key) "
                "or give the tool a backend",
                key="api_key_env",
            )
        return BraveSearch(key, self.config.base_url, self.config.timeout_s)

    async def run_tool(self, ctx: Context, data: Input) -> ToolResult:
        hits = await asyncio.to_thread(self.backend().search, data.query, self.config.k)
        lines = [f"{i}. {h.title} ({h.url}): {h.snippet}" for i, h in enumerate(hits, 1)]
        return ToolResult.model_validate(
            {"result": "\n".join(lines) or "(no results)", "hits": [h.model_dump() for h in hits]}
        )
