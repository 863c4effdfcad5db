"""question-answering: (question, context) -> start/end logits per window -> best spans -> {score, start, end, answer}.

Same answers and quirks as transformers' QuestionAnsweringPipeline (4.57, fast tokenizer path):

- inputs: ``qa(question=..., context=...)`` (str or lists), ``qa({"question", "context"})``,
  ``qa(question, context)`` positionally, or a list of dicts; a single example (even a list
  of one) gives one answer, several give a list.
- a context longer than ``max_seq_len`` (default ``min(model_max_length, 384)``) is cut into
  windows overlapping by ``doc_stride`` (default ``min(max_seq_len // 2, 128)``); all windows of
  all examples are batched together. ``max_question_len`` is accepted and, as in the
  reference's fast path, not used.
- per window: tokens outside the context (except [CLS]) are masked, start and end logits are
  soft-maxed separately, a span's score is p(start) * p(end) over spans with start <= end <
  start + ``max_answer_len``; [CLS] gives the "no answer" score (``handle_impossible_answer``).
- ``align_to_words`` widens a span to whole words; answers with the same text
  (case-insensitive) found in several places add up their scores; the best ``top_k`` are
  returned (a dict when only one is left).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .base import Pipeline

_NO_MIN = 1_000_000.0


class QuestionAnsweringPipeline(Pipeline):
    task = "question-answering"
    auto_batch_size = 16  # see Pipeline.auto_batch_size
    sequence_outputs = ("start_logits", "end_logits")

    def __init__(self, model: Any, tokenizer: Any = None, **kwargs: Any) -> None:
        if not type(model).__name__.endswith("ForQuestionAnswering"):
            raise TypeError(f"question-answering needs a model with a span head (…ForQuestionAnswering), "
                            f"got {type(model).__name__}")
        super().__init__(model, tokenizer, **kwargs)

    def _sanitize_parameters(self, padding: Any = None, topk: int | None = None, top_k: int | None = None,
                             doc_stride: int | None = None, max_answer_len: int | None = None,
                             max_seq_len: int | None = None, max_question_len: int | None = None,
                             handle_impossible_answer: bool | None = None,
                             align_to_words: bool | None = None) -> tuple[dict, dict, dict]:
        pre: dict[str, Any] = {}
        for name, value in (("doc_stride", doc_stride), ("max_seq_len", max_seq_len),
                            ("max_question_len", max_question_len)):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "doc_stride" else 1):
                    raise ValueError(f"{name} must be a positive integer, got {value!r}")
                pre[name] = value
        post: dict[str, Any] = {}
        if topk is not None and top_k is None:
            top_k = topk
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
                raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
            post["top_k"] = top_k
        if max_answer_len is not None:
            if isinstance(max_answer_len, bool) or not isinstance(max_answer_len, int) or max_answer_len < 1:
                raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")
            post["max_answer_len"] = max_answer_len
        if handle_impossible_answer is not None:
            post["handle_impossible_answer"] = bool(handle_impossible_answer)
        if align_to_words is not None:
            post["align_to_words"] = bool(align_to_words)
        return pre, {}, post

    def __call__(self, *args: Any, question: Any = None, context: Any = None, **params: Any) -> Any:
        examples = _examples(args, question, context)
        return super().__call__(examples[0] if len(examples) == 1 else examples, **params)

    # ---- the three steps ----------------------------------------------------------------
    def preprocess(self, example: dict, doc_stride: int | None = None, max_seq_len: int | None = None,
                   max_question_len: int = 64) -> list[dict]:
        question, context = example["question"], example["context"]
        limit = self._max_tokens()
        if max_seq_len is not None and max_seq_len > limit:  # the reference crashes in the model
            raise ValueError(f"max_seq_len={max_seq_len} is more than the {limit} tokens the model takes: "
                             f"pass max_seq_len={limit} or less.")
        max_seq_len = max_seq_len if max_seq_len is not None else min(limit, 384)
        doc_stride = doc_stride if doc_stride is not None else min(max_seq_len // 2, 128)
        if doc_stride > max_seq_len:
            raise ValueError(f"`doc_stride` ({doc_stride}) is larger than `max_seq_len` ({max_seq_len}): "
                             f"pass doc_stride={max_seq_len // 2} or less.")
        question_first = self.tokenizer.padding_side == "right"
        try:
            enc = self.tokenizer(
                question if question_first else context, context if question_first else question,
                truncation="only_second" if question_first else "only_first", max_length=max_seq_len,
                stride=doc_stride, return_token_type_ids=True, return_overflowing_tokens=True,
                return_offsets_mapping=True, return_special_tokens_mask=True,
            )
        except ValueError as err:
            raise ValueError(self._no_room_advice(question, max_seq_len, doc_stride, limit)) from err
        rows = []
        context_index = 1 if question_first else 0
        # The reference gives the model only the tokenizer's model_input_names: token_type_ids are asked for
        # above but not fed to a model whose tokenizer does not name them (GPT-2 would embed them).
        names = getattr(self.tokenizer, "model_input_names", None)
        dropped = {"overflow_to_sample_mapping"} | ({"token_type_ids"} - set(names) if names is not None else set())
        keys = [k for k in enc.keys() if k not in dropped]
        cls = self.tokenizer.cls_token_id
        for i in range(len(enc["input_ids"])):
            seq_ids = enc.sequence_ids(i)
            # 1 = cannot be in the answer: everything but the context tokens, except [CLS].
            p_mask = [int(s != context_index) if question_first else 0 for s in seq_ids]
            ids = enc["input_ids"][i]
            if cls is not None:
                p_mask = [0 if t == cls else m for t, m in zip(ids, p_mask)]
            rows.append({**{k: enc[k][i] for k in keys}, "_p_mask": p_mask, "_sequence_ids": seq_ids,
                         "_word_ids": enc.word_ids(i), "_context": context, "_context_index": context_index})
        return rows

    def _no_room_advice(self, question: str, max_seq_len: int, doc_stride: int, limit: int) -> str:
        """Why the question and a window of context do not fit, and what to pass that does."""
        used = len(self.tokenizer(question, add_special_tokens=False)["input_ids"])
        specials = self.tokenizer.num_special_tokens_to_add(True)
        room = max_seq_len - used - specials  # context tokens a window holds
        if room > 1:  # the question fits: the windows' overlap is too long for what is left
            return (f"doc_stride={doc_stride} leaves no context to move on by: a window of max_seq_len={max_seq_len} "
                    f"has {room} context tokens after the {used}-token question; pass doc_stride={room // 2} or less.")
        spare = limit - used - specials  # context tokens a window of the model's full length would hold
        if spare >= 2:
            stride = max(1, min(doc_stride, 64, spare // 2))
            wanted = used + specials + 2 * stride  # the question, and windows moving on by as much as they overlap
            return (f"The {used}-token question leaves no room for the context in max_seq_len={max_seq_len} tokens: "
                    f"pass max_seq_len={wanted}, doc_stride={stride} (the model takes up to {limit}), or shorten "
                    "the question.")
        return (f"The {used}-token question leaves no room for the context in the {limit} tokens the model takes: "
                "shorten the question.")

    def _forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = self.model(**batch)
        return {"start_logits": out.start_logits.float(), "end_logits": out.end_logits.float()}  # (B, T) each

    def postprocess(self, rows: list[dict], top_k: int = 1, handle_impossible_answer: bool = False,
                    max_answer_len: int = 15, align_to_words: bool = True) -> Any:
        min_null = _NO_MIN
        answers: list[dict] = []
        for row in rows:
            allowed = torch.tensor(row["_p_mask"]) == 0
            if "attention_mask" in row:
                allowed &= torch.as_tensor(row["attention_mask"]) == 1
            allowed = allowed.numpy()
            start = _masked_softmax(row["start_logits"], allowed)  # (T,)
            end = _masked_softmax(row["end_logits"], allowed)
            if handle_impossible_answer:
                min_null = min(min_null, (start[0] * end[0]).item())
            start[0] = end[0] = 0.0
            pre_top_k = top_k * 2 + 10 if align_to_words else top_k
            context = row["_context"]
            for s, e, score in _best_spans(start, end, pre_top_k, max_answer_len, allowed):
                a, b = self._char_span(row, s, e, align_to_words)
                text = context[a:b]
                same = next((x for x in answers if x["answer"].lower() == text.lower()), None)
                if same is not None:
                    same["score"] += score
                else:
                    answers.append({"score": score, "start": a, "end": b, "answer": text})
        if handle_impossible_answer:
            answers.append({"score": min_null, "start": 0, "end": 0, "answer": ""})
        answers = sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]
        return answers[0] if len(answers) == 1 else answers

    def _char_span(self, row: dict, s: int, e: int, align_to_words: bool) -> tuple[int, int]:
        offsets = row["offset_mapping"]
        if align_to_words:
            word_ids, seq_ids = row["_word_ids"], row["_sequence_ids"]
            ws, we = word_ids[s], word_ids[e]
            if ws is not None and we is not None:
                index = row["_context_index"]
                starts = [offsets[t][0] for t, (w, q) in enumerate(zip(word_ids, seq_ids)) if w == ws and q == index]
                ends = [offsets[t][1] for t, (w, q) in enumerate(zip(word_ids, seq_ids)) if w == we and q == index]
                if starts and ends:
                    return starts[0], ends[-1]
        return offsets[s][0], offsets[e][1]


def _masked_softmax(logits: torch.Tensor, allowed: np.ndarray) -> np.ndarray:
    """Softmax over the allowed tokens (the others get -10000 first), in float32 NumPy as the reference."""
    x = np.where(allowed, logits.numpy(), np.float32(-10000.0))
    x = np.exp(x - x.max())
    return x / x.sum()


def _best_spans(start: np.ndarray, end: np.ndarray, top_k: int, max_answer_len: int,
                allowed: np.ndarray) -> list[tuple[int, int, float]]:
    """The top_k (start, end) pairs by p(start) * p(end), end in [start, start + max_answer_len).

    The reference's ``decode_spans``, step for step (same NumPy calls): when top_k reaches past the
    spans with a non-zero score, which zero-score pairs fill the list (masked tokens, end < start)
    is decided by ``np.argpartition``'s tie order, so any other top-k gives other answers there.
    """
    scores = np.tril(np.triu(np.outer(start, end)), max_answer_len - 1)  # (T, T)
    flat = scores.flatten()
    if top_k == 1:
        index = np.array([np.argmax(flat)])
    elif len(flat) <= top_k:  # (the reference: `<`, and a ValueError from argpartition when equal)
        index = np.argsort(-flat)
    else:
        index = np.argpartition(-flat, top_k)[:top_k]
        index = index[np.argsort(-flat[index])]
    starts, ends = np.unravel_index(index, scores.shape)
    # The reference keeps pairs whose ends are in `(1, T)-mask.nonzero()`, a (rows, columns) tuple that
    # np.isin flattens: the row indices (all 0) make token 0 always kept, masked or not (Llama's <s>).
    desired = allowed.copy()
    desired[0] = True
    keep = desired[starts] & desired[ends]
    return [(int(s), int(e), scores[s, e].item()) for s, e in zip(starts[keep], ends[keep])]


def _examples(args: tuple, question: Any, context: Any) -> list[dict]:
    """Every accepted input form -> a list of {question, context} dicts, validated."""
    if args:
        if len(args) == 1:
            inputs = args[0]
        elif len(args) == 2 and all(isinstance(a, str) for a in args):
            inputs = [{"question": args[0], "context": args[1]}]
        else:
            inputs = list(args)
    elif question is not None and context is not None:
        if isinstance(question, list) and isinstance(context, str):
            inputs = [{"question": q, "context": context} for q in question]
        elif isinstance(question, list) and isinstance(context, list):
            if len(question) != len(context):
                raise ValueError("Questions and contexts don't have the same lengths")
            inputs = [{"question": q, "context": c} for q, c in zip(question, context)]
        elif isinstance(question, str) and isinstance(context, str):
            inputs = [{"question": question, "context": context}]
        else:
            raise ValueError("question and context must be str or lists of str")
    else:
        raise ValueError("question-answering needs a question and a context: qa(question=..., context=...) "
                         "or qa({'question': ..., 'context': ...})")
    if isinstance(inputs, dict):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)):
        inputs = list(inputs)
    out = []
    for item in inputs:
        if not isinstance(item, dict):
            raise ValueError(f"{item!r} should be a {{'question': ..., 'context': ...}} dict")
        for key in ("question", "context"):
            if key not in item:
                raise KeyError("You need to provide a dictionary with keys {question:..., context:...}")
            if item[key] is None:
                raise ValueError(f"`{key}` cannot be None")
            if not isinstance(item[key], str):
                raise TypeError(f"`{key}` must be a str, got {type(item[key]).__name__}")
            if len(item[key]) == 0:
                raise ValueError(f"`{key}` cannot be empty")
        out.append({"question": item["question"], "context": item["context"]})
    return out
