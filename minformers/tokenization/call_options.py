"""What a tokenizer call accepts, checked before any text is encoded.

:meth:`~.tokenization_utils.PreTrainedTokenizerFast.__call__` reads as
*check the arguments -> encode -> pad -> BatchEncoding*; the first step lives
here: the keyword names each entry point takes, the input checks (types, lone
surrogates, bytes given as text, text/pair batch shapes) and transformers'
``_get_padding_truncation_strategies`` (same defaults, warnings and errors).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from typing import Any, Iterable

logger = logging.getLogger("minformers.tokenization")

VERY_LARGE_INTEGER = int(1e30)  # transformers' "no limit" model_max_length
LARGE_INTEGER = int(1e20)

# -- keyword names ------------------------------------------------------------------------------

_INIT_KWARGS = (
    "model_max_length", "padding_side", "truncation_side", "model_input_names", "clean_up_tokenization_spaces",
    "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
    "additional_special_tokens", "name_or_path", "split_special_tokens", "chat_template", "added_tokens_decoder",
)
_BERT_KWARGS = ("do_lower_case", "tokenize_chinese_chars", "strip_accents", "wordpieces_prefix")
# GPT-2 / RoBERTa / Llama options (accepted by those classes only: see their ``_extra_kwargs``)
_BPE_KWARGS = ("add_prefix_space", "trim_offsets", "errors", "add_bos_token", "add_eos_token", "legacy",
               "use_default_system_prompt", "spaces_between_special_tokens", "sp_model_kwargs")
_FROM_PRETRAINED_KWARGS = (
    "cache_dir", "force_download", "local_files_only", "token", "revision", "subfolder",
    "use_fast", "trust_remote_code", "tokenizer_type", "use_auth_token", "proxies", "_from_auto",
    "tokenizer_file", "vocab_file", "merges_file", "gguf_file",
)
_CALL_KWARGS = (
    "text", "text_pair", "add_special_tokens", "padding", "truncation", "max_length", "stride",
    "is_split_into_words", "pad_to_multiple_of", "padding_side", "return_tensors", "return_token_type_ids",
    "return_attention_mask", "return_overflowing_tokens", "return_special_tokens_mask", "return_offsets_mapping",
    "return_length", "verbose",
)


def _unknown_kwargs(where: str, given: Mapping[str, Any], valid: Iterable[str]) -> None:
    if given:
        raise TypeError(
            f"{where} got unexpected keyword argument(s) {sorted(given)}; valid names are: {', '.join(sorted(valid))}"
        )


def call_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The tokenizer-call options in `kwargs` (taken out of it); anything else left in it is refused."""
    known = {k: kwargs.pop(k) for k in list(kwargs) if k in _CALL_KWARGS}
    for ignored in ("text_target", "text_pair_target"):
        if kwargs.get(ignored) is not None:
            raise TypeError(f"{ignored} is not supported by minformers tokenizers yet")
        kwargs.pop(ignored, None)
    _unknown_kwargs("tokenizer call", kwargs, _CALL_KWARGS)
    return known


# -- the texts ------------------------------------------------------------------------------------

_ACCEPTED = "a str, a list of str (a batch, or one pre-split text with is_split_into_words=True) or a list of lists of str"


