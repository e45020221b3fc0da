"""`aiflows hub check`: is this folder a publishable hub flow?

Checks the manifest, that the entrypoint module, README and tests exist, that the flow accepts the
running aiflows, that no file or symlink leaves the folder, and then runs the flow's own tests with
pytest in a subprocess (so a crashing test cannot take the caller down with it). The result is read
from pytest's exit code and its JUnit XML report, never from its free-text output, whose last line
may be a warning.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from importlib.util import find_spec
from pathlib import Path

from pydantic import BaseModel

from ._errors import HubError
from ._files import content_hash, read_folder
from ._loader import aiflows_version
from ._manifest import MANIFEST_FILE, Manifest, load_manifest

__all__ = ["CheckReport", "check_flow"]

_TAIL = 3000
_NO_TESTS = 5  # pytest's exit code when it collected nothing
_COUNTS = (("tests", "passed"), ("failures", "failed"), ("errors", "errors"), ("skipped", "skipped"))


class CheckReport(BaseModel):
    folder: Path
    manifest: Manifest
    hash: str
    tests: str  # "N passed[, M skipped]" from pytest's report, or "skipped"


def _package_root() -> Path:
    """The folder holding the `aiflows` package, so a flow's tests import this aiflows."""
    return Path(__file__).resolve().parents[2]


def check_flow(path: Path, *, run_tests: bool = True) -> CheckReport:
    """Validate the flow folder at `path` and run its tests; raise `HubError` saying what is wrong."""
    folder = path.resolve()
    manifest = load_manifest(folder)
    where = folder / MANIFEST_FILE
    module = manifest.entrypoint.partition(":")[0].replace(".", "/")
    if not (folder / f"{module}.py").is_file() and not (folder / module / "__init__.py").is_file():
        raise HubError(f"{where}: key 'entrypoint': no module {module}.py (or {module}/__init__.py) in {folder}")
    if not manifest.supports_aiflows(aiflows_version()):
        raise HubError(
            f"{where}: key 'requires-aiflows': {manifest.requires_aiflows!r} excludes this aiflows {aiflows_version()}"
        )
    if not (folder / "README.md").is_file():
        raise HubError(f"{folder}: no README.md; say what the flow does, its input, output and config")
    tests = sorted((folder / "tests").glob("test_*.py"))
    if not tests:
        raise HubError(f"{folder}: no tests/test_*.py; a hub flow ships its tests")
    digest = content_hash(read_folder(folder))
    summary = _run_tests(folder) if run_tests else "skipped"
    return CheckReport(folder=folder, manifest=manifest, hash=digest, tests=summary)


def _run_tests(folder: Path) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_package_root()), env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The flow's tests run with pytest and pytest-asyncio only: whatever other plugins this machine
    # has installed must not change (or break) the result.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = ["-p", "pytest_asyncio.plugin", "-o", "asyncio_mode=auto"] if find_spec("pytest_asyncio") else []
    with tempfile.TemporaryDirectory(prefix="aiflows-check-") as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *plugins,
            "--rootdir",
            str(folder),
            "--confcutdir",
            str(folder),
            f"--junitxml={report}",
            "tests",
        ]
        proc = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, check=False)
        output = (proc.stdout + proc.stderr).strip()
        if proc.returncode == _NO_TESTS:
            raise HubError(f"{folder}: pytest collected no tests in tests/; a hub flow ships tests that run")
        if proc.returncode != 0:
            raise HubError(f"{folder}: tests failed (pytest exit {proc.returncode}):\n{output[-_TAIL:]}")
        return _summary(report, folder)


def _summary(report: Path, folder: Path) -> str:
    """`N passed[, M skipped]` from pytest's JUnit XML report (summed over its test suites)."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError) as exc:
        raise HubError(f"{folder}: pytest passed but wrote no readable report ({exc})") from None
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    counts = {key: sum(int(suite.get(key, 0)) for suite in suites) for key, _ in _COUNTS}
    counts["tests"] -= counts["failures"] + counts["errors"] + counts["skipped"]
    return ", ".join(f"{counts[key]} {label}" for key, label in _COUNTS if counts[key] or key == "tests")
