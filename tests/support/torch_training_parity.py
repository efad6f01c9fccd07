#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Training parity with PyTorch: builds small models in PyTorch (Debian's python3-torch: a
transformer classifier, a GRU, a 2-layer LSTM, a MobileNet-style block and a model with tied
weights), exports each in training mode with its loss inside the graph, trains it for STEPS plain-SGD steps on
seeded batches, and writes for Netwright's test:

    OUT/<name>.onnx            the model, inputs (x, labels), output "loss" (and the logits)
    OUT/<name>_x_<k>.npy       the input batch of step k (float32)
    OUT/<name>_y_<k>.npy       its labels (int64)
    OUT/<name>_losses.npy      PyTorch's loss at every step (float64 view of float32)
    OUT/<name>_final.npz       every trainable parameter after the last step, by ONNX initializer name
    OUT/<name>_buffers.npz     every float buffer after the last step (BatchNorm's running statistics)
    OUT/models.txt             one line per model: name, steps, learning rate

    torch_training_parity.py OUT [STEPS]
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1]
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
os.makedirs(OUT, exist_ok=True)


class TransformerClassifier(nn.Module):
    """A ViT-style classifier: patches → linear embedding + position → encoder layer (GELU,
    LayerNorm, multi-head attention) → mean over tokens → linear."""

    def __init__(self, tokens=16, patch=12, d=32, heads=4, classes=10):
        super().__init__()
        self.embed = nn.Linear(patch, d)
        self.pos = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.encoder = nn.TransformerEncoderLayer(d, heads, dim_feedforward=64, dropout=0.0, activation="gelu",
                                                  batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        h = self.encoder(self.embed(x) + self.pos)
        return self.head(self.norm(h).mean(dim=1))


class RowRnn(nn.Module):
    """Image rows as a sequence: a GRU or a 2-layer LSTM, the last step's state → linear."""

    def __init__(self, cell, rows=8, width=12, hidden=16, classes=10):
        super().__init__()
        self.rnn = nn.GRU(width, hidden, batch_first=True) if cell == "gru" else nn.LSTM(width, hidden, num_layers=2,
                                                                                          batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1, :])


class MobileBlock(nn.Module):
    """A MobileNet-style block: 1×1 expand, depthwise 3×3, BatchNorm, hard-swish, squeeze-and-
    excite, 1×1 project with a residual, then a ConvTranspose upsampling and a classifier."""

    def __init__(self, c=8, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(1, c, 3, padding=1)
        self.expand = nn.Conv2d(c, 2 * c, 1)
        self.bn1 = nn.BatchNorm2d(2 * c)
        self.dw = nn.Conv2d(2 * c, 2 * c, 3, padding=1, groups=2 * c)
        self.bn2 = nn.BatchNorm2d(2 * c)
        self.se1 = nn.Conv2d(2 * c, 4, 1)
        self.se2 = nn.Conv2d(4, 2 * c, 1)
        self.project = nn.Conv2d(2 * c, c, 1)
        self.up = nn.ConvTranspose2d(c, c, 2, stride=2)
        self.head = nn.Linear(c, classes)

    def forward(self, x):
        h = F.hardswish(self.stem(x))
        e = F.hardswish(self.bn1(self.expand(h)))
        e = F.hardswish(self.bn2(self.dw(e)))
        s = torch.sigmoid(self.se2(F.relu(self.se1(e.mean(dim=(2, 3), keepdim=True)))))
        h = h + self.project(e * s)
        h = F.relu(self.up(h))
        return self.head(h.mean(dim=(2, 3)))


class TiedWeights(nn.Module):
    """Weight sharing: one matrix encodes and (transposed) decodes, as tied embeddings do."""

    def __init__(self, features=12, hidden=24, classes=10):
        super().__init__()
        self.w = nn.Parameter(torch.randn(hidden, features) * 0.2)
        self.b = nn.Parameter(torch.zeros(hidden))
        self.head = nn.Linear(features, classes)

    def forward(self, x):
        h = torch.tanh(F.linear(x, self.w, self.b))
        return self.head(F.linear(h, self.w.t()))


class WithLoss(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, labels):
        logits = self.model(x)
        return F.cross_entropy(logits, labels), logits


def batches(name, shape, n, classes=10):
    g = torch.Generator().manual_seed(sum(map(ord, name)))
    xs = [torch.randn((n,) + shape, generator=g) for _ in range(STEPS)]
    ys = [torch.randint(0, classes, (n,), generator=g) for _ in range(STEPS)]
    return xs, ys


def run(name, model, shape, batch, lr, opset):
    torch.manual_seed(7)
    wrapped = WithLoss(model)
    xs, ys = batches(name, shape, batch)
    path = os.path.join(OUT, f"{name}.onnx")
    torch.onnx.export(wrapped, (xs[0], ys[0]), path, opset_version=opset, input_names=["x", "labels"],
                      output_names=["loss", "logits"], training=torch.onnx.TrainingMode.TRAINING,
                      do_constant_folding=False, export_params=True, keep_initializers_as_inputs=False)
    # The ONNX initializer names of the parameters: torch exports them under their state_dict names.
    opt = torch.optim.SGD(wrapped.parameters(), lr=lr)
    losses = []
    wrapped.train()
    for k in range(STEPS):
        np.save(os.path.join(OUT, f"{name}_x_{k}.npy"), xs[k].numpy().astype(np.float32))
        np.save(os.path.join(OUT, f"{name}_y_{k}.npy"), ys[k].numpy().astype(np.int64))
        opt.zero_grad()
        loss, _ = wrapped(xs[k], ys[k])
        loss.backward()
        opt.step()
        losses.append(float(loss))
    np.save(os.path.join(OUT, f"{name}_losses.npy"), np.array(losses, dtype=np.float64))
    np.savez(os.path.join(OUT, f"{name}_final.npz"),
             **{k: v.detach().numpy().astype(np.float32) for k, v in wrapped.named_parameters()})
    # The buffers training updates (BatchNorm's running statistics), compared too.
    np.savez(os.path.join(OUT, f"{name}_buffers.npz"),
             **{k: v.detach().numpy().astype(np.float32) for k, v in wrapped.named_buffers() if v.is_floating_point()})
    return f"{name} {STEPS} {lr}\n"


torch.manual_seed(0)
lines = []
lines.append(run("transformer", TransformerClassifier(), (16, 12), 8, 0.05, 17))
torch.manual_seed(1)
lines.append(run("gru", RowRnn("gru"), (8, 12), 8, 0.1, 14))
torch.manual_seed(2)
lines.append(run("lstm2", RowRnn("lstm"), (8, 12), 8, 0.1, 14))
torch.manual_seed(3)
lines.append(run("mobile_block", MobileBlock(), (1, 8, 8), 8, 0.05, 13))
torch.manual_seed(4)
lines.append(run("tied", TiedWeights(), (12,), 8, 0.1, 13))
with open(os.path.join(OUT, "models.txt"), "w") as f:
    f.writelines(lines)
