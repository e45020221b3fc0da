"""The stores' JSON: plain values fast, anything else still written rather than refused."""

from __future__ import annotations

import datetime

import numpy as np

from aiflows._json import dumps, loads


def test_plain_values_round_trip():
    value = {"a": [1, 2.5, None, True], "b": {"c": "d"}}
    assert loads(dumps(value)) == value


def test_values_plain_json_cannot_spell_are_still_written():
    assert loads(dumps({1: "x"})) == {"1": "x"}
    assert loads(dumps({"a": np.arange(3)})) == {"a": [0, 1, 2]}
    assert loads(dumps({"when": datetime.date(2026, 1, 2), "what": object})) == {
        "when": "2026-01-02",
        "what": str(object),
    }


def test_integers_beyond_64_bits_are_written_exactly():
    assert loads(dumps({"x": 2**70, "y": [1.5]})) == {"x": 2**70, "y": [1.5]}


def test_keys_json_cannot_spell_are_written_as_text_beside_big_integers():
    assert loads(dumps({"k": {(1, 2): [2**70]}})) == {"k": {"(1, 2)": [2**70]}}
