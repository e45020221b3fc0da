"""aiflows.llm.tiny: a random Qwen2 and a locally trained tokenizer, loadable by transformers' own classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows.llm.tiny import build_tiny_causal_lm

pytest.importorskip("transformers")

ACTIONS = ["Tool Name: retrieve\nSub-Goal: entity 1", "Tool Name: finish\nSub-Goal: answer"]


def test_a_folder_transformers_loads_with_the_chat_template_and_whole_words(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    corpus = ["Paris is the capital of France.", "Tool Name: retrieve"] * 20
    folder = build_tiny_causal_lm(tmp_path / "m", corpus, vocab_size=300, hidden=32, layers=1, words=ACTIONS, seed=3)
    tok = PreTrainedTokenizerFast.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.model_type == "qwen2" and model.config.vocab_size == len(tok)
    ids = tok.apply_chat_template([{"role": "user", "content": "é ✓ Paris"}], add_generation_prompt=True)
    ids = ids["input_ids"] if not isinstance(ids, list) else ids
    assert tok.unk_token_id not in ids  # byte-level: any text encodes
    assert tok.decode(ids) == "<|im_start|>user\né ✓ Paris<|im_end|>\n<|im_start|>assistant\n"
    for action in ACTIONS:  # each word is one token
        assert len(tok(action)["input_ids"]) == 1 and tok.decode(tok(action)["input_ids"]) == action
    again = build_tiny_causal_lm(tmp_path / "n", corpus, vocab_size=300, hidden=32, layers=1, words=ACTIONS, seed=3)
    same = AutoModelForCausalLM.from_pretrained(again)
    for (name, a), b in zip(model.state_dict().items(), same.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_alphabet_zero_leaves_only_the_specials_and_the_words(tmp_path: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    folder = build_tiny_causal_lm(tmp_path / "w", ACTIONS, vocab_size=0, hidden=16, layers=1, words=ACTIONS, alphabet=0)
    tok = PreTrainedTokenizerFast.from_pretrained(folder)
    assert len(tok) == 4 + len(ACTIONS)
    assert tok("some unknown words")["input_ids"] == [tok.unk_token_id] * 3  # one <unk> per word
