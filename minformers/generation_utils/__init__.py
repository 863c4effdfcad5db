"""Shim (issue 15): these modules moved into the :mod:`minformers.generation` package; the old paths re-export."""
