"""Our exported reader's weights back in a trainable ``CRNN``, to train on from the committed model.

Checkpoints stay on the machine that trained them; the ONNX is what the repository keeps. Its
export folded every batch norm into the convolution before it and packed the LSTM in ONNX's
gate order, so this undoes both:

- each convolution gets the folded weights, and its batch norm the statistics of that
  convolution's output on ``calibration`` crops, with a scale and shift that give back the
  folded bias: in eval mode the pair computes exactly what the ONNX does, and in training mode
  (batch statistics) nearly so, so training resumes where the model stood;
- the LSTM's gates go from ONNX's (input, output, forget, cell) to torch's (input, forget,
  cell, output).

A model with more classes than the ONNX (a symbol added since) keeps the learnt classes and
starts the new ones at the least likely class's bias, with zero weights.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch import nn

from models.train_recognizer import CRNN

# torch's gate order as indices into ONNX's: (i, o, f, c) -> (i, f, c, o)
GATES = (0, 2, 3, 1)


def load_onnx(model: CRNN, path: Path, calibration: torch.Tensor) -> None:
    """Sets ``model``'s weights from the ONNX at ``path``; ``calibration`` is a batch of
    prepared crops (N, 1, H, W) for the batch norms' statistics."""
    graph = onnx.load(str(path)).graph
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    (lstm,) = [n for n in graph.node if n.op_type == "LSTM"]
    (head,) = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    with torch.no_grad():
        folded = [(weights[c.input[1]], weights[c.input[2]]) for c in convs]
        _features(model.features, folded, calibration)
        _lstm(model.rnn, *(weights[name] for name in lstm.input[1:4]))
        _head(model.head, weights[head.input[1]].T, weights["model.head.bias"])
    model.train()


def _features(
    features: nn.Sequential, folded: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor
) -> None:
    """Convolutions and their batch norms, layer by layer, each norm from the statistics of
    what reaches it."""
    layers = list(features)
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    if len(convs) != len(folded):
        raise ValueError(f"the ONNX has {len(folded)} convolutions, the network {len(convs)}")
    weights = dict(zip(convs, folded, strict=True))
    for i, layer in enumerate(layers):
        layer.eval()
        if i in weights:
            conv, norm = layer, layers[i + 1]
            assert isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d)
            assert norm.running_mean is not None and norm.running_var is not None
            weight, bias = weights[i]
            conv.weight.copy_(weight)
            y = conv(x)
            mean, var = y.mean((0, 2, 3)), y.var((0, 2, 3), unbiased=False)
            norm.running_mean.copy_(mean)
            norm.running_var.copy_(var)
            # eval: (y - mean) / sqrt(var + eps) * scale + shift = y + bias
            norm.weight.copy_(torch.sqrt(var + norm.eps))
            norm.bias.copy_(bias + mean)
        x = layer(x)


def _lstm(rnn: nn.LSTM, w: torch.Tensor, r: torch.Tensor, b: torch.Tensor) -> None:
    """ONNX's (directions, 4 * hidden, ...) weights and (directions, 8 * hidden) biases."""
    hidden = rnn.hidden_size
    order = torch.cat([torch.arange(g * hidden, (g + 1) * hidden) for g in GATES])
    for d, suffix in enumerate(("", "_reverse")):
        getattr(rnn, f"weight_ih_l0{suffix}").copy_(w[d][order])
        getattr(rnn, f"weight_hh_l0{suffix}").copy_(r[d][order])
        getattr(rnn, f"bias_ih_l0{suffix}").copy_(b[d][: 4 * hidden][order])
        getattr(rnn, f"bias_hh_l0{suffix}").copy_(b[d][4 * hidden :][order])


def _head(head: nn.Linear, weight: torch.Tensor, bias: torch.Tensor) -> None:
    learnt = weight.shape[0]
    if learnt > head.out_features:
        raise ValueError(f"the ONNX reads {learnt} classes, the network only {head.out_features}")
    head.weight.zero_()
    head.weight[:learnt] = weight
    head.bias.fill_(float(bias.min()))
    head.bias[:learnt] = bias
