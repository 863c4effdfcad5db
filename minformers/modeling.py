"""PreTrainedModel: one shallow base class that loads, saves, initialises and ties weights.

Loading (``from_pretrained``) is built for a fast cold start:

1. the name is resolved once into a :class:`~minformers.checkpoint.Checkpoint` (folder, files, config);
2. the module is constructed on the ``meta`` device (no memory, no random init);
3. the checkpoint is memory-mapped and assigned to it, and only the weights the checkpoint lacks are
   materialised and randomly initialised (:mod:`minformers.weights.loading`, which also reports unused
   and newly initialised weights with the reference's messages).

Saving writes config.json here and the weights through :mod:`minformers.weights.saving`.
"""

from __future__ import annotations

import copy
import inspect
import logging
import os
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from .checkpoint import Checkpoint, resolve_checkpoint
from .configuration import HUB_KWARGS, PretrainedConfig, pop_hub_kwargs
from .generation import load_generation_config
from .kernels import GGUFLinear, Int8Linear, gguf_linears, int8_request, quantize_int8
from .weights import (SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME,  # noqa: F401  (old paths)
                      WEIGHTS_NAME, safetensors)
from .weights.gguf_tensors import load_gguf_checkpoint
from .weights.loading import load_checkpoint, load_state_dict_into, no_init, resolve_dtype, skipping_init
from .weights.saving import atomic_folder, parse_size, write_weights, written_by_save_pretrained

logger = logging.getLogger(__name__)


# from_pretrained keywords the reference accepts that change nothing here
_IGNORED_LOAD_KWARGS = ("low_cpu_mem_usage", "_fast_init", "attn_implementation", "offload_folder",
                        "offload_state_dict", "variant", "adapter_kwargs", "tp_plan",
                        "key_mapping", "weights_only", "from_tf", "from_flax", "mirror")

