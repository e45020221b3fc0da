"""An OpenAI-protocol chat server on loopback, scriptable per test.

It stands where a paid API would: litellm (or any OpenAI client) talks to it over real HTTP via
`api_base`, so retries, key rotation, streaming and error mapping run exactly as in production.
Script answers with a queue (`script(...)`) or a function of the request (`responder`); with
neither, it echoes the last user message. Every request is recorded in `requests`.

    with LoopbackLLMServer() as server:
        server.script(Reply.rate_limit(), Reply(content="4"))
        # litellm.acompletion(model="openai/m", api_base=server.url, api_key="k", messages=[...])
        assert server.requests[-1].api_key == "k"

`models` is what `GET /models` lists (with `context_window` as vLLM's `max_model_len`);
`api_keys` makes it refuse (401) requests without one of them.

Run `python -m aiflows.llm.testing --port 8000` to serve the echo model from a separate process.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LoopbackLLMServer", "Reply", "SeenRequest"]


class Reply(BaseModel):
    """One scripted answer.

    `content` is the answer (a list gives one text per completion when n > 1; None echoes the last
    user message). A non-200 `status` sends `error` as an OpenAI error body; `raw` sends that body
    verbatim (a malformed answer).
    """

    model_config = ConfigDict(frozen=True)

    content: str | list[str] | None = None
    status: int = 200
    error: dict[str, Any] | None = None
    raw: str | None = None
    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def rate_limit(cls, retry_after: float | None = None) -> Reply:
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        return cls(
            status=429,
            headers=headers,
            error={"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"},
        )

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls(status=status, error={"message": "The server had an error", "type": "server_error", "code": None})

    @classmethod
    def malformed(cls) -> Reply:
        return cls(raw='{"id": "x", "choices": [ {"message": ')

    @classmethod
    def context_length(cls, limit: int = 4096, got: int = 5000) -> Reply:
        return cls(
            status=400,
            error={
                "message": (
                    f"This model's maximum context length is {limit} tokens. However, your messages resulted "
                    f"in {got} tokens. Please reduce the length of the messages."
                ),
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            },
        )

    @classmethod
    def unauthorized(cls) -> Reply:
        return cls(
            status=401,
            error={"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"},
        )


class SeenRequest(BaseModel):
    """A request the server received."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]

    @property
    def api_key(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


Responder = Callable[[SeenRequest], "Reply | str"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # the client gave up (a timeout test): nothing to report
        super().handle_error(request, client_address)


def _words(text: str) -> int:
    return len(text.split())


def _pieces(text: str) -> list[str]:
    """Split a text into word-sized stream deltas that join back to the text."""
    return re.findall(r"\s*\S+|\s+", text) or [""]


class LoopbackLLMServer:
    """A threaded HTTP server on 127.0.0.1 speaking POST /v1/chat/completions (JSON and SSE)."""

    def __init__(
        self,
        port: int = 0,
        responder: Responder | None = None,
        *,
        models: list[str] | None = None,
        context_window: int | None = None,
        api_keys: set[str] | None = None,
        list_models: bool = True,
    ) -> None:
        self._port = port
        self.responder = responder
        # What GET /models lists (as vLLM does: ids and `max_model_len`); chat requests answer any name.
        self.models = list(models) if models is not None else ["loopback"]
        self.context_window = context_window
        self.api_keys = set(api_keys) if api_keys is not None else None  # None: any key, or none, is accepted
        self.list_models = list_models  # False: no /models route (404), as some proxies
        self.requests: list[SeenRequest] = []
        self._queue: deque[Reply | str] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> LoopbackLLMServer:
        if self._httpd is not None:
            raise RuntimeError("LoopbackLLMServer is already started")
        self._httpd = _Server(("127.0.0.1", self._port), _make_handler(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> LoopbackLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("LoopbackLLMServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The `api_base` to give an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting -----------------------------------------------------------------------------
    def script(self, *replies: Reply | str) -> None:
        """Queue answers for the next requests, in order (a str is a plain text answer)."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.responder = None

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _next_reply(self, seen: SeenRequest) -> Reply:
        with self._lock:
            self.requests.append(seen)
            queued = self._queue.popleft() if self._queue else None
            responder = self.responder
        if queued is None and responder is not None:
            queued = responder(seen)
        if queued is None:
            queued = Reply()
        return Reply(content=queued) if isinstance(queued, str) else queued


def _completion_texts(reply: Reply, seen: SeenRequest) -> list[str]:
    n = int(seen.body.get("n") or 1)
    if isinstance(reply.content, list):
        texts = list(reply.content)
        return (texts * n)[:n] if len(texts) < n else texts[:n]
    if reply.content is None:
        users = [m for m in seen.messages if m.get("role") == "user"]
        last = users[-1].get("content", "") if users else ""
        if isinstance(last, list):  # content parts
            last = " ".join(str(p.get("text", "")) for p in last if isinstance(p, dict))
        return [f"echo: {last}"] * n
    return [reply.content] * n


def _usage(reply: Reply, seen: SeenRequest, texts: list[str]) -> dict[str, int]:
    prompt = reply.prompt_tokens
    if prompt is None:
        prompt = sum(_words(str(m.get("content", ""))) for m in seen.messages)
    completion = reply.completion_tokens
    if completion is None:
        completion = sum(_words(t) for t in texts)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _make_handler(server: LoopbackLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes; don't wait 40 ms on ACKs

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return  # quiet: tests read `server.requests` instead

        def _send_json(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _refused(self) -> bool:
            """Answer 401 (and say so) when the server wants a key and this request lacks it."""
            if server.api_keys is None:
                return False
            auth = self.headers.get("Authorization", "")
            if auth[7:] in server.api_keys and auth.lower().startswith("bearer "):
                return False
            self._send_json(401, json.dumps({"error": Reply.unauthorized().error}))
            return True

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            if self.path.rstrip("/").endswith("/models") and server.list_models:
                if self._refused():
                    return
                entries = []
                for name in server.models:
                    entry: dict[str, Any] = {"id": name, "object": "model", "owned_by": "loopback"}
                    if server.context_window is not None:
                        entry["max_model_len"] = server.context_window
                    entries.append(entry)
                self._send_json(200, json.dumps({"object": "list", "data": entries}))
            else:
                self._send_json(404, json.dumps({"error": {"message": f"no route {self.path}"}}))

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send_json(400, json.dumps({"error": {"message": "request body is not JSON"}}))
                return
            if self._refused():
                return
            seen = SeenRequest(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
            reply = server._next_reply(seen)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.status != 200:
                error = reply.error or {"message": f"error {reply.status}", "type": "server_error"}
                self._send_json(reply.status, json.dumps({"error": error}), reply.headers)
                return
            if seen.stream:
                self._stream(reply, seen)
                return
            if reply.raw is not None:
                self._send_json(200, reply.raw, reply.headers)
                return
            texts = _completion_texts(reply, seen)
            payload = {
                "id": "chatcmpl-loopback",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": str(body.get("model", "loopback")),
                "choices": [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": reply.finish_reason,
                    }
                    for i, text in enumerate(texts)
                ],
                "usage": _usage(reply, seen, texts),
            }
            self._send_json(200, json.dumps(payload), reply.headers)

        def _stream(self, reply: Reply, seen: SeenRequest) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.close_connection = True
            model = str(seen.body.get("model", "loopback"))

            def send(obj: dict[str, Any] | str) -> None:
                line = obj if isinstance(obj, str) else json.dumps(obj)
                self.wfile.write(f"data: {line}\n\n".encode())
                self.wfile.flush()

            def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
                return {
                    "id": "chatcmpl-loopback",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": choices,
                    **extra,
                }

            if reply.raw is not None:
                send(reply.raw)
                return
            texts = _completion_texts(reply, seen)
            for i, text in enumerate(texts):
                for j, piece in enumerate(_pieces(text)):
                    delta: dict[str, Any] = {"content": piece}
                    if j == 0:
                        delta["role"] = "assistant"
                    send(chunk([{"index": i, "delta": delta, "finish_reason": None}]))
                send(chunk([{"index": i, "delta": {}, "finish_reason": reply.finish_reason}]))
            if (seen.body.get("stream_options") or {}).get("include_usage"):
                send(chunk([], usage=_usage(reply, seen, texts)))
            send("[DONE]")

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Serve the echo model until interrupted; prints the api_base on the first line."""
    parser = argparse.ArgumentParser(description="OpenAI-protocol echo server on loopback")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--model", action="append", default=None, help="a model name to list (repeatable)")
    parser.add_argument("--context-window", type=int, default=None, help="the window to state in the model list")
    args = parser.parse_args(argv)
    server = LoopbackLLMServer(port=args.port, models=args.model, context_window=args.context_window).start()
    print(server.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
