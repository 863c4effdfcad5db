"""Reading a checkpoint folder's weights, and putting them into a model built on the ``meta`` device.

The loading half of ``PreTrainedModel.from_pretrained`` (:mod:`minformers.modeling` keeps the class):

1. :func:`no_init` builds the module with no weight init (ours skipped in ``post_init``, torch's
   ``reset_parameters`` too);
2. :func:`load_checkpoint` memory-maps the weights (safetensors through :mod:`.safetensors`,
   ``pytorch_model.bin`` only through ``torch.load(weights_only=True, mmap=True)``), single or sharded;
3. :func:`load_state_dict_into` makes the parameters *be* the mapped tensors
   (``load_state_dict(assign=True)``), materialises and initialises only what the checkpoint lacks,
   and reports unused and newly initialised weights with the reference's messages.
"""

from __future__ import annotations

import logging
import pickle
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import Tensor, nn

from ..hub import checkpoint_file, shard_names
from . import SAFE_WEIGHTS_INDEX_NAME, SAFE_WEIGHTS_NAME, WEIGHTS_INDEX_NAME, WEIGHTS_NAME
from .safetensors import load_file

# the reference's load messages, under the logger name they always had (users silence it by that name)
logger = logging.getLogger("minformers.modeling")

def load_checkpoint(folder: Path, name: str, use_safetensors: bool | None = None) -> dict[str, Tensor]:
    """The state dict of a model folder: safetensors (single or sharded) first, then pytorch_model.bin."""
    candidates = []
    if use_safetensors is not False:
        candidates += [SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME]
    if use_safetensors is not True:
        candidates += [WEIGHTS_NAME, WEIGHTS_INDEX_NAME]
    for filename in candidates:
        path = folder / filename
        if not path.is_file():
            continue
        if filename.endswith(".index.json"):
            state_dict: dict[str, Tensor] = {}
            for shard in shard_names(path):  # refuses names that leave the folder (../, absolute)
                shard_path = checkpoint_file(folder, shard)
                if not shard_path.is_file():
                    raise OSError(f"{path} lists the shard {shard!r}, but {shard_path} does not exist")
                state_dict.update(_load_weights_file(shard_path))
            return state_dict
        return _load_weights_file(path)
    raise OSError(
        f"{name} does not appear to have a file named {', '.join(candidates[:-1])} or {candidates[-1]} "
        f"(looked in {folder})."
    )


def _load_weights_file(path: Path) -> dict[str, Tensor]:
    if path.suffix == ".safetensors":
        return load_file(path)
    return load_torch_file(path)


def load_torch_file(path: Path) -> dict[str, Tensor]:
    """A pytorch_model.bin, only through torch.load(weights_only=True): a pickle that would run code is refused."""
    try:
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e):
                raise
            state_dict = torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format
    except pickle.UnpicklingError as e:
        raise OSError(
            f"Refusing to load {path}: it holds Python objects other than tensors, and unpickling them could "
            f"run code from the file. Convert the checkpoint to safetensors. ({str(e).splitlines()[0]})"
        ) from e
    except (RuntimeError, EOFError, ValueError) as e:
        raise OSError(f"Unable to load weights from {path}: the file is corrupt or not a PyTorch checkpoint ({e})") from e
    if not isinstance(state_dict, dict) or not all(isinstance(v, Tensor) for v in state_dict.values()):
        raise OSError(f"{path} does not hold a state dict (a mapping of names to tensors)")
    return state_dict


# Legacy checkpoint key -> our key (DESIGN rule 2: renames are data). Old TF-converted BERT
# checkpoints name LayerNorm parameters gamma/beta; the reference renames them the same way.
CHECKPOINT_RENAMES: tuple[tuple[str, str], ...] = (
    (r"LayerNorm\.gamma$", "LayerNorm.weight"),
    (r"LayerNorm\.beta$", "LayerNorm.bias"),
)


