"""Listing reference submissions by expected verdict on the real packages."""

from __future__ import annotations

from pathlib import Path

from aiflows.problems import language_of, list_submissions


def test_kattis_different_submissions(shared_data: Path) -> None:
    root = shared_data / "cc" / "kattis-examples" / "different"
    subs = list_submissions(root)
    names = {s.name: s for s in subs}
    assert names["accepted/different_py3.py"].language == "python"
    assert names["accepted/different.c"].language == "c"
    assert names["accepted/different.cc"].language == "cpp"
    assert names["accepted/different.c"].expected == "AC"
    assert names["wrong_answer/different_int.cc"].expected == "WA"
    assert names["time_limit_exceeded/different_linear_search.cc"].expected == "TLE"
    slow = names["slow_accepted/different_slow.py"]
    assert slow.expected is None and slow.permitted == ["AC", "TLE"]
    assert names["accepted/different_py2.py"].language == "python2"  # told apart by its syntax
    assert names["accepted/different_py3.py"].permitted is None
    prolog = names["accepted/prolog"]  # a folder is one program
    assert prolog.path.is_dir() and prolog.language == "prolog" and len(prolog.files) == 2
    assert [s.name for s in subs] == sorted(s.name for s in subs)


def test_filters_and_disabled_entries(shared_data: Path) -> None:
    root = shared_data / "cc" / "bapctools" / "different"
    every = list_submissions(root)
    assert not any(".disabled" in str(s.path) for s in every)
    py = list_submissions(root, languages={"python"}, folders={"accepted", "wrong_answer"})
    assert {s.name for s in py} == {"accepted/different.py", "accepted/different_py3.py"}
    guess = list_submissions(shared_data / "cc" / "bapctools" / "guess", languages={"python"})
    assert {s.folder for s in guess} == {"run_time_error", "wrong_answer"}
    assert all(s.expected in ("RTE", "WA") for s in guess)


def test_no_submissions_folder(tmp_path: Path) -> None:
    assert list_submissions(tmp_path) == []


def test_language_of() -> None:
    assert [language_of(Path(n)) for n in ("a.py", "a.c", "a.cpp", "a.cc", "A.java", "a.txt")] == [
        "python",
        "c",
        "cpp",
        "cpp",
        "java",
        None,
    ]


def test_bad_entries_are_left_out_unless_asked(shared_data: Path) -> None:
    root = shared_data / "cc" / "bapctools" / "identity"
    names = [s.name for s in list_submissions(root)]
    assert "wrong_answer/wa.py" in names and not any(".bad." in n for n in names)
    assert any(".bad." in s.name for s in list_submissions(root, include_bad=True))


def test_submissions_yaml_expectations(shared_data: Path) -> None:
    subs = {s.name: s for s in list_submissions(shared_data / "cc" / "bapctools" / "testexpectations")}
    assert (subs["accepted/wa.py"].expected, subs["accepted/wa.py"].permitted) == ("WA", ["WA"])
    assert (subs["ac_or_wa/ac.cpp"].expected, subs["ac_or_wa/ac.cpp"].permitted) == (None, ["AC", "WA"])
    assert subs["ac_or_wa/ac.py"].permitted == ["AC"]  # a file's entry beats its folder's
    assert subs["expansion/ac.cpp"].permitted == ["AC"]  # brace expansion
    assert (subs["wa/wa.py"].expected, subs["wa/wa.py"].permitted) == ("WA", ["AC", "WA"])  # required wins
    assert subs["match/match_wa.py"].expected == "AC"  # "match/match_wa" names no file: full names only
    assert subs["tle/sleep.py"].permitted is None
