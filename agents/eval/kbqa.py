"""kbqa: a synthetic knowledge base, a retrieval corpus made from it, and 1-4-hop questions.

The entities are invented (names from syllables), so no model knows the answers: a question is
answered only by retrieving facts from the corpus and, for compositions, doing arithmetic. Answers
are exact integers. Everything is fixed by the seed.

    kb = generate_kb(seed=0)
    corpus = kb.corpus()                       # one passage per entity
    questions = kb.questions(split="test_entity")

Kinds of question (hops = facts to retrieve along the longest chain):
    attribute    the population of city C                                     1 hop
    chain2       the population of the city where company K has its head office  2 hops
    chain3       the population of the city where the employer of P has its head office  3 hops
    difference   chain3 of P minus the age of another person Q                          4 hops
    sum          the employees of the employers of P and Q, added                       2 hops

Splits: entities are divided (seeded) into seen and held-out ones; `train` asks about seen entities
with the kinds `attribute`, `chain2`, `chain3`, `sum`; `test_entity` asks those kinds about held-out
entities; `test_composition` asks the held-out kind `difference` about seen entities (a composition never
trained on).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["KB", "Entity", "KBQuestion", "Split", "generate_kb", "write_kbqa"]

Split = Literal["train", "test_entity", "test_composition"]
_SYLLABLES = ["var", "no", "tel", "ka", "mir", "osa", "dun", "be", "qua", "ris", "lo", "zen", "fa", "gor", "ith", "pel"]
_TRAIN_KINDS = ("attribute", "chain2", "chain3", "sum")


class Entity(BaseModel):
    name: str
    kind: Literal["city", "company", "person"]
    attributes: dict[str, int] = Field(default_factory=dict)
    relations: dict[str, str] = Field(default_factory=dict)  # relation -> entity name
    held_out: bool = False

    def passage(self) -> str:
        """The entity's facts in prose, as the retrieval corpus holds them."""
        a, r = self.attributes, self.relations
        if self.kind == "city":
            return f"{self.name} is a city with a population of {a['population']} thousand people."
        if self.kind == "company":
            return (
                f"{self.name} is a company founded in {a['founded']}. It has {a['employees']} employees "
                f"and its head office is in the city of {r['headquartered_in']}."
            )
        return f"{self.name} is a person aged {a['age']}. {self.name} works for the company {r['works_for']}."


class KBQuestion(BaseModel):
    id: str
    question: str
    answer: str
    kind: str
    hops: int
    split: Split
    entities: list[str]


class KB(BaseModel):
    seed: int
    entities: dict[str, Entity]

    def corpus(self) -> list[dict[str, str]]:
        return [{"title": e.name, "text": e.passage()} for e in self.entities.values()]

    def of_kind(self, kind: str, held_out: bool) -> list[Entity]:
        return [e for e in self.entities.values() if e.kind == kind and e.held_out == held_out]

    def chain3(self, person: Entity) -> tuple[int, str]:
        company = self.entities[person.relations["works_for"]]
        city = self.entities[company.relations["headquartered_in"]]
        return city.attributes["population"], city.name

    def questions(self, split: Split, per_kind: int = 25) -> list[KBQuestion]:
        """Questions of `split`, `per_kind` of each kind it has (fewer when entities run out)."""
        rng = random.Random(f"{self.seed}:{split}")
        held = split == "test_entity"
        kinds = ("difference",) if split == "test_composition" else _TRAIN_KINDS
        out: list[KBQuestion] = []
        for kind in kinds:
            for i in range(per_kind):
                q = self._question(kind, rng, held)
                out.append(q.model_copy(update={"id": f"kbqa-{split}-{kind}-{i}", "split": split}))
        return out

    def _question(self, kind: str, rng: random.Random, held: bool) -> KBQuestion:
        cities, companies, people = (self.of_kind(k, held) for k in ("city", "company", "person"))
        if kind == "attribute":
            c = rng.choice(cities)
            return _q(
                f"What is the population, in thousands, of the city {c.name}?", c.attributes["population"], kind, 1, [c]
            )
        if kind == "chain2":
            k = rng.choice(companies)
            city = self.entities[k.relations["headquartered_in"]]
            text = f"What is the population, in thousands, of the city where the company {k.name} has its head office?"
            return _q(text, city.attributes["population"], kind, 2, [k, city])
        if kind == "chain3":
            p = rng.choice(people)
            value, _ = self.chain3(p)
            text = (
                f"What is the population, in thousands, of the city where the head office of the company "
                f"that {p.name} works for is?"
            )
            return _q(text, value, kind, 3, [p])
        if kind == "sum":
            p, q = rng.sample(people, 2)
            a, b = (self.entities[x.relations["works_for"]] for x in (p, q))
            text = f"How many employees do the employers of {p.name} and of {q.name} have together (add the two)?"
            return _q(text, a.attributes["employees"] + b.attributes["employees"], kind, 2, [p, q])
        p = rng.choice(people)
        other = rng.choice([x for x in people if x.name != p.name])
        value, _ = self.chain3(p)
        text = (
            f"Take the population, in thousands, of the city where the head office of {p.name}'s employer is, "
            f"and subtract the age of {other.name}. What is the result?"
        )
        return _q(text, value - other.attributes["age"], "difference", 4, [p, other])


