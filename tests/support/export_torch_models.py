# SPDX-License-Identifier: Apache-2.0
# Test oracle: exports small real networks from PyTorch (Debian's python3-torch and
# python3-torchvision, random weights, seeded) to ONNX at opsets 11 and 13, with one input batch
# and PyTorch's output for it, as raw little-endian float32 files.
# Usage: export_torch_models.py [--fixed-batch] [--opsets 11,13,17] DIR [NAME…]
#   NAME: only these models; default the five of the first group below. transformer_encoder (a
#   torch.nn.TransformerEncoderLayer) and lstm (a 2-layer LSTM with a Linear head) are exported
#   only when named. --opsets: the opsets to export at (default 11,13).
# --fixed-batch: instead, PyTorch's default export — no dynamic_axes, a dummy input of batch 1, so
# the file fixes the batch at 1 — at opset 13 as NAME_fixed.onnx, with a batch of 1 and its output.
import json
import sys

import torch
import torchvision
from torch import nn

args = sys.argv[1:]
fixed_batch = "--fixed-batch" in args
args = [a for a in args if a != "--fixed-batch"]
opsets = (11, 13)
if "--opsets" in args:
    i = args.index("--opsets")
    opsets = tuple(int(o) for o in args[i + 1].split(","))
    del args[i:i + 2]
out = args[0]
torch.manual_seed(20261123)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class LSTMClassifier(nn.Module):
    """Rows of a 28x28 image as a sequence: a 2-layer LSTM, its last hidden state through a Linear."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 48, num_layers=2, batch_first=True)
        self.head = nn.Linear(48, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


models = {
    "mlp": (MLP(), (2, 1, 28, 28)),
    "lenet5": (LeNet5(), (2, 1, 28, 28)),
    "resnet18": (torchvision.models.resnet18(num_classes=10), (2, 3, 64, 64)),
    "mobilenet_v2": (torchvision.models.mobilenet_v2(num_classes=10), (2, 3, 64, 64)),
    "squeezenet1_0": (torchvision.models.squeezenet1_0(num_classes=10), (2, 3, 64, 64)),
}
default_models = list(models)
# The two extra models draw from their own seeded stream, so the five above keep the inputs and
# BatchNorm statistics they always had.
with torch.random.fork_rng():
    torch.manual_seed(20261124)
    models["transformer_encoder"] = (nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.1,
                                                                activation="gelu", batch_first=True), (2, 10, 32))
    models["lstm"] = (LSTMClassifier(), (2, 28, 28))
if fixed_batch:
    models = {name: (model, (1,) + shape[1:]) for name, (model, shape) in models.items()}
wanted = args[1:] or default_models
meta = {}
for name, (model, shape) in models.items():
    if name not in wanted:
        continue
    # Non-trivial BatchNorm statistics, so folding them into the convolutions is really tested.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    if fixed_batch:
        torch.onnx.export(model, x, f"{out}/{name}_fixed.onnx", opset_version=13, input_names=["input"],
                          output_names=["output"])
    for opset in () if fixed_batch else opsets:
        torch.onnx.export(model, x, f"{out}/{name}_{opset}.onnx", opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    x.numpy().astype("<f4").tofile(f"{out}/{name}.input")
    y.numpy().astype("<f4").tofile(f"{out}/{name}.output")
    meta[name] = {"input": list(shape), "output": list(y.shape)}
with open(f"{out}/models.json", "w") as f:
    json.dump(meta, f)
