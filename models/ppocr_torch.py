"""PP-OCR's recognition ONNX run as a trainable torch module, and its weights written back.

PaddleOCR exports keep every weight as a ``Constant`` node and use a few dozen plain operators,
so a small interpreter over the graph is enough to train it: each float ``Constant`` becomes a
parameter, each node a torch call in graph order. Exporting is the reverse: the trained
tensors replace the constants of the original graph, which therefore keeps PaddleOCR's exact
operators and dynamic shapes, and nothing has to be traced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn
from torch.nn import functional

Op = Callable[[list[Any], dict[str, Any]], Any]
DTYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool}


def _slice(x: torch.Tensor, starts: Any, ends: Any, axes: Any = None, steps: Any = None) -> Any:
    index = [slice(None)] * x.dim()
    axes = axes.tolist() if axes is not None else range(len(starts))
    steps = steps.tolist() if steps is not None else [1] * len(starts)
    for a, s, e, st in zip(axes, starts.tolist(), ends.tolist(), steps, strict=True):
        index[a] = slice(s, min(e, x.shape[a]), st)
    return x[tuple(index)]


def _conv(i: list[Any], a: dict[str, Any]) -> torch.Tensor:
    pads = a.get("pads", [0, 0, 0, 0])
    if pads[:2] != pads[2:]:
        raise ValueError(f"asymmetric Conv padding {pads} is not supported")
    return functional.conv2d(
        i[0],
        i[1],
        i[2] if len(i) > 2 else None,
        stride=a.get("strides", 1),
        padding=pads[:2],
        dilation=a.get("dilations", 1),
        groups=a.get("group", 1),
    )


OPS: dict[str, Op] = {
    "Add": lambda i, a: i[0] + i[1],
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Div": lambda i, a: i[0] / i[1],
    "Pow": lambda i, a: i[0] ** i[1],
    "Sqrt": lambda i, a: torch.sqrt(i[0]),
    "MatMul": lambda i, a: i[0] @ i[1],
    "Relu": lambda i, a: functional.relu(i[0]),
    "Sigmoid": lambda i, a: torch.sigmoid(i[0]),
    "HardSigmoid": lambda i, a: torch.clamp(a["alpha"] * i[0] + a["beta"], 0.0, 1.0),
    "Clip": lambda i, a: torch.clamp(i[0], float(i[1]), float(i[2])),
    "Softmax": lambda i, a: torch.softmax(i[0], a.get("axis", -1)),
    "Conv": _conv,
    "BatchNormalization": lambda i, a: functional.batch_norm(
        i[0], i[3], i[4], i[1], i[2], training=False, eps=a.get("epsilon", 1e-5)
    ),
    "GlobalAveragePool": lambda i, a: i[0].mean((2, 3), keepdim=True),
    "AveragePool": lambda i, a: functional.avg_pool2d(
        i[0], a["kernel_shape"], a.get("strides"), ceil_mode=bool(a.get("ceil_mode", 0))
    ),
    "ReduceMean": lambda i, a: i[0].mean(a["axes"], keepdim=bool(a.get("keepdims", 1))),
    "Transpose": lambda i, a: i[0].permute(a["perm"]),
    "Reshape": lambda i, a: i[0].reshape(
        [i[0].shape[k] if v == 0 else v for k, v in enumerate(i[1].tolist())]
    ),
    "Squeeze": lambda i, a: i[0].squeeze(tuple(a["axes"])),
    "Concat": lambda i, a: torch.cat(i, a["axis"]),
    "Slice": lambda i, a: _slice(*i),
    "Shape": lambda i, a: torch.tensor(i[0].shape, dtype=torch.int64),
    "Cast": lambda i, a: i[0].to(DTYPES[a["to"]]),
}


class OnnxModule(nn.Module):
    """An ONNX graph as a torch module: float constants are parameters (batch-norm statistics
    stay fixed), every other node runs in order on each call; ``logits`` drops a final softmax.
    """

    def __init__(self, model: onnx.ModelProto, *, logits: bool = False) -> None:
        super().__init__()
        graph = model.graph
        self.input_name = graph.input[0].name
        self.output_name = graph.output[0].name
        stats = {
            name for n in graph.node if n.op_type == "BatchNormalization" for name in n.input[3:5]
        }
        self.weights = nn.ParameterDict()
        self.stats: dict[str, torch.Tensor] = {}
        self.constants: dict[str, torch.Tensor] = {}
        self.nodes: list[tuple[str, list[str], list[str], dict[str, Any]]] = []
        for n in graph.node:
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            if n.op_type == "Constant":
                value = torch.from_numpy(numpy_helper.to_array(attrs["value"]).copy())
                if value.is_floating_point() and value.numel() > 1:
                    if n.output[0] in stats:
                        self.stats[n.output[0]] = value
                    else:
                        self.weights[_key(n.output[0])] = nn.Parameter(value)
                else:
                    self.constants[n.output[0]] = value
                continue
            if n.op_type not in OPS:
                raise ValueError(f"operator {n.op_type} ({n.name}) is not supported")
            self.nodes.append((n.op_type, list(n.input), list(n.output), attrs))
        if logits and self.nodes[-1][0] == "Softmax":
            # Training wants the scores before the final softmax (for a stable log-softmax).
            self.output_name = self.nodes.pop()[1][0]

    @classmethod
    def load(cls, path: Path, *, logits: bool = False) -> OnnxModule:
        return cls(onnx.load(str(path)), logits=logits)

    def weight(self, name: str) -> nn.Parameter:
        weight: nn.Parameter = self.weights[_key(name)]
        return weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, Any] = {self.input_name: x}
        for op, inputs, outputs, attrs in self.nodes:
            args = [self._value(name, values) for name in inputs if name]
            values[outputs[0]] = OPS[op](args, attrs)
        out: torch.Tensor = values[self.output_name]
        return out

    def _value(self, name: str, values: Mapping[str, Any]) -> Any:
        if name in values:
            return values[name]
        key = _key(name)
        if key in self.weights:
            return self.weights[key]
        return self.stats[name] if name in self.stats else self.constants[name]

    def run_from(self, name: str) -> None:
        """Makes ``forward`` take the tensor ``name`` and run only the nodes after the one that
        makes it, so that a frozen front of the graph can run elsewhere (in onnxruntime)."""
        (k,) = [k for k, node in enumerate(self.nodes) if name in node[2]]
        self.input_name, self.nodes = name, self.nodes[k + 1 :]

    def used(self) -> list[nn.Parameter]:
        """The parameters that the nodes ``forward`` runs use."""
        keys = {_key(name) for node in self.nodes for name in node[1]}
        return [p for k, p in self.weights.items() if k in keys]


def _key(name: str) -> str:
    # ParameterDict keys may not contain dots.
    return name.replace(".", "__")


def write_back(
    module: OnnxModule, source: Path, out: Path, metadata: Mapping[str, str] | None = None
) -> None:
    """The graph of ``source`` with ``module``'s current weights in its constants."""
    model = onnx.load(str(source))
    for n in model.graph.node:
        if n.op_type == "Constant" and _key(n.output[0]) in module.weights:
            tensor = module.weights[_key(n.output[0])].detach().numpy().astype(np.float32)
            n.attribute[0].t.CopyFrom(numpy_helper.from_array(tensor, name=n.output[0]))
    for output in model.graph.output:
        # The declared output shape names the old class count; the new head may differ.
        for k, dim in enumerate(output.type.tensor_type.shape.dim):
            if dim.HasField("dim_value"):
                dim.dim_param = f"{output.name}_{k}"
    if metadata is not None:
        del model.metadata_props[:]
        onnx.helper.set_model_props(model, dict(metadata))
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
