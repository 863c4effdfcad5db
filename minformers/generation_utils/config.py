"""Shim (issue 15): moved to :mod:`minformers.generation.config`."""

from ..generation.config import GENERATION_CONFIG_NAME, UNSUPPORTED, GenerationConfig, load_generation_config

__all__ = ["GENERATION_CONFIG_NAME", "UNSUPPORTED", "GenerationConfig", "load_generation_config"]