def _q(text: str, value: int, kind: str, hops: int, entities: list[Entity]) -> KBQuestion:
    return KBQuestion(
        id="",
        question=text,
        answer=str(value),
        kind=kind,
        hops=hops,
        split="train",
        entities=[e.name for e in entities],
    )


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def generate_kb(seed: int = 0, *, cities: int = 12, companies: int = 20, people: int = 40, held_out: float = 0.3) -> KB:
    """A knowledge base fixed by `seed`; `held_out` of each kind's entities are kept for the entity split.

    Held-out people work for held-out companies headquartered in held-out cities, so a held-out
    question never needs a seen entity.
    """
    rng = random.Random(seed)
    taken: set[str] = set()
    made: dict[str, Entity] = {}

    def split_names(names: list[str]) -> tuple[list[str], list[str]]:
        cut = max(2, round(len(names) * held_out))
        return names[cut:], names[:cut]

    city_seen, city_held = split_names(_names(rng, cities, taken))
    for name in city_seen + city_held:
        made[name] = Entity(
            name=name, kind="city", attributes={"population": rng.randint(50, 900)}, held_out=name in city_held
        )
    comp_seen, comp_held = split_names(_names(rng, companies, taken))
    for name in comp_seen + comp_held:
        home = rng.choice(city_held if name in comp_held else city_seen)
        made[name] = Entity(
            name=name,
            kind="company",
            attributes={"employees": rng.randint(10, 5000), "founded": rng.randint(1850, 2020)},
            relations={"headquartered_in": home},
            held_out=name in comp_held,
        )
    people_seen, people_held = split_names(_names(rng, people, taken))
    for name in people_seen + people_held:
        employer = rng.choice(comp_held if name in people_held else comp_seen)
        made[name] = Entity(
            name=name,
            kind="person",
            attributes={"age": rng.randint(20, 70)},
            relations={"works_for": employer},
            held_out=name in people_held,
        )
    return KB(seed=seed, entities=made)


def write_kbqa(folder: str | Path, seed: int = 0, per_kind: int = 25) -> Path:
    """Write `corpus.jsonl` and one `<split>.jsonl` per split into `folder`; returns the folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    kb = generate_kb(seed)
    lines = [json.dumps(row) for row in kb.corpus()]
    (out / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    splits: tuple[Split, ...] = ("train", "test_entity", "test_composition")
    for split in splits:
        rows = [q.model_dump_json() for q in kb.questions(split, per_kind)]
        (out / f"{split}.jsonl").write_text("\n".join(rows) + "\n")
    return out
