"""`rediss://` for real: a TLS-only redis-server with a self-signed certificate made by openssl."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_support import Echo, free_port

from aiflows import Runtime
from aiflows.bus.redis import RedisBus, RedisTLS
from aiflows.runtime.store.redis import RedisStore


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if shutil.which("redis-server") is None or shutil.which("openssl") is None:
        pytest.skip("redis-server and openssl are needed for the TLS test")
    work = tmp_path_factory.mktemp("tls")
    cert, key = work / "server.crt", work / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(cert),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--dir",
            str(work),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    if server.poll() is not None:
        pytest.fail("this redis-server has no TLS support")
    yield f"rediss://127.0.0.1:{port}/0", cert
    server.terminate()
    server.wait()


async def test_a_flow_runs_over_tls(tls_server: tuple[str, Path]) -> None:
    url, ca = tls_server
    tls = RedisTLS(ca_certs=str(ca))
    async with Runtime(
        bus=RedisBus(url, tls=tls, namespace="tls"), store=RedisStore(url, tls=tls, namespace="tls")
    ) as rt:
        await rt.host(Echo(name="echo"))
        assert (await rt.call("echo", {"secret": "over tls"}))["secret"] == "over tls"


def test_tls_options_need_a_rediss_url() -> None:
    from aiflows import ConfigError

    with pytest.raises(ConfigError, match="not rediss://"):
        RedisBus("redis://127.0.0.1:6379/0", tls={"ca_certs": "/nope.pem"})
