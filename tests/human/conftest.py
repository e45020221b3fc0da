"""Fixtures of the human tests: real processes on a shared SQLite store, a real web server, real Chromium."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"

# The sample flows are imported by `module:attr` in child processes (from PYTHONPATH) and here.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of child processes: this repo and the sample flows importable, a private home."""
    values = dict(os.environ)
    values["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE), values.get("PYTHONPATH", "")])
    values["AIFLOWS_HOME"] = os.environ["AIFLOWS_HOME"]
    values["COLUMNS"] = "200"
    values.pop("EDITOR", None)
    return values


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "runs.db"


def cli(
    env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `aiflows ARGS` in a child process and return what it did."""
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", *args],
        env=env,
        cwd=cwd or HERE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class UiServer:
    """`aiflows ui` in a child process, on a free port; `browse_url` and `token` as it printed them."""

    def __init__(self, env: dict[str, str], store: Path, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.browse_url = ""
        self.token = ""
        self.log = store.parent / f"ui-{self.port}.log"
        where = [] if "--redis" in extra else ["--store", str(store)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiflows.cli", "ui", *where, "--port", str(self.port), *extra],
            env=env,
            cwd=HERE,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"aiflows ui exited: {self.log.read_text()}")
            printed = re.search(r"aiflows ui on (http://\S+)", self.log.read_text())
            if printed is None:
                time.sleep(0.1)
                continue
            self.browse_url = printed.group(1)
            self.token = parse_qs(urlsplit(self.browse_url).query)["token"][0]
            try:
                self.open("/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"aiflows ui did not start: {self.log.read_text()}")

    @property
    def auth(self) -> dict[str, str]:
        """The header a script sends instead of the browser's cookie."""
        return {"Authorization": f"Bearer {self.token}"}

    def page_url(self, path: str) -> str:
        """`path` with the token, as a first visit from a browser opens it."""
        return f"{self.url}{path}{'&' if '?' in path else '?'}token={self.token}"

    def open(self, path: str, timeout: float = 10) -> Any:
        """GET `path` with the token in a header."""
        return urllib.request.urlopen(urllib.request.Request(self.url + path, headers=self.auth), timeout=timeout)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def ui_server(env: dict[str, str], store_path: Path) -> Iterator[Callable[..., UiServer]]:
    servers: list[UiServer] = []

    def start(*extra: str) -> UiServer:
        server = UiServer(env, store_path, *extra)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1400",
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """A factory of headless Chromium sessions (selenium), each with a fresh profile."""
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        pytest.skip("chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    drivers: list[Any] = []

    def open_browser() -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tmp_path / f'profile-{len(drivers)}'}")
        driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        drivers.append(driver)
        return driver

    yield open_browser
    for driver in drivers:
        with contextlib.suppress(Exception):  # a test may have closed it on purpose
            driver.quit()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
