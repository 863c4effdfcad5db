"""PretrainedConfig: a model's hyper-parameters as typed data whose field names are config.json keys.

A model config subclasses :class:`PretrainedConfig` and declares its fields like a
dataclass (``hidden_size: int = 768``). Keys we do not know are kept as plain
attributes, so a config survives a load/save round trip unchanged (DESIGN rule 3).
This module does not import torch: loading a config is cheap.
"""

from __future__ import annotations

import copy
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

from .checkpoint import CONFIG_NAME, Checkpoint, read_config_file, resolve_checkpoint
from .files import write_atomic

logger = logging.getLogger(__name__)

# keyword arguments of `from_pretrained` that say where files come from (for checkpoint.resolve_checkpoint)
HUB_KWARGS = ("revision", "cache_dir", "local_files_only", "token", "force_download", "subfolder")
# accepted for compatibility with the reference and ignored
IGNORED_HUB_KWARGS = ("use_auth_token", "proxies", "resume_download", "_from_pipeline",
                      "_from_auto", "_commit_hash", "user_agent", "code_revision")


def pop_hub_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Take the file-location keyword arguments out of `kwargs` (ignored compatibility ones are dropped)."""
    if kwargs.pop("trust_remote_code", None):
        raise ValueError(
            "trust_remote_code=True is refused: minformers runs only its own architectures and never executes "
            "code that comes with a checkpoint"
        )
    hub = {k: kwargs.pop(k) for k in HUB_KWARGS if k in kwargs}
    for k in IGNORED_HUB_KWARGS:
        kwargs.pop(k, None)
    if hub.get("subfolder") is None:
        hub.pop("subfolder", None)
    return hub


# the transformers release whose config.json format we write (the "transformers_version" key, which the
# reference reads to pick legacy behaviours): the version minformers is tested against
TRANSFORMERS_VERSION = "4.57.6"

# keys every reference config has (transformers.PretrainedConfig().to_dict()) that are not fields of ours,
# with the reference's defaults: a config that holds one (read from a config.json) hides it in its diff
# when it has the default value, as the reference does
_REFERENCE_ONLY_BASE_DEFAULTS: dict[str, Any] = {
    "dtype": None, "cross_attention_hidden_size": None, "tie_encoder_decoder": False, "max_length": 20,
    "min_length": 0, "do_sample": False, "early_stopping": False, "num_beams": 1, "temperature": 1.0, "top_k": 50,
    "top_p": 1.0, "typical_p": 1.0, "repetition_penalty": 1.0, "length_penalty": 1.0, "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0, "bad_words_ids": None, "num_return_sequences": 1, "output_scores": False,
    "return_dict_in_generate": False, "forced_bos_token_id": None, "forced_eos_token_id": None,
    "remove_invalid_values": False, "exponential_decay_length_penalty": None, "suppress_tokens": None,
    "begin_suppress_tokens": None, "num_beam_groups": 1, "diversity_penalty": 0.0, "tf_legacy_loss": False,
    "use_bfloat16": False,
}


def _jsonable(value: Any) -> Any:
    """torch.dtype -> "float32" (configs store names, not objects); everything else unchanged."""
    if type(value).__module__ == "torch" and type(value).__name__ == "dtype":
        return str(value).removeprefix("torch.")
    return value


class PretrainedConfig:
    """Base class of all model configs; field names and defaults follow the reference's config.json keys."""

    model_type: ClassVar[str] = ""
    # other names the reference accepts for a field, e.g. DistilBERT's {"hidden_size": "dim"}
    attribute_map: ClassVar[dict[str, str]] = {}
    _fields: ClassVar[dict[str, Any]] = {}  # field -> default, filled in by __init_subclass__
    _own_fields: ClassVar[list[str]] = []  # this class's fields, in order (for positional arguments)
    # inherited fields this class does not have (the reference's config has no such key): not stored,
    # not written; a value passed anyway is kept like any unknown key
    _dropped_fields: ClassVar[tuple[str, ...]] = ()

    # --- fields every model has (the reference's PretrainedConfig keys that matter to us) ---
    return_dict: bool = True
    output_hidden_states: bool = False
    output_attentions: bool = False
    torchscript: bool = False
    tie_word_embeddings: bool = True
    is_decoder: bool = False
    is_encoder_decoder: bool = False
    add_cross_attention: bool = False
    chunk_size_feed_forward: int = 0
    pruned_heads: dict = {}
    architectures: list[str] | None = None
    finetuning_task: str | None = None
    id2label: dict[int, str] | None = None  # None -> num_labels (default 2) labels "LABEL_i"
    label2id: dict[str, int] | None = None
    problem_type: str | None = None  # regression | single_label_classification | multi_label_classification
    tokenizer_class: str | None = None
    prefix: str | None = None
    bos_token_id: int | None = None
    pad_token_id: int | None = None
    eos_token_id: int | None = None
    sep_token_id: int | None = None
    decoder_start_token_id: int | None = None
    task_specific_params: dict | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields, cls._own_fields = _collect_fields(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self._own_fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(self._own_fields)} positional arguments")
        for name, value in zip(self._own_fields, args):
            if name in kwargs:
                raise TypeError(f"{type(self).__name__} got multiple values for argument {name!r}")
            kwargs[name] = value
        for alias, target in self.attribute_map.items():
            if alias in kwargs:
                kwargs[target] = kwargs.pop(alias)
        kwargs.pop("model_type", None)  # a class property, not instance data
        num_labels = kwargs.pop("num_labels", None)
        self._name_or_path = str(kwargs.pop("_name_or_path", kwargs.pop("name_or_path", "")))
        for name, default in self._fields.items():
            value = kwargs.pop(name) if name in kwargs else copy.deepcopy(default)
            object.__setattr__(self, name, value)
        problem_types = (None, "regression", "single_label_classification", "multi_label_classification")
        if self.problem_type not in problem_types:
            raise ValueError(f"problem_type must be one of {problem_types}, got {self.problem_type!r}")
        if self.id2label is None:
            self.num_labels = 2 if num_labels is None else num_labels
        else:
            self.id2label = {int(k): v for k, v in self.id2label.items()}  # JSON keys are strings
            if self.label2id is None:
                self.label2id = {v: k for k, v in self.id2label.items()}
            if num_labels is not None and num_labels != len(self.id2label):
                logger.warning("num_labels=%d disagrees with id2label %s: id2label wins", num_labels, self.id2label)
        if self.label2id is not None:
            self.label2id = {k: int(v) for k, v in self.label2id.items()}
        for name, value in kwargs.items():  # keys we do not know: kept as they are
            setattr(self, name, value)

    # --- aliases (attribute_map) ---
    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(self.attribute_map.get(name, name), value)

    def __getattr__(self, name: str) -> Any:  # only called when normal lookup fails
        target = type(self).attribute_map.get(name)
        if target is not None:
            return getattr(self, target)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    # --- derived properties ---
    @property
    def num_labels(self) -> int:
        return len(self.id2label) if self.id2label is not None else 0

    @num_labels.setter
    def num_labels(self, n: int) -> None:
        if self.id2label is None or len(self.id2label) != n:
            self.id2label = {i: f"LABEL_{i}" for i in range(n)}
            self.label2id = {v: k for k, v in self.id2label.items()}

    @property
    def use_return_dict(self) -> bool:
        return self.return_dict and not self.torchscript

    @property
    def name_or_path(self) -> str:
        return self._name_or_path

    @name_or_path.setter
    def name_or_path(self, value: str) -> None:
        self._name_or_path = str(value)

    # --- dict / JSON ---
    def to_dict(self) -> dict[str, Any]:
        """Every field and every unknown key, plus ``model_type`` and ``transformers_version`` (what config.json
        holds; the version is always the one we write, as the reference writes its own)."""
        out = {k: copy.deepcopy(_jsonable(v)) for k, v in self.__dict__.items() if not k.startswith("_")}
        if self.model_type:
            out["model_type"] = self.model_type
        out["transformers_version"] = TRANSFORMERS_VERSION
        return out

    def to_diff_dict(self) -> dict[str, Any]:
        """The readable part of :meth:`to_dict`, by the reference's rule (``PretrainedConfig.to_diff_dict``).

        A key common to every config (a base field such as ``return_dict``, or a reference base key such
        as ``max_length``) is dropped when it has both the base default and this class's default; every
        model-specific key is kept (``hidden_size`` even at its default), and so are ``model_type`` and
        ``transformers_version``. ``print(config)`` shows this.
        """
        base = {**_REFERENCE_ONLY_BASE_DEFAULTS, **PretrainedConfig().to_dict()}
        own = type(self)().to_dict()
        out = {}
        for key, value in self.to_dict().items():
            if (key not in base or key in ("transformers_version", "vocab_file") or value != base[key]
                    or value != own.get(key, value)):
                out[key] = value
        return out

    def to_json_string(self, use_diff: bool = True) -> str:
        """JSON of :meth:`to_diff_dict` (the default, as the reference's) or, with ``use_diff=False``, of
        :meth:`to_dict`; keys sorted, two-space indent, a final newline."""
        data = self.to_diff_dict() if use_diff else self.to_dict()
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def to_json_file(self, path: str | os.PathLike, use_diff: bool = True) -> None:
        write_atomic(Path(path), self.to_json_string(use_diff))

    def update(self, values: dict[str, Any]) -> None:
        for k, v in values.items():
            setattr(self, k, v)

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
        """Build from a config.json dict; `kwargs` naming attributes override it.

        With ``return_unused_kwargs=True`` returns ``(config, unused_kwargs)``, like the reference.
        """
        return_unused = kwargs.pop("return_unused_kwargs", False)
        config = cls(**copy.deepcopy(config_dict))
        unused = {}
        for key, value in kwargs.items():
            if key in ("num_labels", "name_or_path") or hasattr(config, key):
                setattr(config, key, value)
                if key == "id2label" and value is not None:
                    config.id2label = {int(k): v for k, v in value.items()}
                    if "label2id" not in kwargs:
                        config.label2id = {v: k for k, v in config.id2label.items()}
            else:
                unused[key] = value
        return (config, unused) if return_unused else config

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> Any:
        return cls.from_dict(read_config_file(Path(path)))

    # --- folders ---
    @classmethod
    def get_config_dict(cls, name_or_path: str | os.PathLike | Checkpoint, **hub_kwargs: Any
                        ) -> tuple[dict[str, Any], Path]:
        """Read config.json of a model folder or id (or a resolved Checkpoint); returns (dict, folder)."""
        checkpoint = resolve_checkpoint(name_or_path, weights=False, **hub_kwargs)  # a config needs no weights
        return checkpoint.config_dict(), checkpoint.folder

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike | Checkpoint, **kwargs: Any) -> Any:
        """Load config.json from a folder or model id; keyword arguments naming fields override it."""
        hub = pop_hub_kwargs(kwargs)
        checkpoint = resolve_checkpoint(pretrained_model_name_or_path, weights=False, **hub)
        config_dict = checkpoint.config_dict()
        found = config_dict.get("model_type")
        if cls.model_type and found and found != cls.model_type:
            logger.warning(
                "You are using a model of type %s to instantiate a model of type %s. This is not supported for "
                "all configurations of models and can yield errors.", found, cls.model_type,
            )
        config_dict.setdefault("_name_or_path", checkpoint.name)
        result = cls.from_dict(config_dict, **kwargs)
        config = result[0] if isinstance(result, tuple) else result
        config._name_or_path = checkpoint.name
        return result

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Write config.json into `save_directory` (created if needed)."""
        folder = Path(save_directory)
        if folder.is_file():
            raise OSError(f"save_pretrained needs a folder, but {folder} is a file")
        folder.mkdir(parents=True, exist_ok=True)
        self.to_json_file(folder / CONFIG_NAME, use_diff=False)  # the full config: every key, explicit

    # --- misc ---
    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """``BertConfig {...}``: the class name and the JSON of :meth:`to_diff_dict`, as the reference prints."""
        return f"{type(self).__name__} {self.to_json_string()}"


def _collect_fields(cls: type) -> tuple[dict[str, Any], list[str]]:
    """Fields = annotated class attributes with defaults (not ClassVar), base classes first."""
    fields: dict[str, Any] = {}
    own: list[str] = []
    for klass in reversed(cls.__mro__):
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():
            if "ClassVar" in str(annotation) or name.startswith("_"):
                continue
            if name not in klass.__dict__:
                raise TypeError(f"config field {klass.__name__}.{name} needs a default value")
            fields[name] = klass.__dict__[name]
            if klass is cls:
                own.append(name)
    for name in getattr(cls, "_dropped_fields", ()):
        fields.pop(name, None)
    return fields, own


PretrainedConfig._fields, PretrainedConfig._own_fields = _collect_fields(PretrainedConfig)