def _describe(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        inner = sorted({type(v).__name__ for v in x})
        return f"{type(x).__name__}[{' | '.join(inner) or 'empty'}]"
    return type(x).__name__


_SURROGATE = re.compile("[\ud800-\udfff]")


def _find_surrogate(value: Any) -> tuple[tuple[int, ...], re.Match] | None:
    if isinstance(value, str):
        m = None if value.isascii() else _SURROGATE.search(value)
        return ((), m) if m is not None else None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            hit = _find_surrogate(v)
            if hit is not None:
                return (i,) + hit[0], hit[1]
    return None


def _check_unicode(value: Any, name: str) -> None:
    """A lone surrogate (U+D800..U+DFFF: half a UTF-16 pair, or a byte kept by ``errors='surrogateescape'``)
    is not text and has no UTF-8 form. The reference's Rust backend refuses it with an opaque
    ``TypeError: TextEncodeInput must be Union[...]``; same type here, saying where it is."""
    hit = _find_surrogate(value)
    if hit is not None:
        path, m = hit
        where = name + "".join(f"[{i}]" for i in path)
        raise TypeError(
            f"{where} contains a lone surrogate {m.group()!r} at position {m.start()}: it is not valid Unicode and "
            "cannot be tokenized. The text was decoded wrongly somewhere (half of a UTF-16 surrogate pair, or bytes "
            "read with errors='surrogateescape'); fix its encoding, e.g. "
            "text.encode('utf-16', 'surrogatepass').decode('utf-16', 'replace') joins the halves of a pair and "
            "replaces lone ones with U+FFFD."
        )


def _bytes_hint(value: Any) -> str:
    """For bytes given as text: how to decode them, and where they are not UTF-8."""
    data = value if isinstance(value, (bytes, bytearray)) else next(
        (v for v in value if isinstance(v, (bytes, bytearray))), None) if isinstance(value, (list, tuple)) else None
    if data is None:
        return ""
    try:
        bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        return (f", which are not even valid UTF-8 ({e.reason}: {bytes(data[e.start:e.start + 1])!r} at byte {e.start}); "
                "decode them to str with their real encoding, or with data.decode('utf-8', errors='replace')")
    return "; decode bytes to str first, e.g. data.decode('utf-8')"


def _is_valid(text: Any) -> bool:
    if isinstance(text, str):
        return True
    if isinstance(text, (list, tuple)):
        if len(text) == 0:
            return True
        first = text[0]
        if isinstance(first, str):
            return all(isinstance(t, str) for t in text)
        if isinstance(first, (list, tuple)):
            return all(isinstance(t, (list, tuple)) and all(isinstance(w, str) for w in t) for t in text)
    return False


def text_inputs(text: Any, text_pair: Any, is_split_into_words: bool) -> tuple[bool, list[tuple[Any, Any]]]:
    """Checked `text`/`text_pair` -> (batched, [(text, pair or None), …]), as transformers reads them."""
    for name, value in (("text", text), ("text_pair", text_pair)):
        if value is not None and not _is_valid(value):
            raise TypeError(f"{name} must be {_ACCEPTED}; got {_describe(value)}{_bytes_hint(value)}")
        _check_unicode(value, name)
    if is_split_into_words:
        batched = isinstance(text, (list, tuple)) and len(text) > 0 and isinstance(text[0], (list, tuple))
    else:
        batched = isinstance(text, (list, tuple))
    if not batched:
        return False, [(text, text_pair or None)]  # an empty pair means no pair, as the reference (single input only)
    if text_pair is not None:
        if not isinstance(text_pair, (list, tuple)) or len(text_pair) != len(text):
            raise ValueError(
                f"batch length of `text`: {len(text)} does not match batch length of `text_pair`: "
                f"{len(text_pair) if isinstance(text_pair, (list, tuple)) else 'not a list'}."
            )
        return True, list(zip(text, text_pair))
    if not is_split_into_words and any(isinstance(t, (list, tuple)) for t in text):
        # a batch of (text, pair) tuples, as the reference accepts
        if not all(isinstance(t, (list, tuple)) and len(t) == 2 for t in text):
            raise TypeError(f"text must be {_ACCEPTED}, or a list of (text, text_pair) tuples; got {_describe(text)}")
        return True, [(t[0], t[1]) for t in text]
    return True, [(t, None) for t in text]


# -- padding and truncation -------------------------------------------------------------------------

_TRUNCATION = {
    True: "longest_first", "longest_first": "longest_first", "only_first": "only_first",
    "only_second": "only_second", False: None, None: None, "do_not_truncate": None,
}
_PADDING = {True: "longest", "longest": "longest", "max_length": "max_length", False: None, None: None, "do_not_pad": None}


def _warn_once(tok: Any, key: str, message: str) -> None:
    """Log `message` the first time `key` comes up for this tokenizer (transformers' ``deprecation_warnings``)."""
    if not tok.deprecation_warnings.get(key):
        logger.warning(message)
        tok.deprecation_warnings[key] = True


def strategies(
    tok: Any, padding: Any, truncation: Any, max_length: int | None, pad_to_multiple_of: int | None, verbose: bool
) -> tuple[str | None, str | None, int | None]:
    """transformers' ``_get_padding_truncation_strategies``, same defaults and warnings:
    (padding strategy, truncation strategy, max_length) for tokenizer `tok`."""
    if max_length is not None and padding is False and truncation is None:
        if verbose:
            _warn_once(
                tok, "Truncation-not-explicitly-activated",
                "Truncation was not explicitly activated but `max_length` is provided a specific value, please use "
                "`truncation=True` to explicitly truncate examples to max length. Defaulting to 'longest_first' "
                "truncation strategy. If you encode pairs of sequences (GLUE-style) with the tokenizer you can "
                "select this strategy more precisely by providing a specific strategy to `truncation`.",
            )
        truncation = "longest_first"
    try:
        pad = _PADDING[padding.value if hasattr(padding, "value") else padding]
    except (KeyError, TypeError):
        raise ValueError(f"padding={padding!r} is not valid; use True, False, 'longest', 'max_length' or 'do_not_pad'") from None
    try:
        trunc = _TRUNCATION[truncation.value if hasattr(truncation, "value") else truncation]
    except (KeyError, TypeError):
        raise ValueError(
            f"truncation={truncation!r} is not valid; use True, False, 'longest_first', 'only_first', 'only_second' "
            "or 'do_not_truncate'"
        ) from None
    if padding is True and verbose and max_length is not None and trunc is None:
        warnings.warn(
            "`max_length` is ignored when `padding`=`True` and there is no truncation strategy. "
            "To pad to max length, use `padding='max_length'`."
        )
    if max_length is None:
        if pad == "max_length":
            if tok.model_max_length > LARGE_INTEGER:
                if verbose:
                    _warn_once(
                        tok, "Asking-to-pad-to-max_length",
                        "Asking to pad to max_length but no maximum length is provided and the model has no "
                        "predefined maximum length. Default to no padding.",
                    )
                pad = None
            else:
                max_length = tok.model_max_length
        if trunc is not None:
            if tok.model_max_length > LARGE_INTEGER:
                if verbose:
                    _warn_once(
                        tok, "Asking-to-truncate-to-max_length",
                        "Asking to truncate to max_length but no maximum length is provided and the model has no "
                        "predefined maximum length. Default to no truncation.",
                    )
                trunc = None
            else:
                max_length = tok.model_max_length
    if pad is not None and (tok.pad_token is None or tok.pad_token_id is None or tok.pad_token_id < 0):
        raise ValueError(
            "Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
            "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via "
            "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`."
        )
    if trunc is not None and pad is not None and pad_to_multiple_of is not None and max_length is not None and max_length % pad_to_multiple_of:
        raise ValueError(
            f"Truncation and padding are both activated but truncation length ({max_length}) is not a multiple "
            f"of pad_to_multiple_of ({pad_to_multiple_of})."
        )
    return pad, trunc, max_length


def warn_if_too_long(tok: Any, input_ids: list[list[int]], max_length: int | None, verbose: bool) -> None:
    """Once per tokenizer: a sequence encoded without a length limit is longer than the model takes."""
    key = "sequence-length-is-longer-than-the-specified-maximum"
    if max_length is None and verbose and not tok.deprecation_warnings.get(key):
        for ids in input_ids:
            if len(ids) > tok.model_max_length:
                _warn_once(
                    tok, key,
                    "Token indices sequence length is longer than the specified maximum sequence length for this "
                    f"model ({len(ids)} > {tok.model_max_length}). Running this sequence through the model will "
                    "result in indexing errors",
                )
                break
