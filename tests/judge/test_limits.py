"""Limits that must not break valid programs: big static arrays, deep recursion, threads."""

from __future__ import annotations

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict
from aiflows.judge._languages import toolchain
from aiflows.judge._sandbox import bwrap_works

pytestmark = [pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")]

STATIC_ZERO = """
#include <cstdio>
static char table[512 << 20];
int main() { long s = 0; for (long i = 0; i < (512L << 20); i += 4096) { table[i] = 1; s += table[i]; }
             std::printf("%ld\\n", s); }
"""
STATIC_FILLED = """
#include <cstdio>
char table[512 << 20] = {1};  // stored in the binary: a 512 MiB object file and program
int main() { int i; if (std::scanf("%d", &i) != 1) return 1; table[i] = 5; std::printf("%d\\n", table[0] + table[i]); }
"""
JAVA_NOT_PUBLIC = "class Hello {\n    public static void main(String[] a) { System.out.println(6); }\n}\n"
DEEP = """
#include <cstdio>
long depth(long n) { volatile char pad[64]; pad[0] = (char)n; return n == 0 ? 0 : 1 + depth(n - 1) + pad[0] * 0; }
int main() { std::printf("%ld\\n", depth(1000000)); }
"""
THREADS = """
#include <cstdio>
#include <thread>
#include <vector>
#include <atomic>
int main() {
    std::atomic<int> n{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 8; ++i) ts.emplace_back([&] { n += 1; });
    for (auto& t : ts) t.join();
    std::printf("%d\\n", n.load());
}
"""
PY_THREADS = """
import threading
done = []
ts = [threading.Thread(target=done.append, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print(len(done))
"""


@pytest.fixture(scope="module", params=["fork-server", "fresh-process"])
def any_judge(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    with Judge(JudgeConfig(jobs=2, fork_server=request.param == "fork-server")) as judger:
        yield judger


@pytest.mark.slow
def test_a_512_mib_static_array_compiles_and_runs_under_a_higher_memory_limit(any_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("\n", f"{(512 << 20) // 4096}\n")], memory_limit_mb=1024)
    judgement = any_judge.judge(problem, STATIC_ZERO, "cpp")
    assert judgement.verdict == Verdict.AC, judgement.feedback()


@pytest.mark.slow
def test_a_512_mib_initialised_array_compiles(any_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("300000000\n", "6\n")], memory_limit_mb=2048)
    judgement = any_judge.judge(problem, STATIC_FILLED, "cpp")
    assert judgement.verdict == Verdict.AC, judgement.feedback()


def test_a_java_class_that_is_not_public_runs(any_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    if toolchain("java") is None:
        pytest.skip("no JDK installed")
    judgement = any_judge.judge(make_problem([("\n", "6\n")]), JAVA_NOT_PUBLIC, "java")
    assert judgement.verdict == Verdict.AC, judgement.feedback()


def test_a_million_deep_recursion_is_accepted_with_256_mib(any_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("\n", "1000000\n")], memory_limit_mb=256)
    judgement = any_judge.judge(problem, DEEP, "cpp")
    assert judgement.verdict == Verdict.AC, judgement.feedback()


@pytest.mark.parametrize(("code", "lang"), [(THREADS, "cpp"), (PY_THREADS, "python")])
def test_a_program_starting_8_threads_works(any_judge: Judge, make_problem, code: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("\n", "8\n")], memory_limit_mb=256)
    judgement = any_judge.judge(problem, code, lang)
    assert judgement.verdict == Verdict.AC, judgement.feedback()
