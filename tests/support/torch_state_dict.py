# SPDX-License-Identifier: Apache-2.0
# Test oracle for loading weights into a model (load-check, train --init-from): Debian's
# python3-torch and torchvision write, into DIR,
#   state.pt           a resnet18 state_dict (seed 1, non-trivial BatchNorm statistics), torch.save
#   input.npy          a fixed input [2,3,64,64]; output.npy: that model's output for it (eval mode)
#   resnet18.onnx      the ONNX export (eval mode: BatchNorm folded into the convolutions, names
#                      "onnx::Conv_N", equal folded biases shared through Identity nodes) of a
#                      DIFFERENTLY initialised resnet18 (seed 2): its weights are not the state's
#   resnet18_bn.onnx   the same seed-2 model with BatchNorm kept, PyTorch's names (bn1.weight …)
#   mindspore.npz      the state dict under MindSpore's BatchNorm names (gamma, beta, moving_mean,
#                      moving_variance), without num_batches_tracked
#   data.npz           4 random images x [4,3,64,64] and labels y, to start a run on
# Usage: torch_state_dict.py DIR
import sys

import numpy as np
import onnx
import torch
import torchvision

out = sys.argv[1]


def save_state(state, path):
    """The one place that writes a checkpoint file: torch.save for .pt (what PyTorch users
    bring), np.savez of named arrays for .npz."""
    if path.endswith(".pt"):
        torch.save(state, path)
    else:
        np.savez(path, **{k: v.detach().numpy() for k, v in state.items()})


def resnet18(seed, random_batch_norm):
    torch.manual_seed(seed)
    m = torchvision.models.resnet18(num_classes=10)
    if random_batch_norm:
        for b in m.modules():
            if isinstance(b, torch.nn.BatchNorm2d):
                b.running_mean.uniform_(-0.2, 0.2)
                b.running_var.uniform_(0.5, 1.5)
                b.weight.data.uniform_(0.5, 1.5)
                b.bias.data.uniform_(-0.2, 0.2)
    return m.eval()


source = resnet18(1, True)
torch.manual_seed(3)
x = torch.randn(2, 3, 64, 64)
with torch.no_grad():
    y = source(x)
save_state(source.state_dict(), f"{out}/state.pt")
np.save(f"{out}/input.npy", x.numpy())
np.save(f"{out}/output.npy", y.numpy())

renames = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
batch_norms = {name for name, m in source.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
mindspore = {}
for k, v in source.state_dict().items():
    module, _, leaf = k.rpartition(".")
    if module in batch_norms:
        if leaf == "num_batches_tracked":
            continue
        k = f"{module}.{renames[leaf]}"
    mindspore[k] = v
save_state(mindspore, f"{out}/mindspore.npz")

target = resnet18(2, False)  # default BatchNorm: equal folded biases, shared by the exporter
dynamic = {"input": {0: "b"}, "output": {0: "b"}}
torch.onnx.export(target, x, f"{out}/resnet18.onnx", opset_version=13, input_names=["input"], output_names=["output"],
                  dynamic_axes=dynamic)
# BatchNorm kept: a training-mode export (PyTorch's names), its BatchNorm nodes then cut to their
# inference form (one output: the statistics are inputs, as in eval mode).
torch.onnx.export(target.train(), x, f"{out}/resnet18_bn.onnx", opset_version=13, input_names=["input"], output_names=["output"],
                  dynamic_axes=dynamic, training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
model = onnx.load(f"{out}/resnet18_bn.onnx")
for node in model.graph.node:
    if node.op_type == "BatchNormalization":
        del node.output[1:]
        for a in list(node.attribute):
            if a.name == "training_mode":
                node.attribute.remove(a)
onnx.checker.check_model(model)
onnx.save(model, f"{out}/resnet18_bn.onnx")

rng = np.random.default_rng(4)
np.savez(f"{out}/data.npz", x=rng.standard_normal((4, 3, 64, 64)).astype(np.float32), y=np.array([0, 1, 2, 3], dtype=np.int64))
