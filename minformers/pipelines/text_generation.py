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

Batching: decoder-only models are padded on the left (the tokenizer's ``padding_side`` is set to
"left", and its pad token to the eos token when it has none), so every row's prompt ends where
generation starts.

Streaming: pass ``streamer=TextStreamer(tok)`` (printed as it comes) or a ``TextIteratorStreamer``;
or iterate the pieces with :meth:`TextGenerationPipeline.stream`::

    for piece in generator.stream("Once upon a time", max_new_tokens=40):
        print(piece, end="", flush=True)
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import torch

from ..generation import GenerationConfig
from .base import Pipeline, split_params

# Model inputs generate() takes besides GenerationConfig keys, accepted as call parameters.
GENERATE_EXTRAS = ("streamer", "generation_config")


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


# ---- shared by the generation pipelines (text-generation and the text2text family) ------------------
def pipeline_generation_config(model: Any, tokenizer: Any, task: str, defaults: dict, params: dict
                               ) -> tuple[GenerationConfig, str | None, dict]:
    """The pipeline's own generation config, prefix, and the construction parameters left over.

    Follows the reference (transformers 4.57 ``Pipeline.__init__``): the pipeline's defaults, overridden
    by every value the model's generation config sets away from the global default; then the
    GenerationConfig keys given to ``pipeline()``; then ``config.task_specific_params[task]`` (its
    ``prefix`` is the pipeline's prefix); the tokenizer's pad token when none is set.
    """
    if not callable(getattr(model, "generate", None)):
        raise ValueError(f"the model {type(model).__name__} cannot generate text: the {task!r} pipeline needs a "
                         "model with a language-modelling head (e.g. AutoModelForCausalLM / AutoModelForSeq2SeqLM)")
    glob = GenerationConfig._defaults
    cfg = GenerationConfig(**defaults)
    for key, value in model.generation_config.to_dict().items():
        if key.startswith("_") or key == "transformers_version":
            continue
        if getattr(cfg, key, None) == glob.get(key) and value != glob.get(key):
            setattr(cfg, key, copy.deepcopy(value))
    if cfg.temperature == 0.0:
        cfg.do_sample = False
    given = {k: params.pop(k) for k in list(params) if k in glob}
    rest = cfg.update(**given)
    assert not rest
    if given.get("max_length") is not None and "max_new_tokens" not in given:
        cfg.max_new_tokens = None  # the caller's total length wins over the pipeline's default max_new_tokens
    if defaults.get("max_new_tokens") is not None and cfg.max_new_tokens == defaults["max_new_tokens"] \
            and cfg.max_length is not None and cfg.max_length != glob["max_length"]:
        cfg.max_new_tokens = None  # a model's own max_length wins over the pipeline's default
    prefix = getattr(model.config, "prefix", None)
    task_params = getattr(model.config, "task_specific_params", None) or {}
    if task in task_params:
        this = dict(task_params[task])
        if "prefix" in this:
            prefix = this.pop("prefix")
        cfg.update(**this)
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is not None and cfg.pad_token_id is None:
        cfg.pad_token_id = pad
    return cfg, prefix, params


def check_generate_settings(owner: str, cfg: GenerationConfig, kwargs: dict) -> None:
    """The call's settings over the pipeline's, validated before any work by GenerationConfig.validate (the one
    place generation settings are checked); the error names the pipeline and the setting."""
    merged = copy.deepcopy(cfg)
    merged.update(**{k: v for k, v in kwargs.items() if k in GenerationConfig._defaults})
    try:
        merged.validate()
    except ValueError as e:
        raise ValueError(f"{owner}: {e}") from None
    except NotImplementedError as e:
        raise NotImplementedError(f"{owner}: {e}") from None
    if kwargs.get("streamer") is not None and merged.num_beams > 1:
        raise ValueError(f"{owner}: a streamer cannot be used with beam search (num_beams > 1)")


def honour_max_length(generate_kwargs: dict) -> None:
    """A call's max_length without max_new_tokens wins over the pipeline's default max_new_tokens=256.

    max_length is the total length (the prompt included for a decoder-only model, the decoder's start token
    for an encoder-decoder), which is what the course tells the reader it does. The reference lets its default
    max_new_tokens win, with only a warning: that answer is not what was asked for. When both are given,
    generate() warns and max_new_tokens wins (as the reference).
    """
    if generate_kwargs.get("max_length") is not None and "max_new_tokens" not in generate_kwargs:
        generate_kwargs["max_new_tokens"] = None


def generate_param_names() -> tuple[str, ...]:
    return tuple(GenerationConfig._defaults) + GENERATE_EXTRAS


