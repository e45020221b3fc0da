"""YAML compositions: every kind of flow spec, overrides, and errors that name file, key and expectation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aiflows import Branch, ConfigError, Flow, FunctionFlow, Loop, Map, Parallel, Sequential, load_flow
from aiflows.loader import build_from_spec, target_spec

MODULE = """
from pydantic import BaseModel
from aiflows import AtomicFlow, CompositeFlow

class Scale(AtomicFlow):
    class Config(BaseModel):
        factor: int = 2
    async def handle(self, ctx, data):
        return {"x": data.x * self.config.factor}

class Twice(CompositeFlow):
    async def handle(self, ctx, data):
        once = await self.call("inner", {"x": data.x})
        return await self.call("inner", once)

def inc(x: int) -> dict:
    return {"x": x + 1}

def big(data: dict) -> str:
    return "big" if data["x"] > 10 else "small"

LIMIT = 3
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "yflows.py").write_text(MODULE)
    return tmp_path


def write(folder: Path, text: str, name: str = "flow.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def test_every_kind_of_spec_builds_and_runs(folder: Path):
    path = write(
        folder,
        """
name: all
type: sequential
steps:
  - use: scale3
  - class: yflows:Twice
    subflows:
      inner: {function: yflows:inc}
  - type: loop
    max_rounds: 5
    until: {key: x, equals: 13}
    body: {function: yflows:inc}
  - type: branch
    router: yflows:big
    branches:
      big: {use: scale3}
      small: {function: yflows:inc}
  - type: parallel
    max_concurrency: 2
    branches:
      a: {function: yflows:inc, inputs: {x: x}}
      b: {use: scale3}
  - type: map
    over: xs
    item_key: x
    flow: {function: yflows:inc}
flows:
  scale3: {class: yflows:Scale, config: {factor: 3}}
""",
    )
    flow = load_flow(path)
    assert isinstance(flow, Sequential)
    kinds = [type(s.flow) for s in flow.steps]
    assert kinds[2:] == [Loop, Branch, Parallel, Map]
    out = flow.run_sync({"x": 3, "xs": [1, 2]})
    # 3 -> scale 9 -> twice inc 11 -> loop to 13 -> big: 39 -> parallel -> map
    assert out["x"] == 39 and out["a"] == {"x": 40} and out["b"] == {"x": 117}
    assert out["results"] == [{"x": 2}, {"x": 3}]


def test_overrides_from_the_file_and_from_the_caller(folder: Path):
    path = write(
        folder,
        """
name: s
type: sequential
steps: [{use: scale}]
flows:
  scale: {class: yflows:Scale, config: {factor: 2}}
overrides:
  flows.scale.config.factor: 5
""",
    )
    assert load_flow(path).run_sync({"x": 1}) == {"x": 5}
    assert load_flow(path, overrides=["flows.scale.config.factor=7"]).run_sync({"x": 1}) == {"x": 7}
    assert load_flow(path, overrides={"steps.0": {"function": "yflows:inc"}}).run_sync({"x": 1}) == {"x": 2}


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("name: [unclosed", None, "not valid YAML"),
        ("- a\n- b", None, "expected a mapping at the top"),
        ("type: sequentail\nsteps: []", "<root>.type", "unknown type 'sequentail'"),
        ("type: sequential\nstesp: []", "<root>", "unknown key(s) ['stesp']"),
        ("type: loop\nbody: {function: yflows:inc}", "<root>.max_rounds", "a loop must be bounded"),
        ("class: yflows:Nope", "<root>.class", "module 'yflows' has no 'Nope'"),
        ("class: nosuchmodule:X", "<root>.class", "cannot import module 'nosuchmodule'"),
        ("function: yflows", "<root>.function", "expected 'module:attribute'"),
        ("class: yflows:inc", "<root>.class", "is not a Flow class"),
        ("class: yflows:Scale\nconfig: {factor: many}", "<root>", "config of flow 'Scale'"),
        ("type: sequential\nsteps:\n  - use: ghost", "<root>.steps[0].use", "'ghost' is not defined under `flows:`"),
        ("type: branch\nbranches: {a: {function: yflows:inc}}", "<root>", "exactly one of `by`"),
        (
            "type: sequential\nsteps: [{use: a}]\nflows:\n  a: {use: b}\n  b: {use: a}",
            "flows.b.use",
            "cycle in flow definitions: a -> b -> a",
        ),
        ("type: sequential\nsteps: [{function: yflows:inc, inputs: 3}]", "<root>.steps[0]", "key map is a dict"),
        ("function: yflows:inc\noverrides: [1]", "overrides", "expected a mapping"),
    ],
)
def test_bad_configs_name_the_file_the_key_and_what_was_expected(
    folder: Path, text: str, key: str | None, expected: str
):
    path = write(folder, text)
    with pytest.raises(ConfigError) as err:
        load_flow(path)
    assert err.value.file == str(path)
    assert err.value.key == key
    assert expected in str(err.value)


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such file"):
        load_flow(tmp_path / "absent.yaml")


def test_a_dict_builds_like_a_file(folder: Path):
    flow = load_flow({"name": "one", "function": "yflows:inc"})
    assert flow.run_sync({"x": 1}) == {"x": 2}


def test_targets_build_through_one_spec(folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # put back what the loader adds
    monkeypatch.chdir(folder)
    yaml_spec = target_spec(str(write(folder, "function: yflows:inc")), ["name=renamed"])
    assert yaml_spec == {"yaml": str(folder / "flow.yaml"), "overrides": ["name=renamed"]}
    assert build_from_spec(yaml_spec).name == "renamed"
    assert target_spec("yflows:Scale") == {"import": "yflows:Scale", "cwd": str(folder)}
    assert isinstance(build_from_spec(target_spec("yflows:Scale")), Flow)
    assert isinstance(build_from_spec(target_spec("yflows:inc")), FunctionFlow)
    with pytest.raises(ConfigError, match="'yflows:LIMIT' is not a Flow, a Flow class or a function"):
        build_from_spec(target_spec("yflows:LIMIT"))
    with pytest.raises(ConfigError, match="started from code"):
        build_from_spec({})


def test_a_folder_goes_on_sys_path_once(folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(folder)])
    path = write(folder, "function: yflows:inc")
    for _ in range(3):
        load_flow(path)
        build_from_spec({"import": "yflows:inc", "cwd": str(folder)})
    assert sys.path.count(str(folder)) == 1
