"""What the model families share (mlx-lm's models/base.py is the model): activations, input checks,
attention masks, attention, rotary position embedding, losses and the small pieces of the heads.

Imports nothing of minformers: every family file stands on this one, and this on torch alone.
Legend for the shapes: B batch, T (new) tokens, P tokens already cached, S = P + T keys, H hidden,
nh query heads, nkv key/value heads, hs head size, V vocabulary, C classes (or choices).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# --- activations: one table ---
# config.json name -> (module factory, the same activation as `kernels.linear`'s fused `act`, None: not fusable)
ACTIVATIONS: dict[str, tuple[Callable[[], nn.Module], str | None]] = {
    "gelu": (nn.GELU, "gelu"),  # exact, erf-based, as the reference's "gelu"
    "gelu_new": (lambda: nn.GELU(approximate="tanh"), "gelu_tanh"),
    "gelu_pytorch_tanh": (lambda: nn.GELU(approximate="tanh"), "gelu_tanh"),
    "relu": (nn.ReLU, "relu"),
    "silu": (nn.SiLU, "silu"),
    "swish": (nn.SiLU, "silu"),
    "tanh": (nn.Tanh, None),
}


def activation(name: str) -> nn.Module:
    """The activation module a config names (``hidden_act``, ``activation_function``, ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unsupported activation {name!r}; supported: {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name][0]()


def fused_activation(name: str) -> str | None:
    """The same activation as ``kernels.linear(..., act=...)`` fuses it into the product, or None."""
    return ACTIVATIONS[name][1] if name in ACTIVATIONS else None


# --- input checks ---
def check_length(seq_len: int, max_len: int) -> None:
    """Refuse inputs longer than the position table before running (instead of an index error deep inside)."""
    if seq_len > max_len:
        raise ValueError(
            f"Input is {seq_len} tokens long, but this model accepts at most {max_len} tokens "
            f"(max_position_embeddings={max_len}). Truncate the input, e.g. tokenizer(..., truncation=True)."
        )


def check_ids_or_embeds(input_ids: Tensor | None, inputs_embeds: Tensor | None, what: str = "input_ids") -> None:
    if (input_ids is None) == (inputs_embeds is None):
        raise ValueError(f"pass exactly one of {what} and {what.replace('input_ids', 'inputs_embeds')}")


# --- masks ---
def padding_mask(attention_mask: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """(B, T) 1 = token, 0 = padding -> additive mask (B, 1, 1, T): 0 where attended, dtype-min where padded.

    None when there is nothing to mask, so attention runs unmasked. An additive mask (not boolean)
    keeps fully padded rows finite, as in the reference. Also the cross-attention mask over encoder padding.
    """
    if attention_mask is None or bool(attention_mask.all()):
        return None
    mask = attention_mask[:, None, None, :].to(dtype)  # (B, 1, 1, T)
    return (1.0 - mask) * torch.finfo(dtype).min


def causal_mask(attention_mask: Tensor | None, T: int, past: int, dtype: torch.dtype,
                device: torch.device) -> Tensor | None:
    """Additive decoder self-attention mask (B or 1, 1, T, past + T): 0 = attend, dtype-min = not.

    Query i (absolute position past + i) sees keys j <= past + i that are not padding in
    ``attention_mask`` (B, past + T). None when nothing is masked (one new token, no padding).
    Built like the reference's, so fully masked rows give the same (uniform) attention.
    Used by the encoder-decoders (BART, Marian, T5) and RoBERTa's causal LM.
    """
    has_padding = attention_mask is not None and not bool(attention_mask.all())
    if T == 1 and not has_padding:
        return None
    K = past + T
    allowed = torch.arange(K, device=device)[None, :] <= torch.arange(past, K, device=device)[:, None]  # (T, K)
    allowed = allowed[None, None]  # (1, 1, T, K)
    if has_padding:
        allowed = allowed & attention_mask[:, None, None, -K:].bool()  # (B, 1, T, K)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=device)
    return mask.masked_fill_(~allowed, torch.finfo(dtype).min)


def decoder_mask(attention_mask: Tensor | None, T: int, P: int, dtype: torch.dtype) -> tuple[Tensor | None, bool]:
    """The attention mask of T new tokens over S = P + T keys (GPT-2, Llama): returns (boolean mask, is_causal).

    Without padding the mask is not materialised: ``is_causal`` for a prompt, nothing for one new token
    (it may see every key). Otherwise (B, 1, T, S), True where allowed (causal and not padding). Boolean,
    as the reference's SDPA mask (transformers.masking_utils.sdpa_mask): a query that may see no key at
    all -- a left-padded prompt's padding when pad == bos, an all-zero mask row -- gets a zero attention
    output (SDPA's rule since torch 2.5), not uniform weights over the padding; ``decoder_attention``
    follows the same rule when it writes the softmax out. ``dtype`` is unused (kept for callers).
    """
    S = P + T
    if attention_mask is not None:
        if attention_mask.shape[-1] < S:
            raise ValueError(f"attention_mask covers {attention_mask.shape[-1]} tokens, but there are {S} "
                             "(cached + new); pass the mask of the whole sequence")
        attention_mask = attention_mask[:, :S]
        if bool(attention_mask.all()):
            attention_mask = None
    if attention_mask is None:
        if T == 1:
            return None, False
        if P == 0:
            return None, True
    allowed = torch.arange(S)[None, :] <= torch.arange(P, S)[:, None]  # (T, S)
    allowed = allowed[None, None]  # (1, 1, T, S)
    if attention_mask is not None:
        allowed = allowed & attention_mask[:, None, None, :].bool().to(allowed.device)  # (B, 1, T, S)
    return allowed, False


def expand_head_mask(head_mask: Tensor | None, num_layers: int, dtype: torch.dtype) -> list[Tensor | None]:
    """(nh,) or (L, nh) with 1 = keep -> one (1, nh, 1, 1) multiplier per layer (or None). The encoders'."""
    if head_mask is None:
        return [None] * num_layers
    head_mask = head_mask.to(dtype)
    if head_mask.dim() == 1:
        head_mask = head_mask.expand(num_layers, -1)
    return [m[None, :, None, None] for m in head_mask]  # each (1, nh, 1, 1)


def layer_head_masks(head_mask: Tensor | None, n: int, dtype: torch.dtype) -> list[Tensor | None]:
    """(L, nh) head mask, 1 = keep -> one (1, nh, 1, 1) multiplier per layer (or None). The seq2seq stacks'."""
    if head_mask is None:
        return [None] * n
    if head_mask.size(0) != n:
        raise ValueError(f"The head_mask should be specified for {n} layers, but it is for {head_mask.size(0)}.")
    return [m.to(dtype)[None, :, None, None] for m in head_mask]


# --- attention ---
def attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float, need_weights: bool,
              head_mask: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Scaled dot-product attention with an additive mask; q, k, v: (B, nh, T, hs).

    The fused SDPA kernel unless attention weights are asked for or heads are masked; then the same
    maths written out (softmax(q k^T / sqrt(hs) + mask) v).
    """
    if not need_weights and head_mask is None:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p), None  # (B, nh, T, hs)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))  # (B, nh, T, T)
    if mask is not None:
        scores = scores + mask
    probs = scores.softmax(dim=-1)  # (B, nh, T, T)
    if dropout_p > 0:
        probs = F.dropout(probs, p=dropout_p)
    if head_mask is not None:
        probs = probs * head_mask
    return probs @ v, probs  # (B, nh, T, hs), (B, nh, T, T)


def decoder_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, is_causal: bool, scale: float,
                      dropout_p: float, need_weights: bool) -> tuple[Tensor, Tensor | None]:
    """softmax(q k^T * scale, over the keys ``mask`` allows) v with grouped keys: q (B, nh, T, hs), k/v (B, nkv, S, hs)
    -> (B, nh, T, hs). ``mask`` is ``decoder_mask``'s boolean (B, 1, T, S) or None. GPT-2's and Llama's.

    One new token and no per-query mask: the query heads of a group are folded into the token axis,
    (B, nkv, g, hs), so the cached keys/values are used in place (no repeat). Otherwise SDPA (GQA aware).
    """
    B, nh, T, hs = q.shape
    nkv = k.shape[1]
    g = nh // nkv  # query heads per key/value head
    if need_weights:
        if g > 1:
            k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)  # (B, nh, S, hs)
        scores = (q @ k.transpose(-1, -2)) * scale  # (B, nh, T, S)
        if is_causal:
            S = k.shape[2]
            causal = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(S - T)
            scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        elif mask is not None:
            scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)  # finite: no NaN gradients
        probs = scores.softmax(dim=-1)  # (B, nh, T, S)
        if mask is not None:  # a query that sees no key: zero weights, as SDPA gives
            probs = probs.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
        return F.dropout(probs, p=dropout_p) @ v, probs
    if T == 1 and g > 1 and not dropout_p:
        y = F.scaled_dot_product_attention(q.view(B, nkv, g, hs), k, v, attn_mask=mask, scale=scale)  # (B, nkv, g, hs)
        return y.view(B, nh, 1, hs), None
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal,
                                          scale=scale, enable_gqa=g > 1), None


# --- rotary position embedding (Su et al. 2021, https://arxiv.org/abs/2104.09864) ---
def rope_inv_freq(config: Any, seq_len: int | None = None) -> Tensor:
    """Inverse frequencies (hs/2,) for config.rope_scaling, as the reference's ROPE_INIT_FUNCTIONS compute them.

    Reads config.head_dim, rope_theta, rope_scaling, max_position_embeddings.
    default: theta^(-2i/hs). linear: divided by factor. dynamic (NTK): theta grows once seq_len passes
    max_position_embeddings. llama3: long wavelengths divided by factor, short kept, smooth in between.
    """
    scaling = config.rope_scaling or {}
    rope_type = scaling.get("rope_type", scaling.get("type", "default"))
    dim, base = config.head_dim, config.rope_theta
    if rope_type == "dynamic":
        max_pos, factor = config.max_position_embeddings, scaling["factor"]
        seq_len = max(seq_len or max_pos, max_pos)
        base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))  # (hs/2,)
    if rope_type in ("default", "dynamic"):
        return inv_freq
    if rope_type == "linear":
        return inv_freq / scaling["factor"]
    if rope_type == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old_len = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > old_len / low, inv_freq / factor, inv_freq)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < old_len / high) & ~(wavelen > old_len / low)
        return torch.where(medium, smoothed, scaled)
    raise NotImplementedError(f"rope_scaling type {rope_type!r} is not supported; use linear, dynamic or llama3")


class RotaryEmbedding(nn.Module):
    """position_ids (B, T) -> cos, sin_rot (B, 1, T, hs), ready to broadcast over the heads; sin_rot is the
    reference's sin with its first half negated (see `apply_rope`). Frequencies are a plain attribute, not a
    buffer: they are recomputed from the config (never loaded), so meta-device construction needs nothing here.

    Except for the "dynamic" scaling (frequencies that depend on the length), cos and sin are computed once
    into a table of positions (grown by doubling) and looked up: a decoding step slices a view instead of
    running ~10 small ops. The table is made by the same elementwise ops as a per-call computation (whole
    vectors only: hs is even and a row is 2 x hs/2), so the values are the same bits."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        self.dynamic = (config.rope_scaling or {}).get("rope_type") == "dynamic"
        self._inv_freq: Tensor | None = None
        self._tables: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}

    @staticmethod
    def _cos_sin(position_ids: Tensor, inv_freq: Tensor, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        freqs = position_ids[:, :, None].float() * inv_freq[None, None, :]  # (B, T, hs/2)
        emb = torch.cat((freqs, freqs), dim=-1)  # (B, T, hs)
        sin, half = emb.sin(), emb.shape[-1] // 2
        return emb.cos().to(dtype), torch.cat((-sin[..., :half], sin[..., half:]), dim=-1).to(dtype)

    def _table(self, length: int, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
        """cos, sin_rot of positions 0 .. >= length - 1, each (n, hs)."""
        key = (dtype, device)
        table = self._tables.get(key)
        if table is None or table[0].shape[0] < length:
            if self._inv_freq is None:
                self._inv_freq = rope_inv_freq(self.config)
            n = 256
            while n < length:
                n *= 2
            with torch.inference_mode(False):  # a plain tensor, usable in and out of inference mode
                positions = torch.arange(n, device=device)[None]
                cos, sin = self._cos_sin(positions, self._inv_freq.to(device), dtype)
            table = self._tables[key] = (cos[0], sin[0])
        return table

    def forward(self, position_ids: Tensor | None, dtype: torch.dtype, start: int = 0,
                length: int = 0, device: torch.device | None = None) -> tuple[Tensor, Tensor]:
        """cos, sin_rot (B|1, 1, T, hs) of `position_ids` (B, T), or when it is None of positions
        start .. start + length - 1 (then views into the table: nothing is computed)."""
        if self.dynamic:  # the reference recomputes once the sequence outgrows max_position_embeddings
            if position_ids is None:
                position_ids = torch.arange(start, start + length, device=device)[None]
            seq_len = int(position_ids.max()) + 1
            inv_freq = rope_inv_freq(self.config, seq_len if seq_len > self.config.max_position_embeddings else None)
            cos, sin = self._cos_sin(position_ids, inv_freq.to(position_ids.device), dtype)
            return cos[:, None], sin[:, None]
        if position_ids is None:
            cos, sin = self._table(start + length, dtype, device)
            return cos[None, None, start:start + length], sin[None, None, start:start + length]  # (1, 1, T, hs)
        cos, sin = self._table(int(position_ids.max()) + 1, dtype, position_ids.device)
        return F.embedding(position_ids, cos)[:, None], F.embedding(position_ids, sin)[:, None]  # (B, 1, T, hs)


def apply_rope(x: Tensor, cos: Tensor, sin_rot: Tensor) -> Tensor:
    """x (B, n, T, hs); cos/sin_rot (B|1, 1, T, hs) from RotaryEmbedding.

    The reference computes x cos + rotate_half(x) sin with rotate_half(x) = (-x2, x1). Swapping the
    halves (a roll) and putting the sign into sin_rot gives the same bits in fewer operations. (Not
    ``addcmul_``: its kernel fuses the multiply-add, which rounds once and changes the last bits.)
    """
    return x * cos + x.roll(x.shape[-1] // 2, -1) * sin_rot


# --- losses: computed only when labels are given (DESIGN rule 7) ---
def classification_loss(logits: Tensor, labels: Tensor, config: Any) -> Tensor:
    """Sequence classification loss chosen by config.problem_type, inferred like the reference when None.

    num_labels == 1 -> regression (MSE); integer labels -> single-label (cross-entropy);
    float labels -> multi-label (BCE with logits). The inferred type is stored on the config, as the reference does.
    """
    num_labels = config.num_labels
    if config.problem_type is None:
        if num_labels == 1:
            config.problem_type = "regression"
        elif labels.dtype in (torch.long, torch.int):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    labels = labels.to(logits.device)
    if config.problem_type == "regression":
        if num_labels == 1:
            return nn.functional.mse_loss(logits.squeeze(), labels.squeeze().to(logits.dtype))
        return nn.functional.mse_loss(logits, labels.to(logits.dtype))
    if config.problem_type == "single_label_classification":
        return nn.functional.cross_entropy(logits.view(-1, num_labels), labels.view(-1))
    return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


def token_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy of every position's logits (..., C) against labels (...); -100 marks ignored positions.
    Token classification, masked LM, seq2seq LM, multiple choice ((B, C) against (B,))."""
    return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1).to(logits.device))


def span_loss(start_logits: Tensor, end_logits: Tensor, start_positions: Tensor, end_positions: Tensor) -> Tensor:
    """Question-answering loss: mean of start and end cross-entropy; positions outside the input are ignored."""
    if start_positions.dim() > 1:
        start_positions = start_positions.squeeze(-1)
    if end_positions.dim() > 1:
        end_positions = end_positions.squeeze(-1)
    ignored = start_logits.size(1)
    start_positions = start_positions.clamp(0, ignored).to(start_logits.device)
    end_positions = end_positions.clamp(0, ignored).to(end_logits.device)
    start = nn.functional.cross_entropy(start_logits, start_positions, ignore_index=ignored)
    end = nn.functional.cross_entropy(end_logits, end_positions, ignore_index=ignored)
    return (start + end) / 2


def causal_lm_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Token t predicts token t + 1: shift labels left (the last position has no target); -100 is ignored.
    GPT-2's and Llama's form (labels padded, every position scored, in float32)."""
    labels = F.pad(labels.to(logits.device), (0, 1), value=-100)[..., 1:]  # (B, T)
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)


def shifted_lm_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """The same target as `causal_lm_loss`, in the reference RoBERTa's form: the last position's logits are
    dropped rather than its label padded (a different reduction length, so kept apart for the same bits)."""
    shifted = logits[:, :-1].reshape(-1, logits.size(-1)).float()
    return F.cross_entropy(shifted, labels[:, 1:].reshape(-1).to(logits.device), ignore_index=-100)


# --- pieces of the heads ---
def classifier_dropout(config: Any) -> float:
    """BERT-style heads' dropout: config.classifier_dropout, else hidden_dropout_prob."""
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


def decoder_classifier_dropout(config: Any) -> float:
    """GPT-2's and Llama's token-classification dropout: classifier_dropout, else hidden_dropout, else 0.1."""
    p = getattr(config, "classifier_dropout", None)
    p = p if p is not None else getattr(config, "hidden_dropout", None)
    return p if p is not None else 0.1


def span_logits(logits: Tensor) -> tuple[Tensor, Tensor]:
    """QA projection (B, T, 2) -> start and end logits, each (B, T)."""
    start_logits, end_logits = logits.split(1, dim=-1)  # (B, T, 1) each
    return start_logits.squeeze(-1).contiguous(), end_logits.squeeze(-1).contiguous()


def last_token_logits(logits: Tensor, input_ids: Tensor | None, pad_token_id: int | None) -> Tensor:
    """(B, T, C) -> (B, C) at each row's rightmost non-pad token (left or right padding), as the reference."""
    B = logits.shape[0]
    if pad_token_id is None and B != 1:
        raise ValueError("Cannot handle batch sizes > 1 if no padding token is defined.")
    if pad_token_id is None or input_ids is None:
        last = torch.full((B,), -1, dtype=torch.long)
    else:
        not_pad = (input_ids != pad_token_id).to(torch.int32)
        last = (torch.arange(input_ids.shape[-1], dtype=torch.int32) * not_pad).argmax(-1)
    return logits[torch.arange(B), last]


def flatten_choices(t: Tensor | None) -> Tensor | None:
    """Multiple choice: (B, C, T, ...) -> (B*C, T, ...), each choice a row of its own."""
    return None if t is None else t.reshape(-1, *t.shape[2:])


# --- the encoder's layer loop ---
def run_encoder_layers(layers: nn.ModuleList, x: Tensor, mask: Tensor | None, head_masks: list[Tensor | None],
                       output_attentions: bool, output_hidden_states: bool
                       ) -> tuple[Tensor, tuple[Tensor, ...] | None, tuple[Tensor, ...] | None]:
    """x (B, T, H) through each ``layer(x, mask, output_attentions, head_mask) -> (x, probs)`` (BERT, DistilBERT):
    the last state, every state (the embeddings' first) and every layer's attention, as asked for."""
    hidden_states = (x,) if output_hidden_states else None
    attentions = () if output_attentions else None
    for layer, head_mask in zip(layers, head_masks):
        x, probs = layer(x, mask, output_attentions, head_mask)
        if output_hidden_states:
            hidden_states += (x,)
        if output_attentions:
            attentions += (probs,)
    return x, hidden_states, attentions
