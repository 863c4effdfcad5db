"""``apply_chat_template``: a conversation -> the prompt string (and ids) the model was trained on.

Rendered with Jinja2 as the reference does (transformers ``utils/chat_template_utils.py``):
an immutable sandboxed environment with ``trim_blocks``/``lstrip_blocks`` and the
``loopcontrols`` extension, a ``tojson`` filter that keeps non-ASCII text, and the
globals ``raise_exception`` and ``strftime_now``; the special tokens
(``bos_token`` …) are template variables. Unknown variables render as empty, as
in the reference; a template that fails to compile or calls ``raise_exception``
raises a :class:`ChatTemplateError` that says which.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any


class ChatTemplateError(ValueError):
    """The chat template could not be compiled or rendered."""


@functools.lru_cache(maxsize=16)
def _compile(template: str) -> Any:
    try:  # lazy: jinja2 is an optional dependency, for chat templates only
        import jinja2
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError as e:  # pragma: no cover - jinja2 is a dependency of chat templates only
        raise ImportError("apply_chat_template needs jinja2: pip install jinja2") from e

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None, sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt: str) -> str:
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    try:
        return env.from_string(template)
    except jinja2.exceptions.TemplateSyntaxError as e:
        raise ChatTemplateError(f"the chat template does not compile (line {e.lineno}): {e.message}") from e


def render(template: str, conversation: list[dict[str, Any]], *, add_generation_prompt: bool, continue_final_message: bool,
           tools: Any, documents: Any, variables: dict[str, Any]) -> str:
    """One conversation -> prompt string."""
    import jinja2  # lazy: optional, for chat templates only (present: _compile checked)

    try:
        out = _compile(template).render(messages=conversation, tools=tools, documents=documents,
                                        add_generation_prompt=add_generation_prompt, **variables)
    except jinja2.exceptions.TemplateError as e:
        raise ChatTemplateError(f"the chat template raised an error: {e}") from e
    if continue_final_message:
        final = conversation[-1]["content"] if conversation else ""
        if isinstance(final, (list, tuple)):
            texts = [c["text"] for c in final if isinstance(c, dict) and c.get("type") == "text"]
            final = texts[-1] if texts else ""
        final = str(final).strip()
        if final not in out:
            raise ValueError(
                "continue_final_message is set but the final message does not appear in the chat after "
                "applying the chat template! This can happen if the chat template deletes portions of the final "
                "message. Please verify the chat template and final message in your chat to ensure they are compatible."
            )
        out = out[: out.rindex(final) + len(final)]
    return out


class ChatTemplateMixin:
    """``apply_chat_template`` for :class:`~.tokenization_utils.PreTrainedTokenizerFast`."""

    chat_template: str | dict[str, str] | None

    def get_chat_template(self, chat_template: str | None = None, tools: Any = None) -> str:
        """The template to use: a named one of a dict of templates, the argument itself, or the tokenizer's."""
        own = self.chat_template
        if isinstance(own, dict):
            if chat_template is not None:
                return own.get(chat_template, chat_template)
            if tools is not None and "tool_use" in own:
                return own["tool_use"]
            if "default" in own:
                return own["default"]
            raise ValueError(f"this tokenizer has several chat templates ({sorted(own)}) and none is 'default': pick one by name")
        tpl = chat_template if chat_template is not None else own
        if tpl is None:
            raise ValueError(
                "Cannot use chat template functions because tokenizer.chat_template is not set and no template "
                "argument was passed! For information about writing templates and setting the "
                "tokenizer.chat_template attribute, please see the documentation at "
                "https://huggingface.co/docs/transformers/main/en/chat_templating"
            )
        return tpl

    def apply_chat_template(
        self,
        conversation: list[dict[str, Any]] | list[list[dict[str, Any]]],
        tools: list[Any] | None = None,
        documents: list[dict[str, str]] | None = None,
        chat_template: str | None = None,
        add_generation_prompt: bool = False,
        continue_final_message: bool = False,
        tokenize: bool = True,
        padding: bool | str = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_dict: bool = False,
        return_assistant_tokens_mask: bool = False,
        tokenizer_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Render `conversation` (a list of ``{"role", "content"}`` dicts, or a batch of them) with the chat template."""
        if return_dict and not tokenize:
            raise ValueError("`return_dict=True` is incompatible with `tokenize=False`")
        if return_assistant_tokens_mask:
            raise NotImplementedError("return_assistant_tokens_mask is not supported by minformers yet")
        if continue_final_message and add_generation_prompt:
            raise ValueError("continue_final_message and add_generation_prompt are not compatible. Use continue_final_message when you want the model to continue the final message, and add_generation_prompt when you want to add a header that will prompt it to start a new assistant message instead.")
        template = self.get_chat_template(chat_template, tools)
        batched = isinstance(conversation, (list, tuple)) and bool(conversation) and isinstance(conversation[0], (list, tuple))
        conversations = list(conversation) if batched else [conversation]
        conversations = [list(c.messages) if hasattr(c, "messages") else list(c) for c in conversations]
        variables = {k: v for k, v in self.special_tokens_map.items()}  # type: ignore[attr-defined]
        variables.update(kwargs)
        rendered = [
            render(template, c, add_generation_prompt=add_generation_prompt, continue_final_message=continue_final_message,
                   tools=tools, documents=documents, variables=variables)
            for c in conversations
        ]
        if not batched:
            rendered = rendered[0]
        if not tokenize:
            return rendered
        out = self(rendered, padding=padding, truncation=truncation, max_length=max_length, add_special_tokens=False,  # type: ignore[operator]
                   return_tensors=return_tensors, **(tokenizer_kwargs or {}))
        return out if return_dict else out["input_ids"]
