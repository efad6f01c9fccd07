# SPDX-License-Identifier: Apache-2.0
# Test oracle: exports small real networks from PyTorch (Debian's python3-torch and
# python3-torchvision, random weights, seeded) to ONNX at opsets 11 and 13, with one input batch
# and PyTorch's output for it, as raw little-endian float32 files.
# Usage: export_torch_models.py [--fixed-batch] DIR [NAME…]   (NAME: only these models; default all)
# --fixed-batch: instead, PyTorch's default export — no dynamic_axes, a dummy input of batch 1, so
# the file fixes the batch at 1 — at opset 13 as NAME_fixed.onnx, with a batch of 1 and its output.
import json
import sys

import torch
import torchvision
from torch import nn

args = [a for a in sys.argv[1:] if a != "--fixed-batch"]
fixed_batch = len(args) < len(sys.argv) - 1
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


models = {
    "mlp": (MLP(), (2, 1, 28, 28)),
    "lenet5": (LeNet5(), (2, 1, 28, 28)),
    "resnet18": (torchvision.models.resnet18(num_classes=10), (2, 3, 64, 64)),
    "mobilenet_v2": (torchvision.models.mobilenet_v2(num_classes=10), (2, 3, 64, 64)),
    "squeezenet1_0": (torchvision.models.squeezenet1_0(num_classes=10), (2, 3, 64, 64)),
}
if fixed_batch:
    models = {name: (model, (1,) + shape[1:]) for name, (model, shape) in models.items()}
wanted = args[1:] or list(models)
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
    for opset in () if fixed_batch else (11, 13):
        torch.onnx.export(model, x, f"{out}/{name}_{opset}.onnx", opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    x.numpy().astype("<f4").tofile(f"{out}/{name}.input")
    y.numpy().astype("<f4").tofile(f"{out}/{name}.output")
    meta[name] = {"input": list(shape), "output": list(y.shape)}
with open(f"{out}/models.json", "w") as f:
    json.dump(meta, f)
