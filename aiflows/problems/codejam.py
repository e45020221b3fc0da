"""Load the Code Jam archive (google/coding-competitions-archive layout) into `Problem`s.

The archive keeps each problem as a package: `codejam/<year>/<round>/<slug>/` with `problem.yaml`,
`data/{sample,secret/subtaskN}` (one multi-case file per test set, answers as `Case #x: ...`),
`output_validators/validator/` and an HTML statement. What this loader adds to the package
loader: the HTML statement as markdown, the limits stated in it, the round and a difficulty
bucket for per-bucket breakdowns, the validator's language and protocol, and an honest list of
the files the archive lacks (`_MISSING_FILES.txt`): such problems load with what exists.

Code Jam validators do not follow the Kattis convention: they are called as
`validator input_file attempt_file answer_file` and accept with exit code 0; several are Python 2.
Interactive problems ship only the interactor (no test data). Both facts are in `metadata`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path
from typing import Any

from aiflows.problems._files import read_text
from aiflows.problems.errors import ProblemError, ProblemSet
from aiflows.problems.kattis import load_package
from aiflows.problems.model import Problem
from aiflows.problems.submissions import language_of, looks_like_python2

__all__ = ["find_codejam_root", "is_codejam_archive", "load_codejam", "load_codejam_problem"]

_YEAR = re.compile(r"^(19|20)\d\d$")
# Round folder -> (tier, bucket). Tiers order the rounds by the field left in them.
_ROUNDS: list[tuple[str, int]] = [
    ("qualification", 1),
    ("round_1", 2),
    ("round_2", 3),
    ("round_3", 4),
    ("world_finals", 5),
    ("virtual_world_finals", 5),
]
_TIER_DIFFICULTY = {1: "easy", 2: "medium", 3: "medium", 4: "hard", 5: "hard"}


def is_codejam_archive(path: Path) -> bool:
    """True for the archive root, its `codejam/` folder, a year, or a round folder of it."""
    return find_codejam_root(path) is not None


def find_codejam_root(path: Path) -> Path | None:
    """The folder whose children are years (`2019`, `2020`, ...), at or around `path`."""
    if not path.is_dir():
        return None
    for candidate in (path, path / "codejam", *path.parents):
        years = candidate.is_dir() and any(_YEAR.match(p.name) and p.is_dir() for p in candidate.iterdir())
        if years and any(candidate.glob("*/*/*/problem.yaml")):
            return candidate
    return None


def load_codejam(path: str | Path, *, limit: int | None = None, cache_dir: Path | None = None) -> ProblemSet:
    """Load every Code Jam problem under `path` (the archive, a year or a round).

    Problems come in archive order: year, then round, then position in the round.

    Raises:
        ProblemError: `path` does not exist or holds no Code Jam problems.
    """
    base = Path(path).absolute()
    if not base.exists():
        raise ProblemError("path does not exist", path=base)
    root = find_codejam_root(base)
    if root is None:
        raise ProblemError("not a Code Jam archive (expected <year>/<round>/<problem>/problem.yaml)", path=base)
    missing = _missing_files(root)
    rounds: dict[Path, dict[str, int]] = {}  # round folder -> slug -> position, read once per round
    scope = base if base == root or root in base.parents else root
    dirs = sorted(
        (p.parent for p in scope.rglob("problem.yaml") if len(p.parent.relative_to(root).parts) == 3),
        key=lambda d: _order_key(root, d, rounds),
    )
    problems: list[Problem] = []
    errors: list[ProblemError] = []
    for folder in dirs:
        if limit is not None and len(problems) >= limit:
            break
        try:
            problems.append(
                load_codejam_problem(
                    folder,
                    root=root,
                    missing=missing,
                    cache_dir=cache_dir,
                    positions=_round_positions(rounds, folder.parent),
                )
            )
        except ProblemError as exc:
            errors.append(exc)
    return ProblemSet(problems, errors=errors)


def load_codejam_problem(
    folder: Path,
    *,
    root: Path,
    missing: dict[str, list[str]] | None = None,
    cache_dir: Path | None = None,
    positions: dict[str, int] | None = None,
) -> Problem:
    """Load one Code Jam problem folder (`<root>/<year>/<round>/<slug>`).

    `positions` (slug -> place in the round) saves reading the round overview again.
    """
    year, round_dir, slug = folder.relative_to(root).parts[:3]
    pid = f"codejam/{year}/{round_dir}/{slug}"
    known = (missing or {}).get(f"{year}/{round_dir}/{slug}", [])
    base = load_package(
        folder,
        problem_id=pid,
        source="codejam",
        strict=False,
        known_missing=known,
        require_data=False,
        repair_yaml=True,
        cache_dir=cache_dir,
    )
    statement = base.statement
    time_limit, memory_mb = _limits(statement)
    meta: dict[str, Any] = dict(base.metadata)
    if positions is None:
        positions = _positions(folder.parent)
    meta.update(_round_info(folder, positions, round_dir, base.title, meta.get("source_name")))
    meta["year"] = int(year)
    meta["answer_format"] = "Case #x: ..."
    meta["test_sets"] = _test_sets(statement, meta.get("groups", {}))
    if base.output_validator is not None:
        meta.update(_validator_info(base.output_validator, base.interactive))
    if time_limit is not None:
        meta["time_limit_source"] = "statement"
    notes = list(meta.get("notes", []))
    if base.interactive and not base.tests:
        notes = [n for n in notes if not n.startswith("no secret")]
        notes.append("interactive: the archive ships only the interactor, no test data")
    if known:
        meta["archive_missing_files"] = list(known)
    if notes:
        meta["notes"] = notes
    return base.model_copy(
        update={
            "time_limit": time_limit if time_limit is not None else base.time_limit,
            "memory_limit_mb": memory_mb if memory_mb is not None else base.memory_limit_mb,
            "metadata": meta,
        }
    )


def _missing_files(root: Path) -> dict[str, list[str]]:
    """Parse `_MISSING_FILES.txt` (next to or above `root`) into problem -> missing files."""
    for folder in (root, *root.parents[:2]):
        path = folder / "_MISSING_FILES.txt"
        if path.is_file():
            break
    else:
        return {}
    found: dict[str, list[str]] = {}
    for line in read_text(path).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("/")
        if parts and parts[0] == "codejam":
            parts = parts[1:]
        if len(parts) > 3 and _YEAR.match(parts[0]):
            found.setdefault("/".join(parts[:3]), []).append("/".join(parts[3:]))
    return found


def _order_key(root: Path, folder: Path, rounds: dict[Path, dict[str, int]]) -> tuple[str, int, str, int, str]:
    year, round_dir, slug = folder.relative_to(root).parts[:3]
    position = _round_positions(rounds, folder.parent).get(slug, 99)
    return year, _tier(round_dir), round_dir, position, slug


def _round_positions(rounds: dict[Path, dict[str, int]], round_folder: Path) -> dict[str, int]:
    if round_folder not in rounds:
        rounds[round_folder] = _positions(round_folder)
    return rounds[round_folder]


def _tier(round_dir: str) -> int:
    for prefix, tier in _ROUNDS:
        if round_dir.startswith(prefix):
            return tier
    return 3


def _positions(round_folder: Path) -> dict[str, int]:
    """Problem slug -> 1-based position in the round, from the overview's cast list."""
    overview = round_folder / "round_overview.html"
    if not overview.is_file():
        return {}
    text = html.unescape(read_text(overview))
    names = re.findall(r"<p>\s*([^<:]{2,80}?):\s*Written\b", text)
    return {_slug(name): i for i, name in enumerate(names, 1)}


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower().replace("'", "")).strip("_")