class PreTrainedModel(nn.Module):
    """Base class of every model: ``config`` attribute, init, tying, from/save_pretrained."""

    config_class: ClassVar[type[PretrainedConfig]] = PretrainedConfig
    base_model_prefix: ClassVar[str] = ""  # attribute that holds the base model in a head class, e.g. "bert"
    main_input_name: ClassVar[str] = "input_ids"
    # checkpoint keys that are not weights and are dropped silently (old checkpoints saved position_ids buffers)
    _keys_to_ignore_on_load_unexpected: ClassVar[list[str]] = [r"position_ids$"]

    def __init__(self, config: PretrainedConfig) -> None:
        super().__init__()
        if not isinstance(config, PretrainedConfig):
            raise TypeError(f"{type(self).__name__} needs a PretrainedConfig, got {type(config).__name__}")
        self.config = config
        self.name_or_path = config.name_or_path

    def warn_if_padding_and_no_attention_mask(self, input_ids: Tensor | None, attention_mask: Tensor | None) -> None:
        """Warn once if input_ids look padded and no attention_mask was given (the reference's method)."""
        warn_if_padding_and_no_attention_mask(self, self.config, input_ids, attention_mask)

    def post_init(self) -> None:
        """Call at the end of a subclass __init__: random init (unless loading) and weight tying."""
        if not skipping_init():
            self.apply(self._init_weights)
        self.tie_weights()

    # --- init and tying ---
    def _init_weights(self, module: nn.Module) -> None:
        """The reference's init: normal(0, initializer_range) for Linear/Embedding, zero bias and padding row."""
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def init_weights(self) -> None:
        self.apply(self._init_weights)
        self.tie_weights()

    def tie_weights(self) -> None:
        """Output embeddings share the input embedding matrix (if config.tie_word_embeddings)."""
        output = self.get_output_embeddings()
        if output is not None and self.config.tie_word_embeddings:
            output.weight = self.get_input_embeddings().weight
        for module in self.modules():
            if module is not self and hasattr(module, "_tie_weights"):
                module._tie_weights()

    # --- accessors ---
    @property
    def base_model(self) -> nn.Module:
        return getattr(self, self.base_model_prefix, self)

    def get_input_embeddings(self) -> nn.Embedding:
        base = self.base_model
        if base is self:
            raise NotImplementedError(f"{type(self).__name__} must define get_input_embeddings")
        return base.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        base = self.base_model
        if base is self:
            raise NotImplementedError(f"{type(self).__name__} must define set_input_embeddings")
        base.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module | None:
        return None

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(p for p in self.parameters() if p.is_floating_point()).dtype

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Number of (unique) parameters; tied weights count once."""
        skip = set()
        if exclude_embeddings:
            skip = {id(m.weight) for m in self.modules() if isinstance(m, nn.Embedding)}
        return sum(p.numel() for p in self.parameters()
                   if id(p) not in skip and (p.requires_grad or not only_trainable))

    def can_generate(self) -> bool:
        return False

    @classmethod
    def _from_config(cls, config: PretrainedConfig, **kwargs: Any) -> PreTrainedModel:
        dtype = kwargs.pop("dtype", None) or kwargs.pop("torch_dtype", None)
        model = cls(config, **kwargs)
        if dtype is not None:
            model.to(resolve_dtype(dtype, config, None))
        return model

    from_config = _from_config

    # --- loading ---
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike | Checkpoint,
        *model_args: Any,
        config: PretrainedConfig | str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load a model from a folder or model id (config.json + model.safetensors / shards / pytorch_model.bin).

        Keyword arguments naming config fields (``num_labels=3``, ``id2label=...``) override the config;
        also ``dtype``/``torch_dtype`` ("auto", "float16", torch.bfloat16, ...), ``ignore_mismatched_sizes``,
        ``output_loading_info``, ``state_dict``, ``use_safetensors``, ``quantization_config`` (weight-only
        int8 only, see :func:`minformers.kernels.int8_request`), ``gguf_file`` (with ``dequantize=False``:
        Q4_0/Q4_1/Q8_0 weights stay quantized, :class:`minformers.kernels.GGUFLinear`) and the hub keywords of
        :func:`minformers.hub.resolve_model_dir`. A resolved :class:`~minformers.checkpoint.Checkpoint` is
        taken as it is.
        """
        hub = pop_hub_kwargs(kwargs)
        gguf_file = kwargs.pop("gguf_file", None)  # a GGUF file in the folder: config + weights come from it
        checkpoint = resolve_checkpoint(pretrained_model_name_or_path, gguf_file=gguf_file, **hub)
        if isinstance(config, (str, os.PathLike)):  # a config named apart is a checkpoint of its own
            config = resolve_checkpoint(config, weights=False, **hub)
        return cls._from_checkpoint(checkpoint, *model_args, config=config, **kwargs)

    @classmethod
    def _from_checkpoint(cls, checkpoint: Checkpoint, *model_args: Any,
                         config: PretrainedConfig | Checkpoint | None = None, **kwargs: Any) -> Any:
        """``from_pretrained`` after the door: build the model of a resolved checkpoint and load its weights."""
        dtype = kwargs.pop("dtype", None)
        torch_dtype = kwargs.pop("torch_dtype", None)
        dtype = dtype if dtype is not None else torch_dtype
        output_loading_info = kwargs.pop("output_loading_info", False)
        ignore_mismatched_sizes = kwargs.pop("ignore_mismatched_sizes", False)
        state_dict = kwargs.pop("state_dict", None)
        use_safetensors = kwargs.pop("use_safetensors", None)
        device_map = kwargs.pop("device_map", None)
        int8_skip = int8_request(kwargs.pop("quantization_config", None))  # None: no quantisation asked for
        dequantize = kwargs.pop("dequantize", True)  # GGUF: False keeps Q4_0/Q4_1/Q8_0 blocks (kernels.GGUFLinear)
        for k in _IGNORED_LOAD_KWARGS:
            kwargs.pop(k, None)

        name = checkpoint.name
        if not isinstance(config, PretrainedConfig):  # None: the checkpoint's own; or a Checkpoint of a config
            source = checkpoint if config is None else config
            config, kwargs = cls.config_class.from_dict(source.config_dict(), return_unused_kwargs=True, **kwargs)
            config.name_or_path = name
        else:
            config = copy.deepcopy(config)
            for key in [k for k in kwargs if k == "num_labels" or hasattr(config, k)]:
                config.update({key: kwargs.pop(key)})
        init_params = inspect.signature(cls.__init__).parameters
        model_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in init_params and k not in ("self", "config")}
        if kwargs:
            raise TypeError(
                f"{cls.__name__}.from_pretrained() got unexpected keyword arguments {sorted(kwargs)}; it accepts "
                f"config fields, arguments of {cls.__name__}.__init__, dtype/torch_dtype, ignore_mismatched_sizes, output_loading_info, state_dict, "
                "use_safetensors, device_map and the hub arguments " + ", ".join(HUB_KWARGS)
            )

        blocks = {}
        if state_dict is None and checkpoint.gguf_file is not None:
            _, state_dict, blocks = load_gguf_checkpoint(checkpoint.folder / checkpoint.gguf_file,
                                                         keep_quantized=not dequantize)
        if state_dict is None:
            state_dict = load_checkpoint(checkpoint.folder, name, use_safetensors=use_safetensors)
        target_dtype = resolve_dtype(dtype, config, state_dict)

        with torch.device("meta"), no_init():
            model = cls(config, *model_args, **model_kwargs)  # e.g. BertModel's add_pooling_layer=False
        gguf_linears(model, {k: b for k, b in blocks.items() if k not in state_dict})  # before: they are real
        info = load_state_dict_into(model, state_dict, name, target_dtype, ignore_mismatched_sizes)
        if config.tie_word_embeddings and "model.embed_tokens.weight" in blocks:  # lm_head: the embedding's blocks
            gguf_linears(model, {"lm_head.weight": blocks["model.embed_tokens.weight"]})
        if target_dtype is not None and target_dtype != torch.float32:
            model.to(target_dtype)
        if isinstance(device_map, (str, torch.device)) and str(device_map) not in ("auto", "cpu"):
            model.to(device_map)
        model.eval()  # like the reference: dropout off after loading
        if int8_skip is not None:
            quantize_int8(model, skip=int8_skip)
        if model.can_generate():  # generation_config.json, else the model config's token ids
            model.generation_config = load_generation_config(checkpoint.folder, config)
        return (model, info) if output_loading_info else model

    def _fix_prefix(self, state_dict: dict[str, Tensor], expected: Any) -> dict[str, Tensor]:
        """Base checkpoint into a head model (add ``bert.``) or head checkpoint into a base model (strip it)."""
        prefix = self.base_model_prefix
        if not prefix:
            return state_dict
        dot = prefix + "."
        has = any(k.startswith(dot) for k in state_dict)
        wants = any(k.startswith(dot) for k in expected)
        if wants and not has:
            return {dot + k: v for k, v in state_dict.items()}
        if has and not wants:
            return {k[len(dot):] if k.startswith(dot) else k: v for k, v in state_dict.items()}
        return state_dict

    def _tied_aliases(self) -> dict[str, str]:
        """Parameter names that are the same Parameter as an earlier name -> that earlier (canonical) name."""
        first: dict[int, str] = {}
        aliases: dict[str, str] = {}
        for n, p in self.named_parameters(remove_duplicate=False):
            if id(p) in first:
                aliases[n] = first[id(p)]
            else:
                first[id(p)] = n
        return aliases

    # --- saving ---
    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        *,
        state_dict: dict[str, Tensor] | None = None,
        safe_serialization: bool = True,
        is_main_process: bool = True,
        max_shard_size: int | str | None = "5GB",
    ) -> None:
        """Write config.json and model.safetensors (or pytorch_model.bin) that the reference can load.

        Tied copies (e.g. the MLM decoder weight) are saved once, as the reference does. Weights larger
        than `max_shard_size` ("5GB", "200KB", bytes) are cut into ``model-00001-of-0000N.safetensors``
        shards named by ``model.safetensors.index.json``. The folder is written atomically
        (:func:`minformers.weights.saving.atomic_folder`): a crash mid-save leaves the previous folder intact;
        files of the folder this save does not write (a tokenizer, a README) are kept.
        """
        if not is_main_process:
            return
        if any(isinstance(m, (Int8Linear, GGUFLinear)) for m in self.modules()):
            raise ValueError("this model's weights were quantised (quantize_int8, or GGUF blocks kept by dequantize=False) and cannot be saved as a "
                             "checkpoint; save the model before quantising it")
        limit = parse_size(max_shard_size if max_shard_size is not None else "5GB")
        config = copy.deepcopy(self.config)
        config.architectures = [type(self).__name__]
        if state_dict is None:
            aliases = self._tied_aliases()
            state_dict = {k: v.detach() for k, v in self.state_dict().items() if k not in aliases}
        for group in safetensors.shared_groups(state_dict.items()):  # anything else sharing memory: copy
            for k in group[1:]:
                state_dict[k] = state_dict[k].clone()
        with atomic_folder(save_directory, replaces=written_by_save_pretrained) as folder:
            config.save_pretrained(folder)
            write_weights(state_dict, folder, safe_serialization, limit)


