"""web_search against a loopback server of Brave Search's API shape; no backend says so."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from agents.tools import WebSearchTool
from aiflows import FlowError


@pytest.fixture
def search_server() -> Iterator[tuple[str, list[dict[str, object]]]]:
    seen: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            url = urlparse(self.path)
            query = parse_qs(url.query)
            seen.append({"path": url.path, "q": query.get("q"), "token": self.headers.get("X-Subscription-Token")})
            if self.headers.get("X-Subscription-Token") != "brv-key":
                self.send_response(401)
                self.end_headers()
                self.wfile.write(b'{"error": "bad token"}')
                return
            count = int(query["count"][0])
            results = [
                {
                    "title": f"Result {i} for {query['q'][0]}",
                    "url": f"https://example.org/{i}",
                    "description": f"snippet {i}",
                }
                for i in range(1, 10)
            ]
            body = json.dumps({"type": "search", "web": {"results": results[:count]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_searches_over_http_with_the_provider_s_shape(search_server, monkeypatch: pytest.MonkeyPatch) -> None:
    url, seen = search_server
    monkeypatch.setenv("BRAVE_API_KEY", "brv-key")
    tool = WebSearchTool(config={"base_url": url, "k": 2})
    out = await tool.run({"query": "boiling point"})
    assert seen == [{"path": "/res/v1/web/search", "q": ["boiling point"], "token": "brv-key"}]
    assert out["result"].splitlines() == [
        "1. Result 1 for boiling point (https://example.org/1): snippet 1",
        "2. Result 2 for boiling point (https://example.org/2): snippet 2",
    ]


async def test_a_rejected_key_is_an_http_error(search_server, monkeypatch: pytest.MonkeyPatch) -> None:
    url, _ = search_server
    monkeypatch.setenv("BRAVE_API_KEY", "wrong")
    with pytest.raises(FlowError, match="SearchError.*HTTP 401"):
        await WebSearchTool(config={"base_url": url}).run({"query": "x"})


async def test_no_backend_configured_says_so() -> None:
    with pytest.raises(FlowError, match="no web search backend is configured: set BRAVE_API_KEY"):
        await WebSearchTool().run({"query": "x"})
