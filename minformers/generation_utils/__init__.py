"""Pieces of :mod:`minformers.generation`: logits processors and streamers."""
