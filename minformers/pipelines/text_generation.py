"""text-generation: a prompt (or a chat) -> tokens -> ``model.generate`` -> decoded continuation.

Same answers and quirks as transformers' TextGenerationPipeline (4.x):

- one prompt gives ``[{"generated_text": ...}]`` (one dict per returned sequence), a list of prompts a
  list of such lists;
- a chat (a list of ``{"role", "content"}`` dicts) is formatted with the tokenizer's chat template, and
  its ``generated_text`` is the conversation with the assistant's answer appended (or the last
  assistant message continued, ``continue_final_message``); a list of chats gives a list of answers;
- ``return_full_text=False`` keeps only the new text: the text is decoded whole and the decoded prompt's
  length cut off its front (so a character split across the prompt's last token survives);
- ``prefix`` is put in front of the prompt for the model but not shown; ``stop_sequence`` makes each of
  its tokens an end-of-sequence token (the reference's behaviour);
- generation settings follow the reference's priority: call arguments > arguments given to
  ``pipeline()`` > ``config.task_specific_params[task]`` > the model's generation config > the
  pipeline's defaults (``max_new_tokens=256, do_sample=True, temperature=0.7``).

Batching: decoder-only models are padded on the left, with the tokenizer's pad token or, when it has
none, its eos token, so every row's prompt ends where generation starts. The pipeline pads on its own
side: the caller's tokenizer is never changed (its ``padding_side`` and pad token stay as they were).

Streaming: pass ``streamer=TextStreamer(tok)`` (printed as it comes) or a ``TextIteratorStreamer``;
or iterate the pieces with :meth:`TextGenerationPipeline.stream`::

    for piece in generator.stream("Once upon a time", max_new_tokens=40):
        print(piece, end="", flush=True)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from ..generation import GenerationConfig, TextIteratorStreamer
from .base import split_params
from .generation_base import GenerationPipeline, generate_param_names

# tokenizers without a model_max_length carry a huge number instead (the reference's LARGE_INTEGER is 1e20)
_NO_MODEL_MAX_LENGTH = int(1e20)


class Chat:
    """One conversation given as input (a list of role/content messages): kept whole as one item."""

    def __init__(self, messages: Iterable[dict]) -> None:
        messages = list(messages)
        for message in messages:
            if not isinstance(message, dict) or "role" not in message or "content" not in message:
                raise ValueError("a chat is a list of messages, each a dict with 'role' and 'content' keys; "
                                 f"got {message!r}")
        if not messages:
            raise ValueError("a chat needs at least one message")
        self.messages = messages

    def __repr__(self) -> str:
        return f"Chat({self.messages!r})"


def _is_chat(item: Any) -> bool:
    return isinstance(item, (list, tuple)) and len(item) > 0 and isinstance(item[0], dict)


class TextGenerationPipeline(GenerationPipeline):
    task = "text-generation"
    sequence_outputs = ()
    _default_generation = dict(max_new_tokens=256, do_sample=True, temperature=0.7)

    _PIPELINE_PARAMS = ("return_full_text", "return_tensors", "return_text", "return_type",
                        "clean_up_tokenization_spaces", "prefix", "handle_long_generation", "stop_sequence",
                        "truncation", "max_length", "continue_final_message", "skip_special_tokens",
                        "tokenizer_encode_kwargs", "add_special_tokens", "padding")

    def __init__(self, model: Any, tokenizer: Any = None, **kwargs: Any) -> None:
        if getattr(model.config, "is_encoder_decoder", False):
            raise ValueError(f"{type(model).__name__} is an encoder-decoder model: use the 'text2text-generation', "
                             "'summarization' or 'translation' pipeline; text-generation needs a decoder-only model")
        if tokenizer is None:
            raise ValueError("the text-generation pipeline needs a tokenizer")
        super().__init__(model, tokenizer, **kwargs)
        if "prefix" not in self._preprocess_params and self.prefix:
            pre, fwd, _ = self._sanitize_parameters(prefix=self.prefix)
            self._preprocess_params = {**self._preprocess_params, **pre}
            self._forward_params = {**self._forward_params, **fwd}

    # ---- padding: on the left, the pipeline's own (the caller's tokenizer is not changed) ------------------
    def _padding_side(self) -> str:
        return "left"  # every prompt ends where its continuation starts

    def _pad_token_id(self) -> int | None:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        if pad is None and getattr(self.tokenizer, "eos_token", None) is not None:
            pad = self.tokenizer.eos_token_id  # as the reference's advice: pad with the eos token
        return pad

    # ---- parameters ---------------------------------------------------------------------------------
    def _sanitize_parameters(self, **params: Any) -> tuple[dict, dict, dict]:
        groups = split_params(type(self).__name__, params, pipeline=self._PIPELINE_PARAMS,
                              generate=generate_param_names())
        p, generate_kwargs = groups["pipeline"], groups["generate"]
        pre: dict[str, Any] = {}
        for key in ("add_special_tokens", "padding", "truncation", "handle_long_generation",
                    "continue_final_message", "tokenizer_encode_kwargs"):
            if p.get(key) is not None:
                pre[key] = p[key]
        if generate_kwargs.get("max_length") is not None:  # both the tokenizer's and generate()'s, as the reference
            pre["max_length"] = generate_kwargs["max_length"]
        prefix = p.get("prefix")
        if prefix is not None:
            if not isinstance(prefix, str):
                raise TypeError(f"prefix must be a str, got {type(prefix).__name__}")
            pre["prefix"] = prefix
        if prefix:
            ids = self.tokenizer(prefix, add_special_tokens=bool(p.get("add_special_tokens", False)))["input_ids"]
            generate_kwargs["prefix_length"] = len(ids)
        if p.get("handle_long_generation") not in (None, "hole"):
            raise ValueError(f"{p['handle_long_generation']!r} is not a valid value for handle_long_generation: "
                             "use None or 'hole'")
        stop = p.get("stop_sequence")
        if stop is not None:
            if not isinstance(stop, str) or not stop:
                raise ValueError(f"stop_sequence must be a non-empty str, got {stop!r}")
            generate_kwargs["eos_token_id"] = self.tokenizer.encode(stop, add_special_tokens=False)

        post: dict[str, Any] = {}
        return_type = p.get("return_type")
        if p.get("return_full_text") is not None and return_type is None:
            if p.get("return_text") is not None:
                raise ValueError("`return_text` is mutually exclusive with `return_full_text`")
            if p.get("return_tensors") is not None:
                raise ValueError("`return_full_text` is mutually exclusive with `return_tensors`")
            return_type = "full_text" if p["return_full_text"] else "new_text"
        if p.get("return_tensors") is not None and return_type is None:
            if p.get("return_text") is not None:
                raise ValueError("`return_text` is mutually exclusive with `return_tensors`")
            return_type = "tensors"
        if return_type is not None:
            post["return_type"] = _return_type(return_type)
        for key in ("clean_up_tokenization_spaces", "continue_final_message", "skip_special_tokens"):
            if p.get(key) is not None:
                post[key] = p[key]
        return pre, generate_kwargs, post

    # ---- calling ------------------------------------------------------------------------------------
    def __call__(self, text_inputs: Any, *args: Any, **params: Any) -> Any:
        """Continue one prompt, a list of prompts, one chat, a list of chats, or a stream of them."""
        if isinstance(text_inputs, Chat):
            pass
        elif _is_chat(text_inputs):
            text_inputs = Chat(text_inputs)
        elif isinstance(text_inputs, (list, tuple)) and text_inputs and _is_chat(text_inputs[0]):
            text_inputs = [Chat(c) for c in text_inputs]
        elif isinstance(text_inputs, tuple):
            text_inputs = list(text_inputs)
        elif not isinstance(text_inputs, (str, list)) and self._is_stream(text_inputs):
            text_inputs = (Chat(c) if _is_chat(c) else c for c in text_inputs)
        return super().__call__(text_inputs, *args, **params)

    def stream(self, text_input: Any, *, skip_prompt: bool = True, timeout: float | None = None,
               **params: Any) -> Iterator[str]:
        """Yield the generated text piece by piece (a word at a time) while generation runs in a thread.

        One prompt or chat; the call parameters are those of ``__call__`` (beam search cannot stream).
        The full answer is in ``self.last_result`` once the iteration ends.
        """
        if isinstance(text_input, list) and text_input and not _is_chat(text_input):
            raise ValueError("stream() takes one prompt or one chat, not a list of them")
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=skip_prompt, timeout=timeout,
                                        skip_special_tokens=True)
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["result"] = self(text_input, streamer=streamer, **params)
            except BaseException as e:  # handed to the caller's thread below
                box["error"] = e
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        yield from streamer
        thread.join()
        if "error" in box:
            raise box["error"]
        self.last_result = box["result"]

    # ---- the three steps ----------------------------------------------------------------------------
    def preprocess(self, prompt: Any, prefix: str = "", handle_long_generation: str | None = None,
                   add_special_tokens: bool | None = None, truncation: Any = None, padding: Any = None,
                   max_length: int | None = None, continue_final_message: bool | None = None,
                   tokenizer_encode_kwargs: dict | None = None,
                   generation_config: GenerationConfig | None = None) -> dict[str, Any]:
        tok_kwargs = {k: v for k, v in {"add_special_tokens": add_special_tokens, "truncation": truncation,
                                        "padding": padding}.items() if v is not None}
        if max_length is not None and truncation:
            tok_kwargs["max_length"] = max_length
        tok_kwargs.update(tokenizer_encode_kwargs or {})
        # padding is the pipeline's (on its side, with its pad token), not asked of the caller's tokenizer
        pad_kwargs = {k: tok_kwargs.pop(k) for k in ("padding", "pad_to_multiple_of", "padding_side") if k in tok_kwargs}
        if pad_kwargs.get("padding", False) is not False and tok_kwargs.get("truncation") is None \
                and tok_kwargs.get("max_length") is not None:
            tok_kwargs["truncation"] = False  # a tokenizer asked to pad does not truncate to max_length unasked
        if isinstance(prompt, Chat):
            tok_kwargs.pop("add_special_tokens", None)  # a chat template places its own special tokens
            if continue_final_message is None:
                continue_final_message = prompt.messages[-1]["role"] == "assistant"
            enc = self.tokenizer.apply_chat_template(prompt.messages, add_generation_prompt=not continue_final_message,
                                                     continue_final_message=continue_final_message,
                                                     return_dict=True, **tok_kwargs)
        elif isinstance(prompt, str):
            enc = self.tokenizer(prefix + prompt, **tok_kwargs)
        else:
            raise TypeError("text-generation takes a str, a chat (a list of {'role', 'content'} dicts), or a list "
                            f"of them; got {type(prompt).__name__}")
        ids = list(enc["input_ids"])
        mask = list(enc["attention_mask"]) if "attention_mask" in enc else [1] * len(ids)
        if pad_kwargs.get("padding") is not None:
            ids, mask = self._pad_prompt(ids, mask, max_length=tok_kwargs.get("max_length"), **pad_kwargs)
        from_nothing = False
        if not ids:  # the reference generates from the BOS token
            bos = self.generation_config.bos_token_id
            if bos is None:
                raise ValueError("the prompt is empty and the model has no bos_token_id to start from: give a "
                                 "non-empty prompt")
            ids, mask, from_nothing = [bos], [1], True
        if handle_long_generation == "hole":
            ids, mask = self._hole(ids, mask, generation_config or self.generation_config)
        self._check_prompt_length(len(ids), truncation, max_length)
        return {"input_ids": ids, "attention_mask": mask, "prompt_text": prompt, "from_nothing": from_nothing}

    def _check_prompt_length(self, n: int, truncation: Any, max_length: int | None) -> None:
        """A prompt longer than the model's positions fails here, with advice that works for what was passed.

        The advice names max_length and max_new_tokens together: in this pipeline max_length is both the
        prompt's truncation length and (without max_new_tokens) the total length, as in the reference.
        """
        limit = getattr(self.model.config, "max_position_embeddings", None)
        if limit is None or n <= limit:
            return
        fit = f"max_length=M and max_new_tokens=N with M + N at most {limit + 1}"
        if truncation in (None, False, "do_not_truncate"):
            advice = (f"pass truncation=True, {fit} (it keeps the prompt's start), or handle_long_generation='hole' "
                      "(it keeps the prompt's end), or shorten the text")
        elif max_length is None:
            advice = (f"truncation={truncation!r} alone did not shorten it (the tokenizer has no model_max_length to "
                      f"cut to): add {fit}")
        elif max_length > limit:
            advice = f"max_length={max_length} is more than the model's {limit} positions: pass {fit}"
        else:
            advice = f"truncation={truncation!r} did not cut it to max_length={max_length}: pass truncation=True"
        raise ValueError(f"The prompt is {n} tokens long, but the model {type(self.model).__name__} accepts at most "
                         f"{limit} positions; {advice}.")

    def _pad_prompt(self, ids: list, mask: list, padding: Any, max_length: int | None,
                    pad_to_multiple_of: int | None = None, padding_side: str | None = None) -> tuple[list, list]:
        """One prompt padded as the tokenizer would pad it (``padding=True``/"longest", "max_length",
        ``pad_to_multiple_of``), on the left, with the pipeline's pad token (the eos token when the tokenizer has
        no pad token)."""
        strategy = getattr(padding, "value", padding)
        strategy = "longest" if strategy is True else "do_not_pad" if strategy is False else strategy
        if strategy == "do_not_pad":
            return ids, mask
        if strategy == "longest":
            max_length = len(ids)
        elif max_length is None:  # "max_length" without one: the tokenizer's, when it has a real one
            limit = getattr(self.tokenizer, "model_max_length", None)
            if limit is None or limit > _NO_MODEL_MAX_LENGTH:
                return ids, mask
            max_length = limit
        pad = self._pad_token_id()
        if pad is None:
            raise ValueError("padding was asked for, but the tokenizer has neither a pad token nor an eos token")
        if pad_to_multiple_of and max_length % pad_to_multiple_of:
            max_length = (max_length // pad_to_multiple_of + 1) * pad_to_multiple_of
        n = max_length - len(ids)
        if n <= 0:
            return ids, mask
        if (padding_side or self._padding_side()) == "left":
            return [pad] * n + ids, [0] * n + mask
        return ids + [pad] * n, mask + [0] * n

    def _hole(self, ids: list, mask: list, generation_config: GenerationConfig) -> tuple[list, list]:
        """Cut the prompt's left so that prompt + new tokens fit the model (handle_long_generation='hole')."""
        # the tokenizer's model_max_length (as the reference), but never more than the model's positions: an
        # unset model_max_length (a huge number) made the reference keep the whole prompt and fail in the model
        limits = [getattr(self.tokenizer, "model_max_length", None),
                  getattr(self.model.config, "max_position_embeddings", None)]
        limit = min((x for x in limits if x), default=None)
        new = generation_config.max_new_tokens
        if new is None:
            new = generation_config.max_length - len(ids)
            if new < 0:
                raise ValueError("We cannot infer how many new tokens are expected")
        if limit is not None and len(ids) + new > limit:
            keep = limit - new
            if keep <= 0:
                raise ValueError("We cannot use `hole` to handle this generation: the number of new tokens asked "
                                 "for exceeds the model's max length")
            ids, mask = ids[-keep:], mask[-keep:]
        return ids, mask

    def _preprocess_lengths(self, pre: dict, cfg: GenerationConfig) -> dict:
        return {**pre, "generation_config": cfg} if pre.get("handle_long_generation") == "hole" else pre

    def _forward(self, batch: dict[str, torch.Tensor], generation_config: GenerationConfig, streamer: Any = None,
                 asked_max_length: bool = False) -> dict[str, torch.Tensor]:
        B, T = batch["input_ids"].shape  # left padded
        seqs = self._generate(batch, generation_config, streamer, asked_max_length)  # (B * n, S)
        n = seqs.shape[0] // B
        return {"new_tokens": seqs[:, T:].reshape(B, n, -1)}  # (B, n, S - T)

    def postprocess(self, outputs: dict, return_type: str = "full_text", clean_up_tokenization_spaces: bool = True,
                    continue_final_message: bool | None = None, skip_special_tokens: bool | None = None) -> list:
        prompt_ids = list(outputs["input_ids"])
        prompt = outputs["prompt_text"]
        skip = True if skip_special_tokens is None else skip_special_tokens
        decode = lambda ids: self.tokenizer.decode(ids, skip_special_tokens=skip,  # noqa: E731
                                                   clean_up_tokenization_spaces=clean_up_tokenization_spaces)
        prompt_length = 0 if outputs["from_nothing"] else len(decode(prompt_ids))
        records = []
        for new in outputs["new_tokens"].tolist():
            sequence = prompt_ids + new
            if return_type == "tensors":
                records.append({"generated_token_ids": sequence})
                continue
            text = decode(sequence)[prompt_length:]
            if return_type == "full_text":
                if isinstance(prompt, str):
                    text = prompt + text
                else:  # a chat: the conversation with the answer
                    cont = continue_final_message
                    if cont is None:
                        cont = prompt.messages[-1]["role"] == "assistant"
                    if cont:
                        last = prompt.messages[-1]
                        text = list(prompt.messages[:-1]) + [{"role": last["role"], "content": last["content"] + text}]
                    else:
                        text = list(prompt.messages) + [{"role": "assistant", "content": text}]
            records.append({"generated_text": text})
        return records


def _return_type(value: Any) -> str:
    """'full_text' / 'new_text' / 'tensors' (also the reference's ReturnType enum members)."""
    name = str(getattr(value, "name", value)).lower()
    if name not in ("full_text", "new_text", "tensors"):
        raise ValueError(f"return_type must be 'full_text', 'new_text' or 'tensors', got {value!r}")
    return name
