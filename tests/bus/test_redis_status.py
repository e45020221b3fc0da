"""`aiflows status` against a real redis-server: ACL users, long addresses, the settings in force."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import redis
from redis_support import REPO, WorkerProcess, worker_env

pytestmark = pytest.mark.slow


def status(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {**worker_env(), "COLUMNS": str(columns)}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "status", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_acl_user_without_permission_gets_one_clear_line(redis_url: str, ns: str) -> None:
    admin = redis.Redis.from_url(redis_url)
    user = f"u{uuid.uuid4().hex[:8]}"
    # May connect and use other keys, not this deployment's.
    admin.execute_command("ACL", "SETUSER", user, "on", ">pw", "~elsewhere:*", "+@all")
    reader = f"r{uuid.uuid4().hex[:8]}"
    admin.execute_command("ACL", "SETUSER", reader, "on", ">pw", f"~{ns}:*", "+@read", "+@connection")
    admin.xadd(f"{ns}:in:echo", {"m": "{}"})
    host = redis_url.split("//")[1]
    try:
        denied = status("--redis", f"redis://{user}:pw@{host}", "--namespace", ns)
        assert denied.returncode == 1
        assert len(denied.stderr.strip().splitlines()) == 1, denied.stderr  # no traceback
        assert denied.stderr.startswith("RedisBusError: ") and "may not read" in denied.stderr
        assert f"~{ns}:*" in denied.stderr and "pw@" not in denied.stderr
        allowed = status("--redis", f"redis://{reader}:pw@{host}", "--namespace", ns)  # status only reads
        assert allowed.returncode == 0, allowed.stderr
        assert "echo" in allowed.stdout
    finally:
        admin.execute_command("ACL", "DELUSER", user, reader)
        admin.close()


def test_long_addresses_fold_instead_of_being_cut(redis_url: str, ns: str) -> None:
    address = "pipeline/" + "/".join(f"stage{i:02d}_with_a_rather_long_name" for i in range(5))
    admin = redis.Redis.from_url(redis_url)
    admin.xadd(f"{ns}:in:{address}", {"m": "{}"})
    admin.close()
    shown = status("--redis", redis_url, "--namespace", ns, columns=80)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    cells = [line.split("│")[1].strip() for line in lines if line.count("│") >= 3]  # the address column
    assert address in "".join(cells), shown.stdout
    assert "deadline 3600 s" in shown.stdout  # the default when no worker says otherwise


def test_status_shows_the_deadline_and_timeouts_workers_run_with(redis_url: str, ns: str) -> None:
    options = ("--deadline", "42", "--attempts", "5", "--liveness", "2.5")
    with WorkerProcess("redis_support:Echo", redis_url, ns, *options):
        shown = status("--redis", redis_url, "--namespace", ns, columns=160)
    assert shown.returncode == 0, shown.stderr
    assert "deadline 42 s" in shown.stdout and "liveness 2.5 s" in shown.stdout and "attempts 5" in shown.stdout
    assert "visibility timeout 1 s" in shown.stdout  # the test workers' own (see WorkerProcess)
    assert "Echo" in shown.stdout
