"""The public names of aiflows.llm: sorted, importable, and importing it stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import aiflows.llm

MODULES = [
    "aiflows.llm.backends",
    "aiflows.llm.backends.litellm_backend",
    "aiflows.llm.backends.transformers_backend",
    "aiflows.llm.cache",
    "aiflows.llm.chat",
    "aiflows.llm.config",
    "aiflows.llm.conversation",
    "aiflows.llm.errors",
    "aiflows.llm.factory",
    "aiflows.llm.models",
    "aiflows.llm.preflight",
    "aiflows.llm.prompts",
    "aiflows.llm.retry",
    "aiflows.llm.structured",
    "aiflows.llm.testing",
    "aiflows.llm.types",
    "aiflows.llm.usage",
]


def test_package_all_is_sorted_and_complete() -> None:
    names = aiflows.llm.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(aiflows.llm, name), name


def test_every_module_exports_what_it_defines() -> None:
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"


def test_errors_are_aiflows_errors() -> None:
    from aiflows.exceptions import AiflowsError

    for name in (
        "ContextLengthError",
        "MissingKeyError",
        "ModelUnavailableError",
        "PromptTemplateError",
        "ProviderError",
        "StructuredOutputError",
        "UnknownModelError",
    ):
        assert issubclass(getattr(aiflows.llm, name), AiflowsError)


def test_import_does_not_pull_heavy_dependencies() -> None:
    code = "import sys, aiflows.llm; print(sorted(m for m in ('litellm', 'torch', 'transformers') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_doc_examples_run() -> None:
    import doctest

    from aiflows.llm import conversation, prompts

    for module in (conversation, prompts):
        failures, tried = doctest.testmod(module, extraglobs={"ChatMessage": aiflows.llm.ChatMessage})
        assert tried > 0 and failures == 0, module.__name__
