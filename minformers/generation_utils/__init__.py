"""Pieces of :mod:`minformers.generation`: GenerationConfig (validated once), logits processors, streamers."""
