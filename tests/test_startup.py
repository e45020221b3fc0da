"""Start-up stays light: `import aiflows` and `aiflows --help` load no heavy dependency.

(The time itself is measured by benchmarks/startup.py, never by a test.)
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("litellm", "torch", "transformers", "redis", "starlette")

_LOADED = "import sys; print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))))"


def _loaded_after(code: str, *names: str) -> list[str]:
    script = f"{code}\n{_LOADED}\nprint('checked')"
    done = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.endswith("checked\n"), done.stderr
    return done.stdout.split()[:-1]


def test_importing_the_package_loads_no_heavy_dependency_nor_pydantic() -> None:
    assert _loaded_after("import aiflows", *HEAVY, "pydantic", "asyncio") == []


def test_a_public_name_still_imports_on_first_use() -> None:
    code = "import aiflows; from aiflows import Sequential, flow; assert aiflows.Runtime and aiflows.bus.LocalBus"
    assert _loaded_after(code, *HEAVY) == []


_HELP = (
    "import contextlib, io\nfrom aiflows.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
    "    main(['--help'])\n"
    "assert 'COMMAND' in out.getvalue()"
)

# The commands packages above the library add through entry points (`aiflows agent`, `aiflows train`).
_NO_PLUGINS = (
    "import importlib.metadata as metadata\n"
    "found = metadata.entry_points\n"
    "metadata.entry_points = lambda **kw: [] if kw.get('group') in ('aiflows.agent', 'aiflows.train') else found(**kw)\n"
)


def test_the_command_line_help_loads_no_heavy_dependency() -> None:
    assert _loaded_after(_HELP, *HEAVY) == []


def test_the_library_s_own_commands_build_their_help_without_pydantic_or_asyncio() -> None:
    assert _loaded_after(_NO_PLUGINS + _HELP, *HEAVY, "pydantic", "rich", "asyncio") == []
