"""Attacks on `aiflows ui` over plain HTTP and raw websocket handshakes, against the real server process.

Each attack is what a page in the user's browser (or a DNS-rebound name) could send; each must be
refused with a clear 4xx and leave the question unanswered and unread.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

REPO = Path(__file__).resolve().parents[2]
SAMPLE_FLOWS = REPO / "tests" / "human"
QUESTION = "Which secret plan?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(SAMPLE_FLOWS), env.get("PYTHONPATH", "")])
    env.pop("AIFLOWS_UI_TOKEN", None)
    env.update(extra)
    return env


class Ui:
    """`aiflows ui` in a child process, with one question waiting in session `s`."""

    def __init__(self, workdir: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.env = env or child_env()
        self.store = workdir / "runs.db"
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.origin = f"http://{self.host}"
        self.log_path = workdir / f"ui-{self.port}.log"
        self.run_id = ask(self.env, self.store, QUESTION)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiflows.cli",
                "ui",
                "--store",
                str(self.store),
                "--port",
                str(self.port),
                "--no-resume",
                *extra,
            ],
            env=self.env,
            cwd=SAMPLE_FLOWS,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.browse_url = self._wait_started()
        self.token = (parse_qs(urlsplit(self.browse_url).query).get("token") or [""])[0]
        self.request_id = self.pending()[0]["id"]

    def _wait_started(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"aiflows ui exited: {self.log()}")
            printed = re.search(r"aiflows ui on (http://\S+)", self.log())
            if printed:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                        return printed.group(1)
            time.sleep(0.1)
        raise RuntimeError(f"aiflows ui did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text()

    @property
    def cookie(self) -> str:
        return f"aiflows_ui_{self.port}={self.token}"

    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request with exactly these headers (Host included, if given)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers={"Host": self.host, **headers})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def pending(self) -> list[dict[str, Any]]:
        status, _, body = self.request("GET", "/api/pending?session=s", {"Authorization": f"Bearer {self.token}"})
        assert status == 200, body
        return json.loads(body)

    def assert_untouched(self) -> None:
        """The marker of every attack: the question is still waiting, with no answer."""
        [waiting] = self.pending()
        assert waiting["id"] == self.request_id and waiting["status"] == "pending" and waiting["answer"] is None

    def answer_path(self) -> str:
        return f"/api/requests/{self.request_id}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def ask(env: dict[str, str], store: Path, question: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiflows.cli",
            "run",
            "human_sample_flows:ask",
            "--input",
            json.dumps({"question": question}),
            "--session",
            "s",
            "--store",
            str(store),
        ],
        env=env,
        cwd=SAMPLE_FLOWS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "suspended" in done.stderr, done.stderr
    return done.stderr.split()[1]


def ws_handshake(ui: Ui, headers: dict[str, str], page: str = "session:s") -> tuple[int, bytes]:
    """A real websocket upgrade; returns the HTTP status and whatever the server sent after it."""
    lines = [
        f"GET /ws?page={page} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    lines += [f"{k}: {v}" for k, v in {"Host": ui.host, **headers}.items()]
    received = b""
    with socket.create_connection(("127.0.0.1", ui.port), timeout=3) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        # Read until the server closes, the question arrives, or nothing more comes.
        while QUESTION.encode() not in received:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0
    return status, received


def error_of(body: bytes) -> dict[str, Any]:
    reply = json.loads(body)
    assert reply["ok"] is False and reply["message"], reply
    return reply


@pytest.fixture
def ui(tmp_path: Path) -> Iterator[Ui]:
    server = Ui(tmp_path)
    yield server
    server.stop()


ANSWER = json.dumps({"value": "pwned", "by": "attacker"}).encode()


def test_dns_rebinding_host_is_refused(ui: Ui) -> None:
    evil = f"evil.example:{ui.port}"
    # After rebinding, the attacker's page is same-origin with itself: it can send JSON, but has no token.
    headers = {"Host": evil, "Origin": f"http://{evil}", "Content-Type": "application/json"}
    status, _, body = ui.request("POST", ui.answer_path(), headers, ANSWER)
    assert status == 421 and error_of(body)["error"] == "BadHost" and "'evil.example" in error_of(body)["message"]
    status, _, body = ui.request("GET", "/api/pending?session=s", {"Host": evil})
    assert status == 421 and QUESTION.encode() not in body
    # Even a stolen token does not make a foreign name acceptable.
    status, _, _ = ui.request("GET", "/", {"Host": evil, "Authorization": f"Bearer {ui.token}"})
    assert status == 421
    ui.assert_untouched()


def test_requests_without_the_right_token_are_refused(ui: Ui) -> None:
    same_origin_json = {"Origin": ui.origin, "Content-Type": "application/json"}
    status, _, body = ui.request("POST", ui.answer_path(), same_origin_json, ANSWER)
    assert status == 403 and error_of(body)["error"] == "MissingToken" and "?token=" in error_of(body)["message"]
    for path in ("/", "/sessions/s", f"/runs/{ui.run_id}", "/api/pending", "/static/ui.js"):
        status, _, body = ui.request("GET", path, {})
        assert status == 403 and error_of(body)["error"] == "MissingToken", path
        assert QUESTION.encode() not in body
    wrong = "x" * len(ui.token)
    for headers in ({"Authorization": f"Bearer {wrong}"}, {"Cookie": f"aiflows_ui_{ui.port}={wrong}"}):
        status, _, body = ui.request("POST", ui.answer_path(), {**same_origin_json, **headers}, ANSWER)
        assert status == 403 and error_of(body)["error"] == "BadToken"
    status, _, body = ui.request("GET", f"/api/pending?token={wrong}", {})
    assert status == 403 and QUESTION.encode() not in body
    ui.assert_untouched()


def test_foreign_origin_cannot_post_even_with_the_cookie(ui: Ui) -> None:
    # A page on another port of the same host is same-site: the browser sends the cookie along.
    for origin in (f"http://127.0.0.1:{free_port()}", f"http://localhost:{ui.port}", "null", "http://evil.example"):
        headers = {"Cookie": ui.cookie, "Origin": origin, "Content-Type": "application/json"}
        status, _, body = ui.request("POST", ui.answer_path(), headers, ANSWER)
        assert status == 403 and error_of(body)["error"] == "BadOrigin", origin
        assert origin in error_of(body)["message"] and ui.origin in error_of(body)["message"]
        status, _, body = ui.request("GET", "/api/pending?session=s", {"Cookie": ui.cookie, "Origin": origin})
        assert status == 403 and QUESTION.encode() not in body
    ui.assert_untouched()


def test_plain_text_and_form_posts_are_refused(ui: Ui) -> None:
    # What a foreign page can send without a CORS preflight: text/plain and form encodings.
    form_trick = b'{"value": "pwned", "by": "attacker", "x": "="}'
    for content_type, body in (
        ("text/plain", ANSWER),
        ("text/plain", form_trick),
        ("application/x-www-form-urlencoded", b"value=pwned"),
        ("multipart/form-data; boundary=b", b"--b--"),
        ("", ANSWER),
    ):
        headers = {"Cookie": ui.cookie, "Origin": ui.origin}
        if content_type:
            headers["Content-Type"] = content_type
        status, _, reply = ui.request("POST", ui.answer_path(), headers, body)
        assert status == 415 and error_of(reply)["error"] == "UnsupportedMediaType", content_type
        assert "application/json" in error_of(reply)["message"]
    ui.assert_untouched()


def test_cookie_alone_without_origin_cannot_write_but_a_bearer_header_can(ui: Ui) -> None:
    headers = {"Cookie": ui.cookie, "Content-Type": "application/json"}
    status, _, body = ui.request("POST", ui.answer_path(), headers, ANSWER)
    assert (
        status == 403
        and error_of(body)["error"] == "MissingOrigin"
        and "Authorization: Bearer" in error_of(body)["message"]
    )
    ui.assert_untouched()
    # A script with the token itself (no browser, so no Origin) may answer.
    headers = {"Authorization": f"Bearer {ui.token}", "Content-Type": "application/json; charset=utf-8"}
    status, _, body = ui.request(
        "POST", ui.answer_path(), headers, json.dumps({"value": "the plan", "by": "script"}).encode()
    )
    assert status == 200 and json.loads(body)["request"]["answered_by"] == "script"


def test_websocket_handshake_checks_host_origin_and_token(ui: Ui) -> None:
    attacks = {
        "foreign origin with the cookie": ({"Origin": f"http://127.0.0.1:{free_port()}", "Cookie": ui.cookie}, 403),
        "no token": ({"Origin": ui.origin}, 403),
        "cookie without origin": ({"Cookie": ui.cookie}, 403),
        "rebound host": ({"Host": f"evil.example:{ui.port}", "Origin": f"http://evil.example:{ui.port}"}, 421),
    }
    for name, (headers, expected) in attacks.items():
        status, received = ws_handshake(ui, headers)
        assert status == expected, (name, received[:300])
        assert QUESTION.encode() not in received, name
        assert b'"ok": false' in received or b'"ok":false' in received, (name, received[:300])
    status, received = ws_handshake(ui, {"Origin": ui.origin, "Cookie": ui.cookie})
    assert status == 101 and QUESTION.encode() in received  # the page's own socket still works
    ui.assert_untouched()


def test_first_visit_trades_the_token_for_a_strict_httponly_cookie(ui: Ui) -> None:
    status, headers, _ = ui.request("GET", f"/sessions/s?token={ui.token}&x=1", {})
    assert status == 303 and headers["location"] == "/sessions/s?x=1"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"{ui.cookie};") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, headers, body = ui.request("GET", "/sessions/s?x=1", {"Cookie": cookie.split(";")[0]})
    assert status == 200 and QUESTION.encode() in body
    assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "no-referrer"
    status, headers, _ = ui.request("GET", f"//evil.example/?token={ui.token}", {})
    assert status == 303 and headers["location"] == "/evil.example/"  # never a redirect to another site


def test_loopback_by_default_and_a_given_token(tmp_path: Path) -> None:
    given = "given-token-0123456789abcdef"
    server = Ui(tmp_path, env=child_env(AIFLOWS_UI_TOKEN=given))
    try:
        assert server.browse_url == f"http://127.0.0.1:{server.port}/?token={given}"
        assert "warning" not in server.log()
        status, _, _ = server.request("GET", "/", {"Authorization": f"Bearer {given}"})
        assert status == 200
    finally:
        server.stop()
    short = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "ui", "--token", "short", "--port", str(free_port())],
        env=child_env(),
        cwd=SAMPLE_FLOWS,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert short.returncode != 0 and "--token is 5 characters long; give at least 16" in short.stderr


def test_binding_elsewhere_warns_and_still_needs_the_token(tmp_path: Path) -> None:
    server = Ui(tmp_path, "--host", "0.0.0.0", "--allow-host", "ui.example.org")
    try:
        log = server.log()
        assert "warning: aiflows ui listens on 0.0.0.0" in log and "has the token" in log
        assert f"ui.example.org:{server.port}" in log
        assert server.request("GET", "/", {})[0] == 403
        bearer = {"Authorization": f"Bearer {server.token}"}
        assert server.request("GET", "/", {**bearer, "Host": f"ui.example.org:{server.port}"})[0] == 200
        assert server.request("GET", "/", {**bearer, "Host": f"other.example.org:{server.port}"})[0] == 421
        server.assert_untouched()
    finally:
        server.stop()