class TextGenerationPipeline(Pipeline):
    task = "text-generation"
    sequence_outputs = ()
    _default_generation = dict(max_new_tokens=256, do_sample=True, temperature=0.7)

    _PIPELINE_PARAMS = ("return_full_text", "return_tensors", "return_text", "return_type",
                        "clean_up_tokenization_spaces", "prefix", "handle_long_generation", "stop_sequence",
                        "truncation", "max_length", "continue_final_message", "skip_special_tokens",
                        "tokenizer_encode_kwargs", "add_special_tokens", "padding")

    def __init__(self, model: Any, tokenizer: Any = None, **kwargs: Any) -> None:
        task = kwargs.get("task") or self.task
        base = {k: kwargs.pop(k) for k in ("task", "batch_size", "device", "dtype") if k in kwargs}
        if getattr(model.config, "is_encoder_decoder", False):
            raise ValueError(f"{type(model).__name__} is an encoder-decoder model: use the 'text2text-generation', "
                             "'summarization' or 'translation' pipeline; text-generation needs a decoder-only model")
        if tokenizer is None:
            raise ValueError("the text-generation pipeline needs a tokenizer")
        # Batches are padded on the left so that every prompt ends where its continuation starts.
        tokenizer.padding_side = "left"
        if getattr(tokenizer, "pad_token_id", None) is None and getattr(tokenizer, "eos_token", None) is not None:
            tokenizer.pad_token = tokenizer.eos_token
        self.generation_config, self.prefix, kwargs = pipeline_generation_config(
            model, tokenizer, task, self._default_generation, kwargs)
        self.tokenizer = tokenizer  # _sanitize_parameters (prefix, stop_sequence) needs it
        super().__init__(model, tokenizer, **base, **kwargs)
        if "prefix" not in self._preprocess_params and self.prefix:
            pre, fwd, _ = self._sanitize_parameters(prefix=self.prefix)
            self._preprocess_params = {**self._preprocess_params, **pre}
            self._forward_params = {**self._forward_params, **fwd}

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
        honour_max_length(generate_kwargs)
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
        pre["generation"] = {k: v for k, v in generate_kwargs.items() if k in ("max_new_tokens", "max_length")}
        stop = p.get("stop_sequence")
        if stop is not None:
            if not isinstance(stop, str) or not stop:
                raise ValueError(f"stop_sequence must be a non-empty str, got {stop!r}")
            generate_kwargs["eos_token_id"] = self.tokenizer.encode(stop, add_special_tokens=False)
        check_generate_settings(type(self).__name__, self.generation_config, generate_kwargs)

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
        from ..generation import TextIteratorStreamer

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
                   tokenizer_encode_kwargs: dict | None = None, generation: dict | None = None) -> dict[str, Any]:
        tok_kwargs = {k: v for k, v in {"add_special_tokens": add_special_tokens, "truncation": truncation,
                                        "padding": padding}.items() if v is not None}
        if max_length is not None and truncation:
            tok_kwargs["max_length"] = max_length
        tok_kwargs.update(tokenizer_encode_kwargs or {})
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
        from_nothing = False
        if not ids:  # the reference generates from the BOS token
            bos = self.generation_config.bos_token_id
            if bos is None:
                raise ValueError("the prompt is empty and the model has no bos_token_id to start from: give a "
                                 "non-empty prompt")
            ids, mask, from_nothing = [bos], [1], True
        if handle_long_generation == "hole":
            ids, mask = self._hole(ids, mask, generation or {})
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

    def _hole(self, ids: list, mask: list, generation: dict) -> tuple[list, list]:
        """Cut the prompt's left so that prompt + new tokens fit the model (handle_long_generation='hole')."""
        # the tokenizer's model_max_length (as the reference), but never more than the model's positions: an
        # unset model_max_length (a huge number) made the reference keep the whole prompt and fail in the model
        limits = [getattr(self.tokenizer, "model_max_length", None),
                  getattr(self.model.config, "max_position_embeddings", None)]
        limit = min((x for x in limits if x), default=None)
        new = generation.get("max_new_tokens", self.generation_config.max_new_tokens)
        if new is None:
            new = generation.get("max_length", self.generation_config.max_length) - len(ids)
            if new < 0:
                raise ValueError("We cannot infer how many new tokens are expected")
        if limit is not None and len(ids) + new > limit:
            keep = limit - new
            if keep <= 0:
                raise ValueError("We cannot use `hole` to handle this generation: the number of new tokens asked "
                                 "for exceeds the model's max length")
            ids, mask = ids[-keep:], mask[-keep:]
        return ids, mask

    def _forward(self, batch: dict[str, torch.Tensor], **generate_kwargs: Any) -> dict[str, torch.Tensor]:
        ids = batch["input_ids"]  # (B, T) left padded
        B, T = ids.shape
        prefix_length = generate_kwargs.pop("prefix_length", 0)
        if prefix_length > 0:  # the reference gives the prefix's tokens on top of max_length
            cfg = generate_kwargs.get("generation_config") or self.generation_config
            if "max_new_tokens" not in generate_kwargs and cfg.max_new_tokens is None:
                generate_kwargs["max_length"] = (generate_kwargs.get("max_length") or cfg.max_length) + prefix_length
            if "min_new_tokens" not in generate_kwargs and cfg.min_new_tokens is None \
                    and "min_length" in generate_kwargs:
                generate_kwargs["min_length"] += prefix_length
        generate_kwargs.setdefault("generation_config", self.generation_config)
        if generate_kwargs.get("stop_strings") is not None:
            generate_kwargs["tokenizer"] = self.tokenizer
        out = self.model.generate(ids, attention_mask=batch.get("attention_mask"), **generate_kwargs)
        seqs = out.sequences if hasattr(out, "sequences") else out  # (B * n, S)
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
