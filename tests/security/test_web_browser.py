"""A foreign page in the same real Chromium that holds the ui's cookie tries to answer and to listen.

The user opens the URL `aiflows ui` printed (the cookie is set), then visits a page served from
another loopback server. That page posts answers (a no-cors `text/plain` fetch, a JSON fetch and an
HTML form) and opens the websocket. All of it must fail and the question must stay unanswered; the
user's own page, in the same browser, must still work with the cookie alone.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_web_http import QUESTION, Ui, free_port

pytestmark = pytest.mark.slow

WAIT = 20
ATTACK_PAGE = """<!doctype html>
<html><body>
<iframe name="sink"></iframe>
<form id="form" method="POST" enctype="text/plain" target="sink" action="{target}/api/requests/{request_id}">
<input name='{{"value": "pwned-form", "by": "attacker", "x": "' value='"}}'>
</form>
<script>
const results = window.results = {{ws: "connecting", stolen: "", done: false}};
const answer = "{target}/api/requests/{request_id}";
(async () => {{
  try {{
    await fetch(answer, {{method: "POST", mode: "no-cors", credentials: "include",
      headers: {{"content-type": "text/plain"}}, body: JSON.stringify({{value: "pwned-fetch", by: "attacker"}})}});
    results.plain = "sent";
  }} catch (err) {{ results.plain = "failed: " + err; }}
  try {{
    const res = await fetch(answer, {{method: "POST", credentials: "include",
      headers: {{"content-type": "application/json"}}, body: JSON.stringify({{value: "pwned-json", by: "attacker"}})}});
    results.json = "status " + res.status;
  }} catch (err) {{ results.json = "failed: " + err; }}
  document.getElementById("form").submit();
  const ws = new WebSocket("{ws_target}/ws?page=session%3As");
  ws.onopen = () => {{ results.ws = "open"; setTimeout(() => {{ results.done = true; }}, 2000); }};
  ws.onmessage = (ev) => {{ results.stolen += ev.data; }};
  ws.onclose = (ev) => {{ if (results.ws !== "open") results.ws = "refused " + ev.code; results.done = true; }};
}})();
</script>
</body></html>
"""


class AttackerSite:
    """A second web server on loopback, serving the attacker's page."""

    def __init__(self, host: str, page: str) -> None:
        body = page.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.url = f"http://{host}:{self.port}/"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="attacker-site", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        pytest.skip("chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    drivers: list[Any] = []

    def open_browser() -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path / f'profile-{len(drivers)}'}")
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        drivers.append(driver)
        return driver

    yield open_browser
    for driver in drivers:
        with contextlib.suppress(Exception):
            driver.quit()


def wait_for(driver: Any, css: str, text: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d: Any) -> Any:
        return next((e for e in d.find_elements(By.CSS_SELECTOR, css) if text in e.text), False)

    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(found, message=f"no {css!r} with {text!r} on {driver.current_url}")


# 127.0.0.1 on another port is the same site: the Strict cookie goes along, only the Origin check stops it.
# localhost is another site: the cookie stays home, and the missing token stops it.
@pytest.mark.parametrize("attacker_host", ["127.0.0.1", "localhost"])
def test_foreign_page_in_the_same_browser_cannot_answer_or_listen(
    tmp_path: Path, chromium: Callable[[], Any], attacker_host: str
) -> None:
    from selenium.webdriver.common.by import By

    ui = Ui(tmp_path)
    attacker = AttackerSite(
        attacker_host, ATTACK_PAGE.format(target=ui.origin, ws_target=f"ws://{ui.host}", request_id=ui.request_id)
    )
    try:
        driver = chromium()
        # The user opens the printed URL: the token becomes a cookie and leaves the address bar.
        driver.get(ui.browse_url)
        wait_for(driver, "#conn", "live")
        assert driver.current_url == f"{ui.origin}/"
        assert driver.execute_script("return document.cookie") == ""  # HttpOnly: no script can read it

        driver.get(attacker.url)
        deadline = time.monotonic() + WAIT
        while not (results := driver.execute_script("return window.results")).get("done"):
            assert time.monotonic() < deadline, f"the attack page did not finish: {results}"
            time.sleep(0.2)
        time.sleep(1.0)  # let the form post land
        assert results["ws"].startswith("refused"), results
        assert results["stolen"] == "" and QUESTION not in json.dumps(results)
        assert results["json"].startswith("failed"), results  # no CORS: the browser refuses the preflight
        ui.assert_untouched()

        # The user's own page, same browser, cookie only: live updates and answering work.
        driver.get(f"{ui.origin}/sessions/s")
        wait_for(driver, "#conn", "live")
        card = wait_for(driver, "article.card.pending", QUESTION)
        card.find_element(By.NAME, "text").send_keys("the real plan")
        card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        # The websocket replaces the card with its answered form (and the "answer recorded" notice with it).
        wait_for(driver, "article.card.answered", "the real plan")
        assert ui.pending() == []
        assert "Traceback" not in ui.log()
    finally:
        attacker.stop()
        ui.stop()
