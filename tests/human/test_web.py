"""`aiflows ui` in a real process, driven from headless Chromium (selenium) and over HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import cli

pytestmark = pytest.mark.slow

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

WAIT = 20


def start_run(env: dict[str, str], store: Path, target: str, data: dict, session: str) -> str:
    done = cli(env, "run", target, "--input", json.dumps(data), "--session", session, "--store", str(store))
    assert "suspended" in done.stderr, done.stderr
    return done.stderr.split()[1]


def post(server: Any, path: str, body: Any) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", **server.auth}
    req = urllib.request.Request(server.url + path, data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def get_json(server: Any, path: str) -> Any:
    with server.open(path) as res:
        return json.loads(res.read())


def wait_for(driver: Any, css: str, text: str | None = None) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def found(d: Any) -> Any:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            if text is None or text in element.text:
                return element
        return False

    # The page updates itself live: an element read while it is being replaced is simply looked up again.
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(found, message=f"no {css!r} with {text!r} on {driver.current_url}")


def pending_card(driver: Any, question: str) -> Any:
    return wait_for(driver, "article.card.pending", question)


def wait_status(server: Any, run_id: str, status: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with server.open(f"/runs/{run_id}") as res:
            if f'data-status="{status}"' in res.read().decode():
                return
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not become {status}")


def test_answer_plan_edit_and_approve_from_the_page(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any], browser: Callable[[], Any], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    server = ui_server()
    run_id = start_run(env, store_path, "human_sample_flows:app", {"problem": "add two numbers"}, "web")
    driver = browser()
    driver.get(server.browse_url)
    wait_for(driver, "#conn", "live")
    link = wait_for(driver, "table.list a", "web")
    row = link.find_element(By.XPATH, "./ancestor::tr")
    assert "1" in row.find_elements(By.TAG_NAME, "td")[2].text  # one question waiting
    driver.save_screenshot(str(artifacts / "human_web_sessions.png"))
    link.click()
    card = pending_card(driver, "Write a plan for: add two numbers")
    driver.find_element(By.ID, "who").send_keys("ada")
    driver.find_element(By.ID, "who").send_keys("\t")
    card.find_element(By.NAME, "text").send_keys("read a and b\nprint the sum")
    path = artifacts / "human_web_pending.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, "article.card.answered", "answered by ada")

    edit = pending_card(driver, "Edit the code for add two numbers")  # the resumed run asks the next question
    box = edit.find_element(By.NAME, "value")
    assert "# read a and b" in box.get_attribute("value")
    box.clear()
    box.send_keys("a, b = map(int, input().split())\nprint(a + b)")
    edit.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    gate = pending_card(driver, "Run this code?")
    gate.find_element(By.NAME, "comment").send_keys("ship it")
    gate.find_element(By.CSS_SELECTOR, "button.ok").click()

    driver.get(f"{server.url}/runs/{run_id}")
    wait_for(driver, "#run-status", "done")
    wait_for(driver, ".output", "ship it")
    trace = wait_for(driver, "#live-trace table")
    assert "human.request" in trace.text and "plan_code/coder" in trace.text
    answered = driver.find_elements(By.CSS_SELECTOR, "article.card.answered .by")
    assert [a.text for a in answered] == ["ada", "ada", "ada"]
    path = artifacts / "human_web_done.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def test_html_in_messages_is_shown_as_text(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any], browser: Callable[[], Any], artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    evil = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold</b>'
    server = ui_server()
    run_id = start_run(
        env, store_path, "human_sample_flows:ask", {"question": f"Why {evil}?", "note": evil}, "s<i>x</i>"
    )
    driver = browser()
    driver.get(server.browse_url)
    wait_for(driver, "table.list a", "s<i>x</i>").click()
    card = pending_card(driver, "Why <script>")
    assert evil in card.find_element(By.CSS_SELECTOR, ".question").text
    assert evil in card.find_element(By.CSS_SELECTOR, ".context").text
    card.find_element(By.NAME, "text").send_keys(f"answer {evil}")
    card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    driver.get(f"{server.url}/runs/{run_id}")
    wait_for(driver, "#run-status", "done")
    wait_for(driver, "#live-trace", "window.__pwned")  # the trace shows the text, live, as text
    wait_for(driver, "article.card.answered", f"answer {evil}")
    assert driver.execute_script("return window.__pwned === undefined")
    assert driver.find_elements(By.CSS_SELECTOR, "main b, main img, main script") == []
    driver.save_screenshot(str(artifacts / "human_web_escaped.png"))


def test_two_watchers_one_answers_the_other_is_told(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any], browser: Callable[[], Any]
) -> None:
    from selenium.webdriver.common.by import By

    server = ui_server("--no-resume")
    start_run(env, store_path, "human_sample_flows:ask", {"question": "Which heap?"}, "pair")
    first, second = browser(), browser()
    for driver, name in ((first, "ada"), (second, "bo")):
        driver.get(server.page_url("/sessions/pair"))
        wait_for(driver, "#conn", "live")
        driver.find_element(By.ID, "who").send_keys(name)
        pending_card(driver, "Which heap?").find_element(By.NAME, "text").send_keys(f"{name}'s heap")
    ada_card = pending_card(first, "Which heap?")
    ada_card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(first, "article.card.answered", "answered by ada")
    # bo's page is told, live, who answered; a late send is refused naming the winner
    told = wait_for(second, "article.card.answered", "answered by ada")
    assert "ada's heap" in told.text
    [waiting] = [r for r in get_json(server, "/api/pending?session=pair")] or [None]
    assert waiting is None
    request_id = told.get_attribute("data-request")
    status, body = post(server, f"/api/requests/{request_id}", {"value": "bo's heap", "by": "bo"})
    assert status == 409 and body["error"] == "AlreadyAnswered" and body["answered_by"] == "ada"
    assert "already answered by ada" in body["message"]


def test_closed_browser_loses_nothing(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any], browser: Callable[[], Any]
) -> None:
    server = ui_server()
    run_id = start_run(env, store_path, "human_sample_flows:ask", {"question": "Still there?"}, "gone")
    driver = browser()
    driver.get(server.page_url("/sessions/gone"))
    wait_for(driver, "#conn", "live")
    pending_card(driver, "Still there?")
    driver.quit()  # the tab and its websocket go away mid-session
    time.sleep(1.0)
    assert server.process.poll() is None
    [waiting] = get_json(server, "/api/pending?session=gone")
    status, body = post(server, f"/api/requests/{waiting['id']}", {"value": "yes", "by": "api"})
    assert status == 200 and body["request"]["answer"] == {"text": "yes"}
    wait_status(server, run_id, "done")
    assert "Traceback" not in server.log.read_text()


def test_unknown_session_run_and_request_are_clear(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any], browser: Callable[[], Any]
) -> None:
    server = ui_server()
    start_run(env, store_path, "human_sample_flows:ask", {"question": "?"}, "known")
    driver = browser()
    driver.get(server.page_url("/sessions/nope"))
    assert "no session 'nope' is known here (sessions: known)" in wait_for(driver, ".error-text").text
    for path in ("/sessions/nope", "/runs/nope"):
        with pytest.raises(urllib.error.HTTPError) as missing:
            server.open(path)
        assert missing.value.code == 404
    status, body = post(server, "/api/requests/nope", {"value": "x"})
    assert status == 404 and body["error"] == "UnknownRequest" and "no request 'nope'" in body["message"]


def test_answer_api_refuses_bad_bodies_and_keeps_the_request(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any]
) -> None:
    server = ui_server("--no-resume")
    start_run(env, store_path, "human_sample_flows:pick", {}, "api")
    [waiting] = get_json(server, "/api/pending?session=api")
    url = f"/api/requests/{waiting['id']}"
    cases = [
        (b"{not json", "the body is not JSON"),
        ({"answer": "python"}, 'send a JSON object {"value"'),
        ({"value": {"text": "python"}}, "a 'choice' question takes {choice}, not text"),
        ({"value": "rust"}, "'rust' is not one of the choices (python, c++)"),
    ]
    for body, problem in cases:
        status, reply = post(server, url, body)
        assert status == 400 and reply["error"] == "InvalidAnswer" and problem in reply["message"], reply
    assert [r["id"] for r in get_json(server, "/api/pending?session=api")] == [waiting["id"]]
    status, reply = post(server, url, {"value": "c++", "by": "ada"})
    assert status == 200 and reply["request"]["answered_by"] == "ada"


def test_run_page_follows_the_run_live(
    env: dict[str, str], store_path: Path, ui_server: Callable[..., Any], browser: Callable[[], Any]
) -> None:
    from selenium.webdriver.common.by import By

    server = ui_server()
    run_id = start_run(env, store_path, "human_sample_flows:app", {"problem": "live"}, "watch")
    driver = browser()
    driver.get(server.page_url(f"/runs/{run_id}"))
    wait_for(driver, "#conn", "live")
    wait_for(driver, "#run-status", "suspended")
    marker = driver.find_element(By.ID, "live-trace")
    driver.execute_script("arguments[0].dataset.loaded = 'first'", marker)
    [waiting] = get_json(server, "/api/pending?session=watch")
    status, _ = post(server, f"/api/requests/{waiting['id']}", {"value": "stay live", "by": "eve"})
    assert status == 200
    # no reload: the websocket brings the answer, the coder's messages and the next question
    wait_for(driver, "article.card.answered", "answered by eve")
    wait_for(driver, "#live-trace", "plan_code/coder")
    wait_for(driver, "article.card.pending", "Edit the code for live")
    assert driver.find_element(By.ID, "live-trace").get_attribute("data-loaded") == "first"


def test_page_answers_runs_served_by_workers_over_redis(
    env: dict[str, str], redis_url: str, ui_server: Callable[..., Any]
) -> None:
    import asyncio
    import subprocess
    import sys
    import uuid

    from conftest import HERE

    from aiflows import Runtime
    from aiflows.bus._redis_conn import RedisBusError
    from aiflows.bus.redis import RedisBus
    from aiflows.runtime.store.redis import RedisStore

    namespace = f"w{uuid.uuid4().hex[:10]}"
    where = ("--redis", redis_url, "--namespace", namespace)

    async def send() -> str:
        async with Runtime(
            bus=RedisBus(redis_url, namespace=namespace), store=RedisStore(redis_url, namespace=namespace)
        ) as rt:
            deadline = time.monotonic() + 30
            while True:
                try:
                    return await rt.send("pick", {}, session="remote")
                except RedisBusError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)

    worker = subprocess.Popen(
        [sys.executable, "-m", "aiflows.cli", "serve", "human_sample_flows:pick", *where],
        env=env,
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        server = ui_server(*where)
        run_id = asyncio.run(send())
        deadline = time.monotonic() + WAIT
        while not (pending := get_json(server, "/api/pending?session=remote")) and time.monotonic() < deadline:
            time.sleep(0.1)
        [waiting] = pending
        assert waiting["run_id"] == run_id and waiting["choices"] == ["python", "c++"]
        status, _ = post(server, f"/api/requests/{waiting['id']}", {"value": "python", "by": "ada"})
        assert status == 200
        wait_status(server, run_id, "done")  # the page's resumer sent the run back to the worker
    finally:
        worker.terminate()
        worker.wait(timeout=20)
