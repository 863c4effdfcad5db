"""A GGUF file's tokenizer: its ``tokenizer.ggml.*`` fields -> the five stages.

The reference's GGUF converter (``transformers/integrations/ggml.py``) builds
these; ``LlamaTokenizerFast`` (:mod:`.llama`) wraps the result. The file itself
is read by ``minformers.weights.gguf``.
"""

from __future__ import annotations

from typing import Any

from .core.byte_level import ByteLevel
from .core.models.bpe import BPE
from .core.serialization import decoder_from_dict, normalizer_from_dict
from .core.tokenizer import AddedToken, Tokenizer


def gguf_tokenizer(fields: dict[str, Any]) -> tuple[Tokenizer, dict[str, Any]]:
    """GGUF ``tokenizer.ggml.*`` (model "gpt2") -> (Tokenizer, init kwargs), as the reference converts it.

    The reference builds Llama-family GGUF files as a byte-level BPE with
    ``byte_fallback``/``fuse_unk`` and a ``ByteFallback, Fuse, Replace, ByteLevel``
    decoder; control tokens (``token_type == 3``) become special added tokens.
    Its converter swaps the bos/eos names and ``LlamaTokenizerFast`` then adds a
    bos at the start: we reproduce the resulting tokenizer, quirks included.
    """
    if fields.get("model") != "gpt2":
        raise ValueError(f"GGUF tokenizer model {fields.get('model')!r} is not supported here (only 'gpt2' byte-level BPE)")
    tokens = list(fields["tokens"])
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m.split(" ", 1)) for m in fields.get("merges") or []]
    name = lambda key: tokens[fields[key]] if fields.get(key) is not None else None  # noqa: E731
    unk = name("unknown_token_id")
    tok = Tokenizer(
        BPE(vocab, merges, unk_token=unk, fuse_unk=True, byte_fallback=True),
        normalizer=normalizer_from_dict({"type": "Sequence", "normalizers": []}),
        pre_tokenizer=ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=True),
        decoder=decoder_from_dict({"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        ]}),
    )
    types = fields.get("token_type") or []
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False) for i, t in enumerate(types) if t == 3])
    bos = name("bos_token_id")  # the reference ends with bos == eos == tokens[bos_token_id]
    init = {"unk_token": unk, "bos_token": bos, "eos_token": bos, "clean_up_tokenization_spaces": True, "legacy": True}
    if fields.get("chat_template"):
        init["chat_template"] = fields["chat_template"]
    return tok, init
