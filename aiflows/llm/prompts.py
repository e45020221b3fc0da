"""Prompt templates: jinja2 in a sandbox, strict about missing variables.

Prompts are data that flows (and hub authors) ship, so they render in jinja2's
`SandboxedEnvironment` (no attribute escapes into Python internals), and with `StrictUndefined`
so a misspelled variable is an error naming it instead of a silently empty prompt.

    >>> PromptTemplate("Solve: {{ problem }}").render({"problem": "2+2"})
    'Solve: 2+2'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aiflows.exceptions import ConfigError

from .errors import PromptTemplateError

__all__ = ["PromptTemplate", "load_prompt"]


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


class PromptTemplate:
    """A compiled template; `render(variables)` gives the prompt text.

    Args:
        source: the jinja2 text.
        name: where it came from (a file path or a config key), used in error messages.

    Raises:
        PromptTemplateError: the text is not valid jinja2 (at construction) or a variable is
            missing or misused (at render).
    """

    def __init__(self, source: str, *, name: str = "<string>") -> None:
        from jinja2 import TemplateSyntaxError, meta

        self.source = source
        self.name = name
        env = _environment()
        try:
            self._template = env.from_string(source)
            self.variables: frozenset[str] = frozenset(meta.find_undeclared_variables(env.parse(source)))
        except TemplateSyntaxError as exc:
            raise PromptTemplateError(f"prompt template {name}, line {exc.lineno}: {exc.message}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> PromptTemplate:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise PromptTemplateError(f"prompt template {p}: cannot read it ({exc.strerror})") from None
        return cls(text, name=str(p))

    def render(self, variables: Mapping[str, Any]) -> str:
        from jinja2 import TemplateError, UndefinedError
        from jinja2.exceptions import SecurityError

        try:
            rendered: str = self._template.render(dict(variables))
            return rendered
        except UndefinedError as exc:
            missing = sorted(self.variables - set(variables))
            given = ", ".join(sorted(variables)) or "none"
            what = f"missing variable {', '.join(repr(m) for m in missing)}" if missing else str(exc.message)
            raise PromptTemplateError(f"prompt template {self.name}: {what} (variables given: {given})") from None
        except SecurityError as exc:
            raise PromptTemplateError(f"prompt template {self.name}: unsafe operation refused ({exc})") from None
        except TemplateError as exc:
            raise PromptTemplateError(f"prompt template {self.name}: {exc}") from None

    def __repr__(self) -> str:
        return f"PromptTemplate(name={self.name!r})"


def load_prompt(
    text: str | None, file: str | None, *, base_dir: Path | Sequence[Path], key: str
) -> PromptTemplate | None:
    """The template a config gives as inline `text` or as a `file` relative to `base_dir`.

    `base_dir` may be several folders, searched in order. `key` names the config field, so an
    error says which one is wrong.
    """
    if text is not None and file is not None:
        raise ConfigError(f"give either {key} or {key}_file, not both", key=key)
    if file is not None:
        folders = [base_dir] if isinstance(base_dir, Path) else list(base_dir)
        candidates = [Path(file)] if Path(file).is_absolute() else [folder / file for folder in folders]
        for path in candidates:
            if path.is_file():
                return PromptTemplate.from_file(path)
        looked = ", ".join(str(p) for p in candidates)
        raise ConfigError(f"prompt file {file} does not exist (looked at {looked})", key=f"{key}_file")
    if text is not None:
        return PromptTemplate(text, name=key)
    return None
