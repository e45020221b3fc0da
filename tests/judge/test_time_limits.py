"""Time limits as the format says: stated, or measured from the accepted submissions and cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict
from aiflows.judge._sandbox import bwrap_works
from aiflows.judge._timelimit import round_limit, wall_limit
from aiflows.problems import load_package
from aiflows.problems.config import read_package_config

SLOW_AC = """
#include <stdio.h>
#include <time.h>
int main(void) {
    int a, b; if (scanf("%d %d", &a, &b) != 2) return 1;
    volatile unsigned long x = 0;
    while (clock() < (clock_t)(2.3 * CLOCKS_PER_SEC)) x++;
    printf("%d\\n", a + b);
    return 0;
}
"""
FAST_AC = "a, b = map(int, input().split())\nprint(a + b)\n"


def _package(root: Path, yaml_text: str, accepted: dict[str, str]) -> Path:
    (root / "data" / "secret").mkdir(parents=True)
    (root / "data" / "secret" / "1.in").write_text("3 4\n")
    (root / "data" / "secret" / "1.ans").write_text("7\n")
    (root / "problem.yaml").write_text(yaml_text)
    (root / "submissions" / "accepted").mkdir(parents=True)
    for name, code in accepted.items():
        (root / "submissions" / "accepted" / name).write_text(code)
    return root


def test_multipliers_are_read_with_each_formats_defaults(tmp_path: Path) -> None:
    new = _package(tmp_path / "new", "problem_format_version: 2023-07-draft\nname: N\n", {})
    legacy = _package(tmp_path / "legacy", "name: L\nlimits:\n  time_multiplier: 3\n", {})
    c_new, c_legacy = read_package_config(new), read_package_config(legacy)
    assert (c_new.ac_to_time_limit, c_new.time_limit_to_tle, c_new.time_resolution) == (2.0, 1.5, 1.0)
    assert (c_legacy.ac_to_time_limit, c_legacy.time_limit_to_tle, c_legacy.time_resolution) == (3.0, 2.0, None)
    assert round_limit(0.1, c_legacy) == 1.0 and round_limit(2.4, c_legacy) == 2.0 and round_limit(2.5, c_legacy) == 3.0
    assert round_limit(4.6, c_new) == 5.0 and round_limit(4.0, c_new) == 4.0
    assert wall_limit(2.0) == 3.5


@pytest.mark.slow
@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")
def test_a_slow_accepted_solution_sets_the_limit_once_and_is_accepted(tmp_path: Path) -> None:
    yaml_text = (
        "problem_format_version: 2023-07-draft\nname: Slow\nlimits:\n  time_multipliers:\n    ac_to_time_limit: 2.0\n"
    )
    root = _package(tmp_path / "slow", yaml_text, {"slow.c": SLOW_AC, "fast.py": FAST_AC})
    problem = load_package(root)
    assert problem.metadata["time_limit_source"] == "default" and problem.time_limit == 2.0
    cache = tmp_path / "cache"
    # a wide wall clock: this checks CPU limits, which a loaded machine must not turn into wall TLEs
    with Judge(JudgeConfig(jobs=2, time_limit_cache=cache, wall_factor=20)) as judger:
        judgement = judger.judge(problem, SLOW_AC, "c")
        assert judgement.verdict == Verdict.AC, judgement.feedback()  # with the 2 s default it was TLE
        assert judger.time_limits.measurements == 1
        measured = judger.time_limits.get(problem)
        assert measured is not None and measured.slowest == "accepted/slow.c" and measured.time_limit >= 5.0
        assert sorted(measured.measured) == ["accepted/fast.py", "accepted/slow.c"]
        assert judger.limits_for(problem).cpu_s == measured.time_limit
        judger.judge(problem, FAST_AC, "python")
        assert judger.time_limits.measurements == 1  # the same Judge measures once
    assert len(list(cache.glob("*.json"))) == 1
    with Judge(JudgeConfig(jobs=2, time_limit_cache=cache)) as judger:
        assert judger.time_limit_for(load_package(root)) == measured.time_limit
        assert judger.time_limits.measurements == 0  # a new Judge reads the cache file: no run
    (root / "submissions" / "accepted" / "fast.py").write_text(FAST_AC + "# changed\n")
    with Judge(JudgeConfig(jobs=2, time_limit_cache=cache)) as judger:
        judger.time_limit_for(load_package(root))
        assert judger.time_limits.measurements == 1  # a changed package is measured again


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")
def test_a_stated_limit_is_used_without_measuring(tmp_path: Path) -> None:
    root = _package(tmp_path / "stated", "name: S\nlimits:\n  time_limit: 3\n", {"fast.py": FAST_AC})
    with Judge(JudgeConfig(jobs=1, time_limit_cache=tmp_path / "cache")) as judger:
        assert judger.time_limit_for(load_package(root)) == 3.0
        assert judger.time_limits.measurements == 0


SPIN = """
#include <time.h>
int main(void) { while (clock() < (clock_t)(%s * CLOCKS_PER_SEC)) {} return 0; }
"""


@pytest.mark.slow
@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")
def test_runs_go_on_to_the_tle_margin_when_asked(tmp_path: Path) -> None:
    yaml_text = "name: M\nlimits:\n  time_limit: 1\n  time_safety_margin: 2\n"
    root = _package(tmp_path / "margin", yaml_text, {})
    problem = load_package(root)
    config = JudgeConfig(jobs=2, run_to_tle_margin=True, time_limit_cache=tmp_path / "c", wall_factor=20)
    with Judge(config) as judger:
        assert judger.limits_for(problem).cpu_kill_s == 2.0 and judger.limits_for(problem).cpu_s == 1.0
        within = judger.judge(problem, SPIN % "1.4", "c")
        beyond = judger.judge(problem, "int main(void) { for (;;) {} }\n", "c")
    assert within.verdict == Verdict.TLE and "within the TLE margin (2 s)" in within.first_failure.message  # type: ignore[union-attr]
    assert within.max_time_s > 1.2  # measured past the limit, not cut at it
    assert beyond.verdict == Verdict.TLE and "beyond the TLE margin" in beyond.first_failure.message  # type: ignore[union-attr]
