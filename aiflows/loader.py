"""Flows and whole compositions declared in YAML.

    name: pipeline
    type: sequential            # sequential | loop | branch | parallel | map
    steps:
      - use: double             # a flow defined under `flows:`
      - function: mymod:add_one # or inline: class:, function:, hub:, address:, file:
        inputs: {x: doubled}    # key maps around a step
    flows:
      double: {class: mymod:Double, config: {factor: 2}}
    overrides:                  # dotted paths into this document
      flows.double.config.factor: 3

Every mistake is a `ConfigError` naming the file, the key and what was expected.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .compose import Branch, Loop, Map, Parallel, Sequential, Step
from .exceptions import ConfigError
from .flow import Flow, FunctionFlow

__all__ = [
    "add_import_root",
    "apply_overrides",
    "build_from_spec",
    "flow_from_object",
    "import_object",
    "load_flow",
    "parse_overrides",
    "target_spec",
]

_COMMON = {"name", "timeout"}
_KINDS: dict[str, set[str]] = {
    "class": {"class", "config", "subflows"},
    "function": {"function", "blocking"},
    "hub": {"hub", "config"},
    "use": {"use"},
    "address": {"address"},
    "file": {"file"},
    "sequential": {"type", "steps"},
    "loop": {"type", "body", "max_rounds", "until"},
    "branch": {"type", "by", "router", "branches", "default"},
    "parallel": {"type", "branches", "max_concurrency"},
    "map": {"type", "flow", "over", "into", "item_key", "max_concurrency"},
}
_STEP_KEYS = {"inputs", "outputs"}


def load_flow(source: str | Path | dict[str, Any], *, overrides: list[str] | dict[str, Any] | None = None) -> Flow:
    """Build the flow a YAML file (or an already-parsed dict) declares."""
    if isinstance(source, dict):
        return _Builder(dict(source), "<dict>", Path.cwd(), overrides).build()
    path = Path(source)
    if not path.is_file():
        raise ConfigError("no such file", file=str(path))
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from None
    if not isinstance(document, dict):
        raise ConfigError(f"expected a mapping at the top, found {type(document).__name__}", file=str(path))
    return _Builder(document, str(path), path.resolve().parent, overrides).build()


def target_spec(target: str, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The spec a command line's target names (`path/to/flow.yaml` or `module:attribute`), kept in a run's record."""
    if target.endswith((".yaml", ".yml")) or Path(target).is_file():
        return {"yaml": str(Path(target).resolve()), "overrides": list(overrides)}
    return {"import": target, "cwd": os.getcwd()}


def build_from_spec(spec: dict[str, Any]) -> Flow:
    """Build the flow a spec names: the one way from a command line's target (or a run's record) to a Flow."""
    if "yaml" in spec:
        return load_flow(spec["yaml"], overrides=spec.get("overrides") or [])
    if "import" in spec:
        add_import_root(spec.get("cwd") or os.getcwd())
        obj = import_object(spec["import"], file="<command line>", key="target")
        return flow_from_object(obj, spec["import"])
    raise ConfigError("this run was started from code, not from a file: resume it with Runtime.resume in that code")


def flow_from_object(obj: object, reference: str) -> Flow:
    """A Flow as is, a Flow class instantiated, a function wrapped: what a `module:attribute` target may name."""
    if isinstance(obj, Flow):
        return obj
    if isinstance(obj, type) and issubclass(obj, Flow):
        return obj()
    if callable(obj):
        return FunctionFlow(obj)
    raise ConfigError(f"'{reference}' is not a Flow, a Flow class or a function", key="target")


def add_import_root(folder: str | Path) -> None:
    """Make modules in `folder` importable, adding it to `sys.path` once however often it is asked.

    It stays there: the flows built from those modules outlive the build, and a handler may import
    its neighbours only when it runs (a function-local import), long after this returns.
    """
    entry = str(folder)
    if entry not in sys.path:
        sys.path.insert(0, entry)


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`["a.b=3", "c=[1,2]"]` -> `{"a.b": 3, "c": [1, 2]}` (values read as YAML)."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"an override is KEY=VALUE, not '{pair}'")
        parsed[key.strip()] = yaml.safe_load(raw)
    return parsed


