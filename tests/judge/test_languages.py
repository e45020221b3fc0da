"""The language table: it loads, a bad entry is named, absent toolchains are unsupported, Java
runs for real (AC/WA/RTE/TLE/CE), Python runs under PyPy when asked, runs see one CPU."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, LanguageTableError, UnsupportedLanguage, Verdict, language_table
from aiflows.judge._languages import entry_point, load_languages, resolve_language, toolchain
from aiflows.judge._programs import SUFFIXES
from aiflows.judge._sandbox import bwrap_works

needs_bwrap = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")
needs_java = pytest.mark.skipif(toolchain("java") is None, reason="no JDK (javac, java) installed")
needs_pypy = pytest.mark.skipif(toolchain("pypy3") is None, reason="pypy3 is not installed")

SUM_JAVA = """
import java.util.*;
public class Sum {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        long a = in.nextLong(), b = in.nextLong();
        System.out.println(%s);
    }
}
"""


def test_the_shipped_table_loads_with_the_contest_languages() -> None:
    table = language_table()
    for lang in ("c", "cpp", "python", "pypy3", "java", "kotlin", "haskell", "rust", "go", "javascript"):
        assert lang in table, lang
    assert table["java"].address_space is False and table["java"].compiled
    assert table["python"].time_factor > 1
    assert SUFFIXES[".java"] == "java" and SUFFIXES[".cc"] == "cpp" and SUFFIXES[".py"] == "python"
    assert resolve_language("C++", installed=False).id == "cpp"
    assert resolve_language("Python3", installed=False).id == "python"


def test_a_malformed_entry_names_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "languages.yaml"
    bad.write_text(
        "languages:\n  java:\n    name: Java\n    run: [java]\n    entry: java\n    version: [java]\n    compile: 5\n"
    )
    with pytest.raises(LanguageTableError) as info:
        load_languages(bad)
    assert str(bad) in str(info.value) and "languages.java.compile" in str(info.value)
    bad.write_text("languages:\n  c:\n    name: C\n    run: [x]\n    version: [x]\n    entry: sideways\n")
    with pytest.raises(LanguageTableError, match=r"languages\.c\.entry"):
        load_languages(bad)
    bad.write_text("languages: [c]\n")
    with pytest.raises(LanguageTableError, match="'languages' mapping"):
        load_languages(bad)


def test_entry_points_follow_each_languages_rule() -> None:
    table = language_table()
    files = {
        "Helper.java": "class Helper {}",
        "Sol.java": "package a.b;\npublic class Sol { public static void main(String[] x) {} }",
    }
    assert entry_point(table["java"], files) == ("Sol.java", "a.b.Sol")
    assert entry_point(table["kotlin"], {"solve.kt": "fun main() {}", "util.kt": "fun f() = 1"}) == (
        "solve.kt",
        "SolveKt",
    )
    assert entry_point(table["python"], {"hello.py": "", "util.py": ""}, "hello") == ("hello.py", "hello")
    with pytest.raises(ValueError, match="cannot tell"):
        entry_point(table["python"], {"a.py": "", "b.py": ""}, "hello")


@needs_bwrap
def test_an_unknown_or_absent_language_is_unsupported_not_a_verdict(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n")])
    with pytest.raises(UnsupportedLanguage, match="not in the judge's language table"):
        judger.judge(problem, "print(1)", "cobol")
    absent = [lang.id for lang in language_table().values() if toolchain(lang.id) is None]
    if not absent:
        pytest.skip("every language of the table is installed here")
    with pytest.raises(UnsupportedLanguage, match="not installed here") as info:
        judger.judge(problem, "main = print 1", absent[0])
    assert info.value.language == absent[0]


@needs_bwrap
@needs_java
@pytest.mark.slow
def test_java_gets_each_verdict(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("3 4\n", "7\n"), ("10 -2\n", "8\n")], memory_limit_mb=256, time_limit=1.0)
    cases = {
        Verdict.AC: SUM_JAVA % "a + b",
        Verdict.WA: SUM_JAVA % "a - b",
        Verdict.RTE: SUM_JAVA % "a / (b - b)",
        Verdict.TLE: SUM_JAVA % "a + b); while (a >= 0) { a = (a * 7 + 1) & 0xffff; } System.out.println(1",
        Verdict.CE: SUM_JAVA % "a + undefinedName",
    }
    for wanted, code in cases.items():
        judgement = judger.judge(problem, code, "java")
        assert judgement.verdict == wanted, (wanted, judgement.feedback())
        assert judgement.language == "java" and "javac" in judgement.runtime
    assert "undefinedName" in judger.judge(problem, cases[Verdict.CE], "java").compile_output


@needs_bwrap
@needs_java
@pytest.mark.slow
def test_java_heap_is_the_memory_limit_and_runs_are_rte_when_it_is_exhausted(make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n")], memory_limit_mb=256, time_limit=5.0)
    hog = (
        "import java.util.*;\npublic class Hog { public static void main(String[] a) {"
        " List<long[]> keep = new ArrayList<>(); while (true) keep.add(new long[1 << 20]); } }\n"
    )
    with Judge(JudgeConfig(jobs=1, wall_factor=20)) as judger:  # a loaded machine must not make it a wall TLE
        judgement = judger.judge(problem, hog, "java")
    assert judgement.verdict == Verdict.RTE and judgement.memory_limit_hit, judgement.feedback()


@needs_bwrap
@needs_pypy
def test_python_runs_under_pypy_when_asked_and_installed(make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("2\n", "pypy\n")])
    code = "import platform\ninput()\nprint(platform.python_implementation().lower())\n"
    with Judge(JudgeConfig(jobs=1, python="auto")) as judger:
        judgement = judger.judge(problem, code, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    assert judgement.language == "pypy3" and "PyPy" in judgement.runtime


@needs_bwrap
def test_cpython_is_said_and_its_limit_is_as_given_by_default(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("2\n", "cpython\n")])
    code = "import platform\ninput()\nprint(platform.python_implementation().lower())\n"
    judgement = judger.judge(problem, code, "python")
    assert judgement.verdict == Verdict.AC and judgement.runtime.startswith("CPython")
    assert (
        judger.limits_for(problem, language_table()["python"].time_factor).cpu_s == 3 * judger.limits_for(problem).cpu_s
    )


AFFINITY_PY = "import os\ninput()\nprint(len(os.sched_getaffinity(0)))\n"
AFFINITY_C = """
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
int main(void) { cpu_set_t s; sched_getaffinity(0, sizeof s, &s); printf("%d\\n", CPU_COUNT(&s)); return 0; }
"""


@needs_bwrap
@pytest.mark.parametrize("fork_server", [True, False])
def test_a_judged_program_sees_exactly_one_cpu(make_problem, fork_server: bool) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "1\n")])
    with Judge(JudgeConfig(jobs=2, fork_server=fork_server)) as judger:
        for code, lang in ((AFFINITY_PY, "python"), (AFFINITY_C, "c")):
            judgement = judger.judge(problem, code, lang)
            assert judgement.verdict == Verdict.AC, judgement.feedback()


@needs_bwrap
def test_without_pypy_auto_runs_cpython_with_the_time_factor_and_says_so(
    make_problem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A sandbox PATH holding only python3 (no pypy3): the real selection, on a machine without PyPy."""
    import aiflows.judge._languages as languages

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(shutil.which("python3") or "/usr/bin/python3")
    monkeypatch.setattr(languages, "SANDBOX_PATH", str(bin_dir))
    languages.toolchain.cache_clear()
    try:
        problem = make_problem([("x\n", "x\n")], time_limit=0.2)
        with Judge(JudgeConfig(jobs=1, python="auto")) as judger:
            judgement = judger.judge(problem, "while True:\n    pass\n", "python")
        assert judgement.language == "python" and judgement.runtime.startswith("CPython")
        assert "PyPy is not installed" in judgement.runtime and "multiplied by 3" in judgement.runtime
        assert judgement.verdict == Verdict.TLE
        assert "limit is 0.6 s CPU" in judgement.first_failure.message  # type: ignore[union-attr]
    finally:
        languages.toolchain.cache_clear()


