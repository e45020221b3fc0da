"""kbqa: fixed by seed, splits held out by entity and by composition, and every answer follows from the
corpus alone (re-derived here by reading the corpus' sentences, not the knowledge base)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agents.eval import generate_kb, load_task, write_kbqa


def facts_from_corpus(corpus: list[dict[str, str]]) -> dict[str, dict[str, str | int]]:
    facts: dict[str, dict[str, str | int]] = {}
    for row in corpus:
        text, name = row["text"], row["title"]
        found: dict[str, str | int] = {}
        for key, pattern in (
            ("population", r"population of (\d+)"),
            ("employees", r"has (\d+) employees"),
            ("age", r"aged (\d+)"),
            ("city", r"head office is in the city of (\w+)"),
            ("employer", r"works for the company (\w+)"),
        ):
            m = re.search(pattern, text)
            if m:
                found[key] = int(m.group(1)) if m.group(1).isdigit() else m.group(1)
        facts[name] = found
    return facts


def answer_from_corpus(question: str, kind: str, facts: dict[str, dict[str, str | int]]) -> int:
    names = [n for n in re.findall(r"\b[A-Z][a-z]+\b", question) if n in facts]

    def chain3(person: str) -> int:
        company = str(facts[person]["employer"])
        return int(facts[str(facts[company]["city"])]["population"])

    if kind == "attribute":
        return int(facts[names[0]]["population"])
    if kind == "chain2":
        return int(facts[str(facts[names[0]]["city"])]["population"])
    if kind == "chain3":
        return chain3(names[0])
    if kind == "sum":
        return sum(int(facts[str(facts[p]["employer"])]["employees"]) for p in names)
    return chain3(names[0]) - int(facts[names[1]]["age"])


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    assert generate_kb(3) == generate_kb(3)
    assert generate_kb(3).corpus() != generate_kb(4).corpus()
    assert generate_kb(3).questions("train") == generate_kb(3).questions("train")


def test_every_answer_follows_from_the_corpus() -> None:
    kb = generate_kb(0)
    facts = facts_from_corpus(kb.corpus())
    for split in ("train", "test_entity", "test_composition"):
        for q in kb.questions(split):  # type: ignore[arg-type]
            assert answer_from_corpus(q.question, q.kind, facts) == int(q.answer), q


def test_splits_hold_out_entities_and_a_composition() -> None:
    kb = generate_kb(0)
    held = {e.name for e in kb.entities.values() if e.held_out}
    train, entity, composition = (kb.questions(s) for s in ("train", "test_entity", "test_composition"))  # type: ignore[arg-type]
    assert not any(set(q.entities) & held for q in train)
    assert all(set(q.entities) <= held for q in entity)
    assert {q.kind for q in train} == {q.kind for q in entity} == {"attribute", "chain2", "chain3", "sum"}
    assert {q.kind for q in composition} == {"difference"} and not any(set(q.entities) & held for q in composition)
    assert {q.hops for q in train + composition} == {1, 2, 3, 4}


def test_write_kbqa_and_load_task(tmp_path: Path) -> None:
    folder = write_kbqa(tmp_path / "kbqa", seed=1, per_kind=5)
    rows = [json.loads(line) for line in (folder / "test_composition.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and all(r["kind"] == "difference" for r in rows)
    assert len((folder / "corpus.jsonl").read_text().splitlines()) == len(generate_kb(1).entities)
    task = load_task("kbqa", split="test_composition", seed=1)
    assert [e.answer for e in task.examples[:5]] == [r["answer"] for r in rows]
