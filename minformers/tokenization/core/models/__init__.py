"""Stage 3 of 5: the models (word -> sub-word tokens), one module each, as huggingface/tokenizers lays them out.

:mod:`.base` (what they share), :mod:`.wordpiece`, :mod:`.bpe`, :mod:`.unigram`,
:mod:`.wordlevel`. Which tokenizer.json ``"type"`` builds which model is
:mod:`..serialization`'s table.
"""
