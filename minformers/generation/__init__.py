"""Text generation: ``model.generate(...)`` and what it is made of, in the order a token goes through it.

- :mod:`.config`: :class:`GenerationConfig`, every setting with the reference's defaults, validated once;
- :mod:`.processors`: the logits processors (temperature, top-k/p, penalties, ...), in the reference's order;
- :mod:`.cache`: the KV caches the models write into (dynamic, static, encoder-decoder);
- :mod:`.search`: the decoding loops, greedy / sampling and beam search, over a :class:`~.search.Stepper`;
- :mod:`.stopping`: eos tokens, stop strings, max_time;
- :mod:`.streamers`: hand each new token to the caller as it comes;
- :mod:`.generate`: :class:`GenerationMixin`, whose ``generate()`` is the door: it merges the call's
  settings into a copy of the config, validates it, and runs the loop.
"""

from .config import GENERATION_CONFIG_NAME, GenerationConfig, load_generation_config
from .generate import GenerationMixin
from .search import GenerateOutput
from .streamers import TextIteratorStreamer, TextStreamer

__all__ = ["GENERATION_CONFIG_NAME", "GenerationConfig", "GenerateOutput", "GenerationMixin", "TextIteratorStreamer",
           "TextStreamer", "load_generation_config"]