def rename_legacy_keys(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    out = {}
    for key, value in state_dict.items():
        for pattern, new in CHECKPOINT_RENAMES:
            key = re.sub(pattern, new, key)
        out[key] = value
    return out


def resolve_dtype(dtype: Any, config: Any, state_dict: dict[str, Tensor] | None) -> torch.dtype | None:
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


_SKIP_INIT = 0  # > 0 while from_pretrained builds a model whose weights will come from a checkpoint


# torch modules whose constructors randomly initialise their weights (reset_parameters)
_TORCH_INIT_MODULES = (nn.Linear, nn.Embedding, nn.LayerNorm)


@contextmanager
def no_init() -> Iterator[None]:
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


def skipping_init() -> bool:
    """True while :func:`no_init` builds a model whose weights will come from a checkpoint."""
    return _SKIP_INIT > 0


def load_state_dict_into(
    model: nn.Module, state_dict: dict[str, Tensor], name: str, dtype: torch.dtype | None, ignore_mismatched_sizes: bool
) -> dict[str, list]:
    """Assign checkpoint tensors to the meta-device `model`; initialise what is missing; report.

    The model's own hooks decide what the checkpoint's keys mean: ``_fix_prefix`` (base <-> head
    checkpoints), ``_tied_aliases``, ``_keys_to_ignore_on_load_unexpected``, ``_init_weights``, ``tie_weights``.
    """
    state_dict = rename_legacy_keys(state_dict)
    expected = model.state_dict(keep_vars=True)  # name -> meta Parameter (tied names appear twice)
    state_dict = model._fix_prefix(state_dict, expected.keys())
    aliases = model._tied_aliases()  # alias name -> canonical name

    ignore = re.compile("|".join(model._keys_to_ignore_on_load_unexpected)) \
        if model._keys_to_ignore_on_load_unexpected else None
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
            f"Error(s) in loading state_dict for {type(model).__name__}:\n\t" + "\n\t".join(errors)
            + "\n\tYou may consider adding `ignore_mismatched_sizes=True` in the model `from_pretrained` method."
        )
    model.load_state_dict(to_load, strict=False, assign=True)
    missing = [k for k in expected if k not in to_load and k not in aliases]
    _materialize_and_init(model, missing)
    model.tie_weights()
    still_meta = [n for n, p in model.named_parameters() if p.is_meta] + \
                 [n for n, b in model.named_buffers() if b.is_meta]
    if still_meta:  # pragma: no cover - a bug guard
        raise RuntimeError(f"{type(model).__name__}: weights left uninitialised after loading: {still_meta}")

    newly = [k for k in missing if k not in {m[0] for m in mismatched}]
    if unexpected:
        archs = model.config.architectures or []
        warner = logger.warning if type(model).__name__ in archs else logger.info
        cls_name = type(model).__name__
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
            f"Some weights of {type(model).__name__} were not initialized from the model checkpoint at {name} "
            f"and are newly initialized: {newly}\nYou should probably TRAIN this model on a down-stream task "
            "to be able to use it for predictions and inference."
        )
    if mismatched:
        lines = "\n".join(f"- {k}: found shape {a} in the checkpoint and {b} in the model instantiated"
                          for k, a, b in mismatched)
        logger.warning(
            f"Some weights of {type(model).__name__} were not initialized from the model checkpoint at {name} "
            f"and are newly initialized because the shapes did not match:\n{lines}\nYou should probably TRAIN "
            "this model on a down-stream task to be able to use it for predictions and inference."
        )
    return {"missing_keys": newly, "unexpected_keys": unexpected,
            "mismatched_keys": [m[0] for m in mismatched], "error_msgs": []}


def _materialize_and_init(model: nn.Module, missing: list[str]) -> None:
    """Give each missing (meta) weight real memory and the reference's random init."""
    by_module: dict[str, None] = {}
    for key in missing:
        by_module.setdefault(key.rpartition(".")[0], None)
    for module_name in by_module:
        module = model.get_submodule(module_name)
        loaded = {n: p for n, p in module._parameters.items() if p is not None and not p.is_meta}
        for n, p in list(module._parameters.items()):  # fresh memory for all (init may touch all)
            if p is not None:  # torch.empty, not to_empty: empty_like on meta imports sympy (~1 s)
                module._parameters[n] = nn.Parameter(torch.empty(p.shape, dtype=p.dtype),
                                                     requires_grad=p.requires_grad)
        with torch.no_grad():
            model._init_weights(module)
        for n, p in loaded.items():  # keep what the checkpoint gave
            module._parameters[n] = p
