"""Reading and writing weights: every byte of a checkpoint's tensors goes through here.

    safetensors.py   our safetensors reader (validated header, memory-mapped data) and writer
    loading.py       a folder's weights -> a state dict (safetensors, sharded, pytorch_model.bin through
                     weights_only), and a state dict -> a model built on the meta device
    gguf.py          a GGUF file and its metadata -> a config dict (no torch)
    gguf_tensors.py  GGUF tensors -> a dequantised state dict
    saving.py        atomic folder saves, sharding, writing a save_pretrained's weights
    from_onnx.py     a quantised ONNX graph -> a state dict (the offline ner default of old)

This package knows files, not names: :mod:`minformers.checkpoint` resolves a name once and hands
the folder here. Nothing is imported at package level, so ``minformers.weights.gguf`` stays cheap.
"""

# checkpoint file names, as the reference writes and reads them
SAFE_WEIGHTS_NAME = "model.safetensors"
SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
WEIGHTS_NAME = "pytorch_model.bin"
WEIGHTS_INDEX_NAME = "pytorch_model.bin.index.json"