SUM_PROGRAMS = {
    "c": '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); }\n',
    "cpp": "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n",
    "python": "a, b = map(int, input().split())\nprint(a + b)\n",
    "pypy3": "a, b = map(int, input().split())\nprint(a + b)\n",
    "java": SUM_JAVA % "a + b",
    "kotlin": "fun main() { val (a, b) = readLine()!!.split(' ').map { it.toLong() }; println(a + b) }\n",
    "haskell": 'main = interact $ \\s -> let [a, b] = map read (words s) :: [Integer] in show (a + b) ++ "\\n"\n',
    "rust": (
        "use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();"
        ' let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }\n'
    ),
    "go": 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); fmt.Println(a + b) }\n',
    "javascript": (
        "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\nconsole.log(a + b);\n"
    ),
}


@needs_bwrap
@pytest.mark.parametrize("lang", sorted(SUM_PROGRAMS))
def test_every_installed_language_of_the_table_runs_for_real(judger: Judge, make_problem, lang: str) -> None:  # type: ignore[no-untyped-def]
    assert set(SUM_PROGRAMS) == set(language_table())  # a new table entry gets a program here
    if toolchain(lang) is None:
        pytest.skip(f"{lang} is not installed here")
    problem = make_problem([("3 4\n", "7\n"), ("10 -2\n", "8\n")], memory_limit_mb=256, time_limit=2.0)
    judgement = judger.judge(problem, SUM_PROGRAMS[lang], lang)
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    named = "CPython" if lang == "python" else language_table()[lang].name  # python: the judge's own CPython
    assert judgement.runtime.startswith(named), judgement.runtime
