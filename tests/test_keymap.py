from __future__ import annotations

import pytest

from aiflows import KeyMap
from aiflows.keymap import as_keymap, get_path


def test_shorthand_builds_exactly_the_targets_from_dotted_sources():
    keymap = as_keymap({"statement": "problem.text", "out.first": "items.0"})
    assert keymap.apply({"problem": {"text": "t"}, "items": [5, 6], "noise": 1}) == {
        "statement": "t",
        "out": {"first": 5},
    }
    assert keymap.targets() == ["statement", "out"]


def test_full_keymap_applies_rename_copy_set_extract_select_drop_in_order():
    keymap = KeyMap.model_validate(
        {
            "rename": {"answer": "raw"},
            "copy": {"raw": "backup.raw"},
            "set": {"lang": "python"},
            "extract": {"code": {"from": "raw", "pattern": r"```python\n(.*?)```"}},
            "select": ["code", "lang", "backup"],
            "drop": ["backup.raw"],
        }
    )
    out = keymap.apply({"answer": "Here:\n```python\nprint(1)\n```\nDone", "other": 1})
    assert out == {"code": "print(1)\n", "lang": "python", "backup": {}}


def test_extract_without_a_match_gives_its_default():
    keymap = KeyMap.model_validate({"extract": {"code": {"from": "a", "pattern": "x(y)", "default": ""}}})
    assert keymap.apply({"a": "nothing"})["code"] == ""


def test_missing_keys_and_bad_specs_are_named():
    with pytest.raises(KeyError, match="no key 'a.b' \\(missing 'b'; available: c\\)"):
        get_path({"a": {"c": 1}}, "a.b")
    with pytest.raises(TypeError, match="must name a source key"):
        as_keymap({"x": 3})
    with pytest.raises(ValueError):
        KeyMap.model_validate({"extract": {"c": {"from": "a", "pattern": "("}}})
