"""The tokenizer engine, laid out as huggingface/tokenizers lays it out: five swappable stages.

    text ──► normalizers ──► pre_tokenizers ──► models ──► processors ──► Encoding
                                                (wordpiece, bpe,            (decoders on the way back)
                                                 unigram, wordlevel)

:mod:`.tokenizer` composes them (``Tokenizer``, ``AddedToken``); :mod:`.encoding`
is one tokenised row; :mod:`.serialization` maps every tokenizer.json ``"type"``
to its class; :mod:`.trainers` learns a new WordPiece/BPE vocabulary;
:mod:`.sentencepiece` is the SentencePiece library's own pipeline (Marian);
:mod:`.patterns` the reference's Unicode classes and regexes. Nothing here
imports the ``transformers``-style API one floor up (``minformers.tokenization``).
"""
