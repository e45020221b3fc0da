"""Prompt templates: sandboxed jinja2 that names missing variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows import ConfigError
from aiflows.llm import PromptTemplate, PromptTemplateError
from aiflows.llm.prompts import load_prompt


def test_renders_variables_loops_and_filters() -> None:
    t = PromptTemplate("{{ name | upper }}:{% for x in items %} {{ x }}{% endfor %}")
    assert t.render({"name": "ada", "items": [1, 2]}) == "ADA: 1 2"
    assert t.variables == {"name", "items"}


def test_missing_variable_is_named() -> None:
    t = PromptTemplate("Solve {{ problem }} in {{ language }}", name="coder.first_prompt")
    with pytest.raises(PromptTemplateError) as info:
        t.render({"problem": "x"})
    message = str(info.value)
    assert "'language'" in message and "coder.first_prompt" in message and "problem" in message


def test_missing_attribute_is_an_error_too() -> None:
    with pytest.raises(PromptTemplateError):
        PromptTemplate("{{ user.name }}").render({"user": {}})


def test_sandbox_refuses_python_internals() -> None:
    t = PromptTemplate("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(PromptTemplateError, match="unsafe"):
        t.render({})


def test_syntax_error_names_template_and_line() -> None:
    with pytest.raises(PromptTemplateError) as info:
        PromptTemplate("line one\n{% for x in %}", name="bad.jinja")
    assert "bad.jinja" in str(info.value) and "line 2" in str(info.value)


def test_load_prompt_from_file_relative_to_base(tmp_path: Path) -> None:
    (tmp_path / "p.jinja").write_text("Hi {{ who }}")
    t = load_prompt(None, "p.jinja", base_dir=tmp_path, key="first_prompt")
    assert t is not None and t.render({"who": "you"}) == "Hi you"
    assert load_prompt(None, None, base_dir=tmp_path, key="first_prompt") is None
    with pytest.raises(ConfigError, match="either"):
        load_prompt("x", "p.jinja", base_dir=tmp_path, key="first_prompt")
