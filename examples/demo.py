"""The course's "behind the pipeline" walk-through, offline, on real models.

    make demo

1. pipeline("sentiment-analysis") with no model: minformers' own sentiment model
   (all-MiniLM-L6-v2 fine-tuned on Rotten Tomatoes, shipped in the package).
2. The three stages by hand on the same checkpoint: tokenizer -> token ids;
   model -> hidden states; head -> logits -> softmax -> label.
3. pipeline("feature-extraction"): sentence embeddings from the real MiniLM.
"""

from __future__ import annotations

import torch

from minformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline

RAW_INPUTS = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
]
CHECKPOINT = "minformers/sentiment-minilm"  # ships inside minformers (minformers/default_models/sentiment)


def main() -> None:
    print("== pipeline('sentiment-analysis') ==")
    classifier = pipeline("sentiment-analysis")
    for text, answer in zip(RAW_INPUTS, classifier(RAW_INPUTS)):
        print(f"  {text!r} -> {answer}")

    print("\n== 1. tokenizer: text -> token ids ==")
    tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
    inputs = tokenizer(RAW_INPUTS, padding=True, truncation=True, return_tensors="pt")
    for key, value in inputs.items():
        print(f"  {key}:\n{value}")

    print("\n== 2. model: token ids -> hidden states ==")
    model = AutoModel.from_pretrained(CHECKPOINT)
    with torch.inference_mode():
        outputs = model(**inputs)
    print(f"  last_hidden_state.shape = {tuple(outputs.last_hidden_state.shape)}  (batch, sequence, hidden)")

    print("\n== 3. head: hidden states -> logits -> softmax -> label ==")
    model = AutoModelForSequenceClassification.from_pretrained(CHECKPOINT)
    with torch.inference_mode():
        logits = model(**inputs).logits
    predictions = torch.nn.functional.softmax(logits, dim=-1)
    print(f"  logits:\n{logits}\n  softmax:\n{predictions}\n  id2label: {model.config.id2label}")
    for text, probs in zip(RAW_INPUTS, predictions):
        print(f"  {text!r} -> {model.config.id2label[int(probs.argmax())]} ({probs.max():.4f})")

    print("\n== pipeline('feature-extraction'): sentence embeddings (all-MiniLM-L6-v2) ==")
    extractor = pipeline("feature-extraction")
    sentences = RAW_INPUTS + ["This course is exactly what I hoped for.", "The weather in Paris is rainy today."]
    vectors = torch.tensor(extractor(sentences, pooling="mean", normalize=True)).squeeze(1)  # (N, H)
    similarity = vectors @ vectors.T
    for i, s in enumerate(sentences):
        print(f"  [{i}] {s}")
    print("  cosine similarity:")
    for i in range(len(sentences)):
        print("   ", " ".join(f"{similarity[i, j]:+.2f}" for j in range(len(sentences))))


if __name__ == "__main__":
    main()