def apply_overrides(document: dict[str, Any], overrides: dict[str, Any], file: str) -> None:
    for dotted, value in overrides.items():
        target: Any = document
        parts = dotted.split(".")
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(target, list):
                if not part.isdigit() or int(part) >= len(target):
                    raise ConfigError(
                        f"override: '{part}' is not an index of a {len(target)}-item list", file=file, key=dotted
                    )
                if last:
                    target[int(part)] = value
                else:
                    target = target[int(part)]
            elif isinstance(target, dict):
                if last:
                    target[part] = value
                else:
                    target = target.setdefault(part, {})
            else:
                raise ConfigError(
                    f"override: cannot go into a {type(target).__name__} at '{part}'", file=file, key=dotted
                )


def import_object(reference: str, *, file: str, key: str) -> Any:
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"expected 'module:attribute', found '{reference}'", file=file, key=key)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module '{module_name}': {exc}", file=file, key=key) from None
    try:
        value: Any = module
        for part in attr.split("."):
            value = getattr(value, part)
    except AttributeError:
        raise ConfigError(f"module '{module_name}' has no '{attr}'", file=file, key=key) from None
    return value


class _Builder:
    def __init__(self, document: dict[str, Any], file: str, base: Path, overrides: list[str] | dict[str, Any] | None):
        self.file = file
        self.base = base
        add_import_root(base)  # modules next to the YAML file import like the file's neighbours
        ops = document.pop("overrides", None) or {}
        if not isinstance(ops, dict):
            raise ConfigError("expected a mapping of dotted keys to values", file=file, key="overrides")
        extra = parse_overrides(overrides) if isinstance(overrides, list) else dict(overrides or {})
        apply_overrides(document, {**ops, **extra}, file)
        definitions = document.pop("flows", None) or {}
        if not isinstance(definitions, dict):
            raise ConfigError("expected a mapping of names to flow specs", file=file, key="flows")
        self.definitions: dict[str, Any] = definitions
        self.built: dict[str, Flow | str] = {}
        self.resolving: list[str] = []
        self.root = document

    def build(self) -> Flow:
        flow = self.flow(self.root, "<root>" if "flow" not in self.root else "flow")
        if isinstance(flow, str):
            raise ConfigError("the top flow must be built here, not an address served elsewhere", file=self.file)
        return flow

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, file=self.file, key=key)

    def flow(self, spec: Any, key: str) -> Flow | str:
        if isinstance(spec, dict) and set(spec) == {"flow"}:
            spec, key = spec["flow"], f"{key}.flow"
        if isinstance(spec, str):
            return self.use(spec, key)
        if not isinstance(spec, dict):
            raise self.error(key, f"expected a flow spec (a mapping), found {type(spec).__name__}")
        kind = self.kind(spec, key)
        unknown = set(spec) - _KINDS[kind] - _COMMON
        if unknown:
            allowed = ", ".join(sorted(_KINDS[kind] | _COMMON))
            raise self.error(key, f"unknown key(s) {sorted(unknown)} for a {kind} flow (expected: {allowed})")
        common = {k: spec[k] for k in _COMMON if k in spec}
        try:
            builder: Callable[[dict[str, Any], str, dict[str, Any]], Flow | str] = getattr(self, f"build_{kind}")
            return builder(spec, key, common)
        except ConfigError as exc:
            if exc.file is None:  # an error from a flow's own constructor: say where it was declared
                raise self.error(key, str(exc)) from None
            raise

    def kind(self, spec: dict[str, Any], key: str) -> str:
        if "type" in spec:
            if spec["type"] not in ("sequential", "loop", "branch", "parallel", "map"):
                raise self.error(
                    f"{key}.type", f"unknown type '{spec['type']}' (expected sequential, loop, branch, parallel or map)"
                )
            return str(spec["type"])
        found = [k for k in ("class", "function", "hub", "use", "file", "address") if k in spec]
        if len(found) != 1:
            raise self.error(
                key,
                "a flow spec needs exactly one of type, class, function, hub, use, file, address"
                + (f" (found {found})" if found else ""),
            )
        if found[0] == "address":
            return "address"
        return found[0]

    def use(self, name: str, key: str) -> Flow | str:
        if name in self.built:
            return self.built[name]
        if name in self.resolving:
            cycle = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
            raise self.error(key, f"cycle in flow definitions: {cycle}")
        if name not in self.definitions:
            known = ", ".join(self.definitions) or "none"
            raise self.error(key, f"'{name}' is not defined under `flows:` (defined: {known})")
        self.resolving.append(name)
        spec = self.definitions[name]
        if isinstance(spec, dict) and "name" not in spec and "use" not in spec:
            spec = {**spec, "name": name}
        flow = self.flow(spec, f"flows.{name}")
        self.resolving.pop()
        self.built[name] = flow
        return flow

    def build_address(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> str:
        return str(spec["address"])

    def build_use(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow | str:
        return self.use(spec["use"], f"{key}.use")

    def build_file(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        return load_flow(self.base / spec["file"])

    def build_class(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        cls = import_object(spec["class"], file=self.file, key=f"{key}.class")
        if not (isinstance(cls, type) and issubclass(cls, Flow)):
            raise self.error(f"{key}.class", f"'{spec['class']}' is not a Flow class")
        kwargs: dict[str, Any] = dict(common)
        if "base_dir" in inspect.signature(cls).parameters:  # relative files (prompts) sit next to the YAML
            kwargs["base_dir"] = self.base
        if "config" in spec:
            kwargs["config"] = spec["config"]
        if "subflows" in spec:
            subs = spec["subflows"]
            if not isinstance(subs, dict):
                raise self.error(f"{key}.subflows", "expected a mapping of names to flow specs")
            kwargs["subflows"] = {n: self.flow(s, f"{key}.subflows.{n}") for n, s in subs.items()}
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise self.error(key, f"cannot build {cls.__name__}: {exc}") from None

    def build_function(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        fn = import_object(spec["function"], file=self.file, key=f"{key}.function")
        if isinstance(fn, Flow):
            return fn
        if not callable(fn):
            raise self.error(f"{key}.function", f"'{spec['function']}' is not callable")
        return FunctionFlow(fn, blocking=bool(spec.get("blocking", False)), **common)

    def build_hub(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        try:
            from . import hub
        except ImportError as exc:
            raise self.error(f"{key}.hub", f"the hub client is not available: {exc}") from None
        flow: Flow = hub.load(spec["hub"], config=spec.get("config"), name=common.get("name"))
        return flow

    def step(self, spec: Any, key: str) -> Step:
        if isinstance(spec, dict):
            maps = {k: spec[k] for k in _STEP_KEYS if k in spec}
            rest = {k: v for k, v in spec.items() if k not in _STEP_KEYS}
        else:
            maps, rest = {}, spec
        flow = self.flow(rest, key)
        try:
            return Step(flow, inputs=maps.get("inputs"), outputs=maps.get("outputs"))
        except ConfigError as exc:
            raise self.error(key, str(exc)) from None

    def steps(self, items: Any, key: str) -> list[Step] | dict[str, Step]:
        if isinstance(items, list):
            return [self.step(s, f"{key}[{i}]") for i, s in enumerate(items)]
        if isinstance(items, dict):
            return {n: self.step(s, f"{key}.{n}") for n, s in items.items()}
        raise self.error(key, f"expected a list or mapping of steps, found {type(items).__name__}")

    def build_sequential(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        steps = self.steps(spec.get("steps"), f"{key}.steps")
        if not isinstance(steps, list):
            raise self.error(f"{key}.steps", "expected a list of steps")
        return Sequential(*steps, **common)

    def build_loop(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        if "body" not in spec:
            raise self.error(key, "a loop needs a `body`")
        if "max_rounds" not in spec:
            raise self.error(f"{key}.max_rounds", "a loop must be bounded: give max_rounds")
        return Loop(
            self.step(spec["body"], f"{key}.body"), max_rounds=spec["max_rounds"], until=spec.get("until"), **common
        )

    def build_branch(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        if ("by" in spec) == ("router" in spec):
            raise self.error(key, "a branch needs exactly one of `by` (a key whose value names the branch) or `router`")
        router: Any = spec.get("by")
        if "router" in spec:
            raw = spec["router"]
            router = (
                import_object(raw, file=self.file, key=f"{key}.router")
                if isinstance(raw, str) and ":" in raw
                else self.flow(raw, f"{key}.router")
            )
        branches = self.steps(spec.get("branches"), f"{key}.branches")
        if not isinstance(branches, dict):
            raise self.error(f"{key}.branches", "expected a mapping of branch names to steps")
        return Branch(router, branches, default=spec.get("default"), **common)  # type: ignore[arg-type]

    def build_parallel(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        branches = self.steps(spec.get("branches"), f"{key}.branches")
        return Parallel(branches, max_concurrency=spec.get("max_concurrency"), **common)  # type: ignore[arg-type]

    def build_map(self, spec: dict[str, Any], key: str, common: dict[str, Any]) -> Flow:
        options = {k: spec[k] for k in ("over", "into", "item_key", "max_concurrency") if k in spec}
        return Map(self.flow(spec.get("flow"), f"{key}.flow"), **options, **common)
