#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Issue 16's "real results" models, built in PyTorch (Debian's python3-torch, random weights,
# seeded) and exported to ONNX for `netwright train --model-file`; both take Fashion-MNIST's images
# [N, 1, 28, 28] and give the logits [N, 10]:
#
#   vit   a small ViT: the image cut into 16 patches of 7×7 (reshape/permute inside the model),
#         linear embedding d=64 + learned position embedding, 2 TransformerEncoderLayers
#         (batch_first, 4 heads, feed-forward 256, GELU, dropout 0), LayerNorm, mean over the
#         tokens, linear head. Opset 17 (LayerNormalization).
#   lstm  the 28 rows as a 28-step sequence of 28 features (reshape inside the model), a 1-layer
#         LSTM of hidden size 128, the last step's output → linear head. Opset 14.
#
# They are exported in training mode (torch.onnx.TrainingMode.TRAINING, no constant folding), as
# tests/support/torch_training_parity.py does: every parameter stays an initializer of its own
# under PyTorch's state_dict name (eval-mode export folds e.g. the LSTM's weights into reordered,
# concatenated constants), and training-dependent nodes (Dropout) keep their training form — the
# trainer switches them by its own training flag. The batch axis is dynamic.
#
# Usage: export_sequence_models.py DIR [NAME…]   (NAME: vit, lstm; default both) writes DIR/NAME.onnx
# and DIR/NAME.pt (the initial state_dict, for tests/bench/train_vs_pytorch.py).
import sys

import torch
from torch import nn


class PatchVit(nn.Module):
    def __init__(self, patch=7, d=64, heads=4, ff=256, layers=2, classes=10):
        super().__init__()
        self.patch = patch
        self.grid = 28 // patch
        self.embed = nn.Linear(patch * patch, d)
        self.pos = nn.Parameter(torch.randn(1, self.grid * self.grid, d) * 0.02)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, heads, dim_feedforward=ff, dropout=0.0, activation="gelu", batch_first=True),
            layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        g, p = self.grid, self.patch
        # [N,1,28,28] → [N,g,p,g,p] → [N,g,g,p,p] → [N,g·g,p·p]: row-major 7×7 patches.
        t = x.reshape(-1, g, p, g, p).permute(0, 1, 3, 2, 4).reshape(-1, g * g, p * p)
        h = self.encoder(self.embed(t) + self.pos)
        return self.head(self.norm(h).mean(dim=1))


class RowLstm(nn.Module):
    def __init__(self, hidden=128, layers=1, classes=10):
        super().__init__()
        self.rnn = nn.LSTM(28, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        y, _ = self.rnn(x.reshape(-1, 28, 28))
        return self.head(y[:, -1, :])


SEEDS = {"vit": 16, "lstm": 28}
OPSETS = {"vit": 17, "lstm": 14}


def build(name):
    """The model with its initial weights: the same every time for a name (seeded)."""
    torch.manual_seed(SEEDS[name])
    return {"vit": PatchVit, "lstm": RowLstm}[name]()


def export(name, out):
    model = build(name)
    torch.save(model.state_dict(), f"{out}/{name}.pt")
    x = torch.randn(2, 1, 28, 28)
    model.train()
    torch.onnx.export(model, x, f"{out}/{name}.onnx", opset_version=OPSETS[name], input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)


if __name__ == "__main__":
    out = sys.argv[1]
    for name in sys.argv[2:] or list(SEEDS):
        export(name, out)
