"""PreTrainedModel: one shallow base class that loads, saves, initialises and ties weights.

Loading (``from_pretrained``) is built for a fast cold start:

1. the module is constructed on the ``meta`` device (no memory, no random init);
2. the checkpoint is memory-mapped (safetensors through :mod:`minformers.serialization`,
   ``pytorch_model.bin`` only through ``torch.load(weights_only=True, mmap=True)``);
3. ``load_state_dict(assign=True)`` makes the parameters *be* the mapped tensors;
4. only the weights the checkpoint lacks are materialised and randomly initialised.

Unused and newly initialised weights are reported with the reference's messages.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Iterator

import torch
from torch import Tensor, nn

from . import serialization
from .serialization import (SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME,  # noqa: F401
                            load_checkpoint, load_torch_file)
from .configuration import CONFIG_NAME, HUB_KWARGS, PretrainedConfig, pop_hub_kwargs, read_config_file
from .kernels import Int8Linear, int8_request, quantize_int8

logger = logging.getLogger(__name__)


# Legacy checkpoint key -> our key (DESIGN rule 2: renames are data). Old TF-converted BERT
# checkpoints name LayerNorm parameters gamma/beta; the reference renames them the same way.
CHECKPOINT_RENAMES: tuple[tuple[str, str], ...] = (
    (r"LayerNorm\.gamma$", "LayerNorm.weight"),
    (r"LayerNorm\.beta$", "LayerNorm.bias"),
)

# from_pretrained keywords the reference accepts that change nothing here
_IGNORED_LOAD_KWARGS = ("low_cpu_mem_usage", "_fast_init", "attn_implementation", "offload_folder",
                        "offload_state_dict", "variant", "adapter_kwargs", "tp_plan",
                        "key_mapping", "weights_only", "from_tf", "from_flax", "mirror")

_SKIP_INIT = 0  # > 0 while from_pretrained builds a model whose weights will come from a checkpoint


# torch modules whose constructors randomly initialise their weights (reset_parameters)
_TORCH_INIT_MODULES = (nn.Linear, nn.Embedding, nn.LayerNorm)


@contextmanager
def _no_init() -> Iterator[None]:
    """Build modules without any weight init: ours is skipped (post_init) and torch's reset_parameters too.

    Skipping torch's init matters even on the meta device: the first meta ``normal_`` imports
    torch's symbolic-shape machinery (sympy), which costs seconds of cold start. Like the reference's
    ``no_init_weights``, this patches process-wide while a model is being built: do not construct
    other modules in another thread during ``from_pretrained``.
    """
    global _SKIP_INIT
    saved = {cls: cls.__dict__["reset_parameters"] for cls in _TORCH_INIT_MODULES}
    _SKIP_INIT += 1
    for cls in _TORCH_INIT_MODULES:
        cls.reset_parameters = lambda self: None
    try:
        yield
    finally:
        _SKIP_INIT -= 1
        if not _SKIP_INIT:
            for cls, method in saved.items():
                cls.reset_parameters = method


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
        if not _SKIP_INIT:
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
            model.to(_resolve_dtype(dtype, config, None))
        return model

    from_config = _from_config

    # --- loading ---
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *model_args: Any,
        config: PretrainedConfig | str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load a model from a folder or model id (config.json + model.safetensors / shards / pytorch_model.bin).

        Keyword arguments naming config fields (``num_labels=3``, ``id2label=...``) override the config;
        also ``dtype``/``torch_dtype`` ("auto", "float16", torch.bfloat16, ...), ``ignore_mismatched_sizes``,
        ``output_loading_info``, ``state_dict``, ``use_safetensors``, ``quantization_config`` (weight-only
        int8 only, see :func:`minformers.kernels.int8_request`) and the hub keywords of
        :func:`minformers.hub.resolve_model_dir`.
        """
        from .hub import resolve_model_dir

        hub = pop_hub_kwargs(kwargs)
        dtype = kwargs.pop("dtype", None)
        torch_dtype = kwargs.pop("torch_dtype", None)
        dtype = dtype if dtype is not None else torch_dtype
        output_loading_info = kwargs.pop("output_loading_info", False)
        ignore_mismatched_sizes = kwargs.pop("ignore_mismatched_sizes", False)
        state_dict = kwargs.pop("state_dict", None)
        use_safetensors = kwargs.pop("use_safetensors", None)
        device_map = kwargs.pop("device_map", None)
        gguf_file = kwargs.pop("gguf_file", None)  # a GGUF file in the folder: config + weights come from it
        int8_skip = int8_request(kwargs.pop("quantization_config", None))  # None: no quantisation asked for
        for k in _IGNORED_LOAD_KWARGS:
            kwargs.pop(k, None)

        name = os.fspath(pretrained_model_name_or_path)
        # a GGUF checkpoint needs that one file instead of the safetensors/.bin weights
        folder = resolve_model_dir(name, **hub, **({"filenames": [gguf_file]} if gguf_file is not None else {}))
        if config is None or isinstance(config, (str, os.PathLike)):
            config_folder = folder if config is None else resolve_model_dir(config, **hub, filenames=())
            if gguf_file is not None and config is None:
                from .gguf import gguf_config_dict

                config_dict = gguf_config_dict(folder / gguf_file)
            else:
                config_dict = read_config_file(config_folder / CONFIG_NAME)
            config, kwargs = cls.config_class.from_dict(config_dict, return_unused_kwargs=True, **kwargs)
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

        if state_dict is None and gguf_file is not None:
            from .gguf import load_gguf_checkpoint

            state_dict = load_gguf_checkpoint(folder / gguf_file)[1]
        if state_dict is None:
            state_dict = load_checkpoint(folder, name, use_safetensors=use_safetensors)
        target_dtype = _resolve_dtype(dtype, config, state_dict)

        with torch.device("meta"), _no_init():
            model = cls(config, *model_args, **model_kwargs)  # e.g. BertModel's add_pooling_layer=False
        info = model._load_pretrained_state_dict(state_dict, name, target_dtype, ignore_mismatched_sizes)
        if target_dtype is not None and target_dtype != torch.float32:
            model.to(target_dtype)
        if isinstance(device_map, (str, torch.device)) and str(device_map) not in ("auto", "cpu"):
            model.to(device_map)
        model.eval()  # like the reference: dropout off after loading
        if int8_skip is not None:
            quantize_int8(model, skip=int8_skip)
        if model.can_generate():  # generation_config.json, else the model config's token ids
            from .generation import load_generation_config

            model.generation_config = load_generation_config(folder, config)
        return (model, info) if output_loading_info else model

    def _load_pretrained_state_dict(
        self, state_dict: dict[str, Tensor], name: str, dtype: torch.dtype | None, ignore_mismatched_sizes: bool
    ) -> dict[str, list]:
        """Assign checkpoint tensors to this meta-device model; initialise what is missing; report."""
        state_dict = _rename_legacy_keys(state_dict)
        expected = self.state_dict(keep_vars=True)  # name -> meta Parameter (tied names appear twice)
        state_dict = self._fix_prefix(state_dict, expected.keys())
        aliases = self._tied_aliases()  # alias name -> canonical name

        ignore = re.compile("|".join(self._keys_to_ignore_on_load_unexpected)) \
            if self._keys_to_ignore_on_load_unexpected else None
        to_load: dict[str, Tensor] = {}
        unexpected, mismatched, errors = [], [], []
        for key, tensor in state_dict.items():
            if key not in expected:
                if ignore is None or not ignore.search(key):
                    unexpected.append(key)
                continue
            target = aliases.get(key, key)
            if target != key and target in state_dict:
                continue  # a tied copy: the canonical tensor wins, as in the reference
            want = expected[target]
            if tuple(tensor.shape) != tuple(want.shape):
                if ignore_mismatched_sizes:
                    mismatched.append((key, tuple(tensor.shape), tuple(want.shape)))
                else:
                    errors.append(f"size mismatch for {key}: copying a param with shape {tuple(tensor.shape)} "
                                  f"from checkpoint, the shape in current model is {tuple(want.shape)}.")
                continue
            if tensor.is_floating_point() and want.is_floating_point():
                tensor = tensor.to(dtype or want.dtype)
            to_load[target] = tensor
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
                + "\n\tYou may consider adding `ignore_mismatched_sizes=True` in the model `from_pretrained` method."
            )
        self.load_state_dict(to_load, strict=False, assign=True)
        missing = [k for k in expected if k not in to_load and k not in aliases]
        self._materialize_and_init(missing)
        self.tie_weights()
        still_meta = [n for n, p in self.named_parameters() if p.is_meta] + \
                     [n for n, b in self.named_buffers() if b.is_meta]
        if still_meta:  # pragma: no cover - a bug guard
            raise RuntimeError(f"{type(self).__name__}: weights left uninitialised after loading: {still_meta}")

        newly = [k for k in missing if k not in {m[0] for m in mismatched}]
        if unexpected:
            archs = self.config.architectures or []
            warner = logger.warning if type(self).__name__ in archs else logger.info
            cls_name = type(self).__name__
            warner(
                f"Some weights of the model checkpoint at {name} were not used when initializing {cls_name}: "
                f"{unexpected}\n- This IS expected if you are initializing {cls_name} from the checkpoint of a model "
                "trained on another task or with another architecture (e.g. initializing a "
                "BertForSequenceClassification model from a BertForPreTraining model).\n- This IS NOT expected if "
                f"you are initializing {cls_name} from the checkpoint of a model that you expect to be exactly "
                "identical (initializing a BertForSequenceClassification model from a "
                "BertForSequenceClassification model)."
            )
        if newly:
            logger.warning(
                f"Some weights of {type(self).__name__} were not initialized from the model checkpoint at {name} "
                f"and are newly initialized: {newly}\nYou should probably TRAIN this model on a down-stream task "
                "to be able to use it for predictions and inference."
            )
        if mismatched:
            lines = "\n".join(f"- {k}: found shape {a} in the checkpoint and {b} in the model instantiated"
                              for k, a, b in mismatched)
            logger.warning(
                f"Some weights of {type(self).__name__} were not initialized from the model checkpoint at {name} "
                f"and are newly initialized because the shapes did not match:\n{lines}\nYou should probably TRAIN "
                "this model on a down-stream task to be able to use it for predictions and inference."
            )
        return {"missing_keys": newly, "unexpected_keys": unexpected,
                "mismatched_keys": [m[0] for m in mismatched], "error_msgs": []}

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

    def _materialize_and_init(self, missing: list[str]) -> None:
        """Give each missing (meta) weight real memory and the reference's random init."""
        by_module: dict[str, None] = {}
        for key in missing:
            by_module.setdefault(key.rpartition(".")[0], None)
        for module_name in by_module:
            module = self.get_submodule(module_name)
            loaded = {n: p for n, p in module._parameters.items() if p is not None and not p.is_meta}
            for n, p in list(module._parameters.items()):  # fresh memory for all (init may touch all)
                if p is not None:  # torch.empty, not to_empty: empty_like on meta imports sympy (~1 s)
                    module._parameters[n] = nn.Parameter(torch.empty(p.shape, dtype=p.dtype),
                                                         requires_grad=p.requires_grad)
            with torch.no_grad():
                self._init_weights(module)
            for n, p in loaded.items():  # keep what the checkpoint gave
                module._parameters[n] = p

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
        (:func:`minformers.saving.atomic_folder`): a crash mid-save leaves the previous folder intact;
        files of the folder this save does not write (a tokenizer, a README) are kept.
        """
        from .saving import atomic_folder, parse_size, split_into_shards

        if not is_main_process:
            return
        if any(isinstance(m, Int8Linear) for m in self.modules()):
            raise ValueError("this model's weights were quantised by quantize_int8 and cannot be saved as a "
                             "checkpoint; save the model before quantising it")
        limit = parse_size(max_shard_size if max_shard_size is not None else "5GB")
        config = copy.deepcopy(self.config)
        config.architectures = [type(self).__name__]
        if state_dict is None:
            aliases = self._tied_aliases()
            state_dict = {k: v.detach() for k, v in self.state_dict().items() if k not in aliases}
        for group in serialization.shared_groups(state_dict.items()):  # anything else sharing memory: copy
            for k in group[1:]:
                state_dict[k] = state_dict[k].clone()
        weights_name = SAFE_WEIGHTS_NAME if safe_serialization else WEIGHTS_NAME
        shards = split_into_shards({k: v.numel() * v.element_size() for k, v in state_dict.items()}, limit)

        def write(tensors: dict[str, Tensor], path: Path) -> None:
            if safe_serialization:
                serialization.save_file(tensors, path)
            else:
                torch.save({k: v.contiguous() for k, v in tensors.items()}, path)

        with atomic_folder(save_directory, replaces=_written_by_save_pretrained) as folder:
            config.save_pretrained(folder)
            if len(shards) == 1:
                write(state_dict, folder / weights_name)
            else:
                stem, ext = weights_name.rsplit(".", 1)
                weight_map: dict[str, str] = {}
                for i, names in enumerate(shards, start=1):
                    shard = f"{stem}-{i:05d}-of-{len(shards):05d}.{ext}"
                    write({k: state_dict[k] for k in names}, folder / shard)
                    weight_map.update(dict.fromkeys(names, shard))
                total = sum(v.numel() * v.element_size() for v in state_dict.values())
                index = {"metadata": {"total_size": total}, "weight_map": weight_map}
                index_name = SAFE_WEIGHTS_INDEX_NAME if safe_serialization else WEIGHTS_INDEX_NAME
                (folder / index_name).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# files a save_pretrained replaces in an existing folder (stale weights of another format or shard count too)
_SAVED_FILES = re.compile(
    r"^(config\.json|model\.safetensors(\.index\.json)?|pytorch_model\.bin(\.index\.json)?"
    r"|model-\d{5}-of-\d{5}\.safetensors|pytorch_model-\d{5}-of-\d{5}\.bin)$"
)


def _written_by_save_pretrained(filename: str) -> bool:
    return _SAVED_FILES.match(filename) is not None


def _rename_legacy_keys(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    out = {}
    for key, value in state_dict.items():
        for pattern, new in CHECKPOINT_RENAMES:
            key = re.sub(pattern, new, key)
        out[key] = value
    return out


def _resolve_dtype(dtype: Any, config: PretrainedConfig, state_dict: dict[str, Tensor] | None) -> torch.dtype | None:
    """None -> None (float32, like the reference); "auto" -> the checkpoint's; names -> torch dtypes."""
    if dtype is None:
        return None
    if dtype == "auto":
        dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
        if dtype is None and state_dict:
            dtype = next((t.dtype for t in state_dict.values() if t.is_floating_point()), None)
        if dtype is None:
            return None
    if isinstance(dtype, str):
        value = getattr(torch, dtype.removeprefix("torch."), None)
        if not isinstance(value, torch.dtype):
            raise ValueError(f"unknown dtype {dtype!r}; use e.g. 'float32', 'float16', 'bfloat16' or 'auto'")
        dtype = value
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch.dtype, a dtype name or 'auto', got {dtype!r}")
    return dtype


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

