"""Turning requests, runs and traces into HTML: autoescaped jinja2, pygments for code.

Every piece of text a flow or a person wrote reaches the page through one of these templates,
with autoescape on, so a message holding `<script>` is shown as text, never run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from markupsafe import Markup

__all__ = ["Renderer"]

_TEMPLATES = Path(__file__).parent / "templates"


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)


class Renderer:
    """The page templates and the helpers they use (highlighting, times, JSON)."""

    def __init__(self) -> None:
        from jinja2 import (
            Environment,
            FileSystemLoader,
            StrictUndefined,
            select_autoescape,
        )
        from pygments.formatters import HtmlFormatter

        self.env = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
        )
        self.env.filters["code"] = self.highlight
        self.env.filters["pretty"] = _pretty
        self.env.filters["clock"] = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""
        self.env.filters["short"] = lambda text, n=400: text if len(text) <= n else text[:n] + " …"
        self.env.filters["tojson_text"] = lambda v: json.dumps(v, ensure_ascii=False, default=str)
        self._formatter = HtmlFormatter(cssclass="hl", nowrap=False)
        self.code_css = HtmlFormatter(cssclass="hl").get_style_defs(".hl")

    def highlight(self, value: Any, language: str | None = None) -> Markup:
        """`value` as highlighted HTML (pygments escapes every token); JSON for non-text values."""
        from pygments import highlight
        from pygments.lexers import JsonLexer, TextLexer, get_lexer_by_name
        from pygments.util import ClassNotFound

        if not isinstance(value, str):
            return Markup(highlight(_pretty(value), JsonLexer(), self._formatter))
        try:
            lexer = get_lexer_by_name(language) if language else TextLexer()
        except ClassNotFound:
            lexer = TextLexer()
        return Markup(highlight(value, lexer, self._formatter))

    def page(self, name: str, **values: Any) -> str:
        return self.env.get_template(name).render(code_css=Markup(self.code_css), **values)

    def fragment(self, name: str, **values: Any) -> str:
        return self.env.get_template(name).render(**values)
