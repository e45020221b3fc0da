"""A tiny transformers causal LM built on this machine: random Qwen2 weights and a locally trained tokenizer.

Nothing can be downloaded in tests, demos or GPU checks, yet their code paths need a real model folder
(`from_pretrained`, `apply_chat_template`, `generate`). `build_tiny_causal_lm` writes one from a config:

    folder = build_tiny_causal_lm(Path("tiny"), ["Tool Name: retrieve", "Paris is in France."],
                                  vocab_size=300, hidden=64, layers=2)
    model = AutoModelForCausalLM.from_pretrained(folder)

The tokenizer is byte-level BPE trained on `corpus`, with the ChatML template Qwen2 uses. `words` are added
as single tokens (a whole planner action can be one decision). `alphabet=None` keeps all 256 bytes (any text
encodes); an int caps the alphabet at that many characters of the corpus (a smaller vocabulary, where the rest
of the text reads as `<unk>`, one per run of unknown characters), `alphabet=0` leaving only the special tokens and `words`.
torch, tokenizers and transformers are imported inside the function.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "build_tiny_causal_lm"]

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ("<unk>", "<|im_start|>", "<|im_end|>", "<|endoftext|>")


def build_tiny_causal_lm(
    folder: Path,
    corpus: Sequence[str],
    *,
    vocab_size: int = 300,
    hidden: int = 64,
    layers: int = 2,
    heads: int | None = None,
    kv_heads: int | None = None,
    intermediate: int | None = None,
    max_positions: int = 512,
    embeddings: int | None = None,
    words: Sequence[str] = (),
    alphabet: int | None = None,
    seed: int = 0,
    dtype: str = "float32",
) -> Path:
    """Writes a random Qwen2-shaped model and its tokenizer to `folder` (created) and returns `folder`.

    `heads` defaults to hidden // 16 (at least 1), `kv_heads` to half as many, `intermediate` to
    2 * hidden (Qwen2.5-0.5B: hidden 896, layers 24, heads 14, kv_heads 2, intermediate 4864). `embeddings`
    sets the embedding rows when they should outnumber the tokenizer's ids (Qwen2.5 pads to 151936). The same arguments give the same tokenizer and weights.
    """
    import torch
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    bpe = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))  # an unknown word is one <unk>
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    if alphabet is None:
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=list(SPECIAL_TOKENS),
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
    else:
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), limit_alphabet=alphabet
        )
    bpe.train_from_iterator(list(corpus), trainer)
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=bpe, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    if words:
        tokenizer.add_tokens([AddedToken(w, normalized=False, special=False) for w in dict.fromkeys(words)])
    tokenizer.chat_template = CHAT_TEMPLATE
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(folder)
    n_heads = heads or max(1, hidden // 16)
    config = Qwen2Config(
        vocab_size=max(embeddings or 0, len(tokenizer)),
        hidden_size=hidden,
        intermediate_size=intermediate or 2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=n_heads,
        num_key_value_heads=kv_heads or max(1, n_heads // 2),
        max_position_embeddings=max_positions,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).to(getattr(torch, dtype))
    model.save_pretrained(folder)
    return folder
