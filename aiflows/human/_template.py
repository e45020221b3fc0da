"""Question templates: jinja2 in a sandbox, strict about missing variables.

A question is data a flow author ships (often from YAML or the hub), so it renders in jinja2's
`SandboxedEnvironment`, and with `StrictUndefined` so a misspelled variable is an error that
names it instead of a question with a hole in it.
"""

from __future__ import annotations

from typing import Any

from aiflows.exceptions import ConfigError, SchemaError

__all__ = ["QuestionTemplate"]


class QuestionTemplate:
    """A compiled question; `render(values)` gives its text.

    Raises:
        ConfigError: the template is not valid jinja2 (at construction).
        SchemaError: a variable it uses is missing from the input, or misused (at render).
    """

    def __init__(self, source: str, *, flow_name: str) -> None:
        from jinja2 import StrictUndefined, TemplateSyntaxError
        from jinja2.sandbox import SandboxedEnvironment

        self.source = source
        self.flow_name = flow_name
        env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        try:
            self._template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise ConfigError(
                f"flow '{flow_name}': the question template is not valid jinja2 (line {exc.lineno}): {exc.message}",
                key="question",
            ) from None

    def render(self, values: dict[str, Any], *, address: str) -> str:
        from jinja2 import TemplateError
        from jinja2.exceptions import SecurityError

        try:
            return self._template.render(values)
        except SecurityError as exc:
            raise SchemaError(f"the question template did something unsafe: {exc}", address=address) from None
        except TemplateError as exc:
            keys = ", ".join(sorted(values)) or "none"
            raise SchemaError(f"cannot render the question: {exc} (input keys: {keys})", address=address) from None
