"""Shim (issue 15): the KV caches moved to :mod:`minformers.generation.cache`; this old path re-exports them."""

from .generation.cache import DynamicCache, EncoderDecoderCache, StaticCache

__all__ = ["DynamicCache", "EncoderDecoderCache", "StaticCache"]
