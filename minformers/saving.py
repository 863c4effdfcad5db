"""Old path of :mod:`minformers.weights.saving` (a plain re-export)."""

from .weights.saving import (atomic_folder, is_stale_temporary, make_temp, parse_size, remove_folder,  # noqa: F401
                             remove_stale_temporaries, split_into_shards)
