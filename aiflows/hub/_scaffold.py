"""`aiflows hub new owner/name [DIR]`: a working hub flow to start from.

The scaffold passes `aiflows hub check` as written: manifest, a small AtomicFlow, a README and a test.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.version import Version

from ._errors import HubError
from ._loader import aiflows_version
from ._manifest import MANIFEST_FILE, validate_flow_name

__all__ = ["new_flow"]

_FLOW = '''"""{name}: {description}"""

from pydantic import BaseModel

from aiflows import AtomicFlow, Context


class {cls}(AtomicFlow):
    """Echoes its input with a configurable prefix; replace the handler with the real work."""

    class Input(BaseModel):
        text: str

    class Output(BaseModel):
        text: str

    class Config(BaseModel):
        prefix: str = ">> "

    async def handle(self, ctx: Context, data: "{cls}.Input") -> dict:
        return {{"text": self.config.prefix + data.text}}
'''

_TEST = """from pathlib import Path

from aiflows.hub import load_folder

FOLDER = Path(__file__).resolve().parents[1]


def test_prefixes_the_text() -> None:
    flow = load_folder(FOLDER, config={{"prefix": "* "}})
    assert flow.run_sync({{"text": "hello"}}) == {{"text": "* hello"}}


def test_default_config_comes_from_the_manifest() -> None:
    assert load_folder(FOLDER).run_sync({{"text": "hi"}}) == {{"text": "> hi"}}
"""

_README = """# {name}

{description}

- input: `text` (string)
- output: `text`, the input with `config.prefix` in front
- config: `prefix` (default in `flow.yaml`: `"> "`)

    aiflows hub pull {name}
    python -c "from aiflows import hub; print(hub.load('{name}').run_sync({{'text': 'hi'}}))"

Run its tests with `aiflows hub check .`.
"""


def _requires_range(version: str) -> str:
    """Accept releases that semver says are compatible with `version`."""
    v = Version(version)
    if v.major == 0:
        return f">={v.major}.{v.minor},<{v.major}.{v.minor + 1}"
    return f">={v.major}.{v.minor},<{v.major + 1}"


def _class_name(short: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", short) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Flow"
    return name if name[0].isalpha() else f"Flow{name}"


def new_flow(name: str, dest: Path | None = None, *, description: str = "") -> Path:
    """Write a new hub flow folder for `name` at `dest` (default `./<name>`) and return it."""
    try:
        validate_flow_name(name)
    except ValueError as exc:
        raise HubError(f"hub new: {exc}") from None
    folder = (dest or Path(name.split("/", 1)[1])).resolve()
    if folder.exists() and any(folder.iterdir()):
        raise HubError(f"{folder}: already exists and is not empty; choose another DIR")
    description = description or f"A hub flow, {name}."
    cls = _class_name(name.split("/", 1)[1])
    manifest = (
        f"name: {name}\nversion: 0.1.0\ndescription: {description}\nentrypoint: flow:{cls}\n"
        f'requires-aiflows: "{_requires_range(aiflows_version())}"\ndependencies: {{}}\nrequirements: []\n'
        f'config:\n  prefix: "> "\n'
    )
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_FILE).write_text(manifest)
    (folder / "flow.py").write_text(_FLOW.format(name=name, description=description, cls=cls))
    (folder / "README.md").write_text(_README.format(name=name, description=description))
    (folder / "tests" / "test_flow.py").write_text(_TEST.format())
    return folder