# --- input checks shared by the models ---
def warn_if_padding_and_no_attention_mask(module: nn.Module, config: PretrainedConfig, input_ids: Tensor | None,
                                          attention_mask: Tensor | None) -> None:
    """Warn, once per model, when input_ids (B, T) look padded and no attention_mask was given.

    The reference's rule (``PreTrainedModel.warn_if_padding_and_no_attention_mask``): only the first and
    last column are looked at (cheap), and the text adds a note when the pad token is also bos/eos/sep.
    The reference warns once per process and only in some models; ours once per model, in every model
    forward that takes an attention_mask (its encoder for an encoder-decoder).
    """
    pad = config.pad_token_id
    if attention_mask is not None or input_ids is None or pad is None or input_ids.dim() < 2 or \
            input_ids.shape[-1] == 0 or module.__dict__.get("_warned_padding_mask") or torch.jit.is_tracing() or \
            torch.compiler.is_compiling() or not bool((input_ids[..., [-1, 0]] == pad).any()):
        return
    module._warned_padding_mask = True
    text = ("We strongly recommend passing in an `attention_mask` since your input_ids may be padded. See "
            "https://huggingface.co/docs/transformers/troubleshooting#incorrect-output-when-padding-tokens-arent-masked.")
    eos = config.eos_token_id if isinstance(config.eos_token_id, list) else [config.eos_token_id]
    if pad in (config.bos_token_id, config.sep_token_id, *eos):
        text += (f"\nYou may ignore this warning if your `pad_token_id` ({pad}) is identical to the `bos_token_id` "
                 f"({config.bos_token_id}), `eos_token_id` ({config.eos_token_id}), or the `sep_token_id` "
                 f"({config.sep_token_id}), and your input is not padded.")
    logger.warning(text)