def _round_info(
    folder: Path, positions: dict[str, int], round_dir: str, title: str, source_name: Any
) -> dict[str, Any]:
    tier = _tier(round_dir)
    position = positions.get(folder.name) or positions.get(_slug(title))
    difficulty = _TIER_DIFFICULTY[tier]
    if tier == 2 and position == 1:
        difficulty = "easy"  # a Round 1's first problem is qualification-level
    elif tier == 3 and position is not None and position >= 3:
        difficulty = "hard"
    source = str(source_name or "")
    round_name = source.split(" - ", 1)[1] if " - " in source else round_dir.replace("_", " ").title()
    group = next((prefix for prefix, t in _ROUNDS if round_dir.startswith(prefix)), round_dir)
    info: dict[str, Any] = {
        "contest": "Code Jam",
        "round": round_dir,
        "round_name": round_name,
        "round_tier": tier,
        "difficulty": difficulty,
        "buckets": ["finals" if tier == 5 else group],
    }
    if position is not None:
        info["position"] = position
    return info


def _limits(statement: str) -> tuple[float | None, int | None]:
    """The largest stated time limit (seconds, per test set) and the memory limit (MiB)."""
    times = [float(t) for t in re.findall(r"Time limit[^:\n]{0,40}:\s*([\d.]+)\s*seconds?", statement)]
    memory = re.search(r"Memory limit:\s*([\d.]+)\s*(GB|MB)", statement, re.I)
    mem_mb = None
    if memory:
        mem_mb = int(float(memory[1]) * (1024 if memory[2].upper() == "GB" else 1))
    return (max(times) if times else None), mem_mb


def _test_sets(statement: str, groups: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per hidden test set (`secret/subtaskN`): points, verdict visibility, completeness."""
    visibility = {int(n): "hidden" not in v.lower() for n, v in re.findall(r"Test [Ss]et (\d+) \(([^)]*)\)", statement)}
    sets = []
    for name, info in sorted(groups.items()):
        m = re.fullmatch(r"secret/subtask(\d+)", name)
        if not m:
            continue
        n = int(m[1])
        sets.append(
            {
                "group": name,
                "number": n,
                "points": info.get("score"),
                "visible": visibility.get(n),
                "complete": info.get("complete", True),
                "tests": info.get("tests", 0),
            }
        )
    return sets


def _validator_info(path: Path, interactive: bool) -> dict[str, Any]:
    sources = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    languages = sorted({lang for p in sources if (lang := language_of(p))})
    language = languages[0] if len(languages) == 1 else ("+".join(languages) or None)
    python2 = any(language_of(p) == "python" and looks_like_python2(read_text(p)) for p in sources)
    return {
        "validator_language": language,
        "validator_python2": python2,
        "validator_runnable": language in ("python", "c", "cpp") and not python2,
        "validator_protocol": (
            "codejam-interactor: judge and program talk over stdin/stdout"
            if interactive
            else "codejam: validator input_file attempt_file answer_file; exit 0 accepts"
        ),
    }
