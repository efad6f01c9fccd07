#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Writes the PyTorch files the pytorch tests read, with Debian's torch, and beside each FILE.pt
# what an independent reader expects of it: FILE.expected (one line per leaf, dotted names as
# Netwright flattens them) and FILE.raw (every tensor's contiguous bytes, in that order).
# Usage: make_pytorch_files.py OUT_DIR MARKER_PATH. Test support.
import io
import os
import pickle
import sys
import zipfile

import numpy as np
import torch
import torchvision

out, marker = sys.argv[1], sys.argv[2]
PLAIN = (type(None), bool, int, float, str, bytes)


def leaves(value, prefix=""):
    """(name, value) for each leaf, flattened as Netwright does (dicts by key, containers holding
    more than plain values by index)."""
    if isinstance(value, torch.Tensor):
        yield (prefix or "tensor"), value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, (list, tuple)) and not all(isinstance(x, PLAIN) for x in value):
        for i, v in enumerate(value):
            yield from leaves(v, f"{prefix}.{i}" if prefix else str(i))
    else:
        yield (prefix or "value"), value


def save(name, obj, **kwargs):
    path = os.path.join(out, name)
    torch.save(obj, path, **kwargs)
    raw = bytearray()
    with open(path + ".expected", "w") as e:
        for key, v in leaves(obj):
            if isinstance(v, torch.Tensor):
                b = v.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                x = v.detach().double().numpy() if v.is_floating_point() else None
                stats = f"{x.min():.9g}\t{x.max():.9g}\t{x.mean():.9g}" if x is not None and x.size else "-\t-\t-"
                shape = ",".join(str(d) for d in v.shape)
                e.write(f"T\t{key}\t{str(v.dtype).replace('torch.', '')}\t{shape}\t{len(raw)}\t{len(b)}\t{stats}\n")
                raw += b
            else:
                kind = "None" if v is None else type(v).__name__
                e.write(f"V\t{key}\t{kind}\t{v if isinstance(v, str) else repr(v)}\n")
    with open(path + ".raw", "wb") as r:
        r.write(bytes(raw))
    return path


# 1. torchvision's resnet18, random weights, as a state dict.
torch.manual_seed(0)
save("resnet18.pt", torchvision.models.resnet18(weights=None).state_dict())

# 2. A training checkpoint: a small CNN after two SGD steps with momentum 0.9, plus numbers,
# strings, views that share a storage (transposed, offset) and tensors of other dtypes.
torch.manual_seed(1)
net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 5))
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
for _ in range(2):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(torch.randn(8, 3, 8, 8)), torch.randint(0, 5, (8,))).backward()
    opt.step()
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
training = {
    "epoch": 3,
    "loss": 0.25,
    "note": "sgd run",
    "model_state_dict": net.state_dict(),
    "optimizer_state_dict": opt.state_dict(),
    "views": {"base": base, "transposed": base.t(), "window": base[1:3, 2:5], "every_other": base[:, ::2]},
    "dtypes": [torch.ones(3, dtype=torch.float16) / 3, torch.ones(2, dtype=torch.bfloat16) / 3, torch.arange(5, dtype=torch.int32),
               torch.tensor([True, False]), torch.arange(4, dtype=torch.float64), torch.tensor(7)],
}
save("training.pt", training)

# 3. The same, in the legacy format of PyTorch before 1.6.
save("legacy.pt", training, _use_new_zipfile_serialization=False)

# 4. Malicious pickles: unpickling would run `touch MARKER`.
class Payload:
    def __reduce__(self):
        return (os.system, ("touch " + marker,))


class EvalPayload:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch " + marker + "')",))


torch.save({"weight": torch.ones(2), "payload": Payload()}, os.path.join(out, "malicious.pt"))
torch.save({"weight": torch.ones(2), "payload": Payload()}, os.path.join(out, "malicious_legacy.pt"), _use_new_zipfile_serialization=False)
# protocol 4 (STACK_GLOBAL), written into a torch-like zip by hand
with zipfile.ZipFile(os.path.join(out, "malicious_eval.pt"), "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", pickle.dumps({"payload": EvalPayload()}, protocol=4))
    z.writestr("archive/version", "3\n")

# A whole model pickled (torch.save(model)) names its class: refused with a hint.
torch.save(torch.nn.Linear(2, 2), os.path.join(out, "whole_model.pt"))

# 5. Hostile archives: truncated; a storage shorter than its tensor; nesting too deep.
data = open(os.path.join(out, "resnet18.pt"), "rb").read()
open(os.path.join(out, "truncated.pt"), "wb").write(data[: len(data) // 2])
with zipfile.ZipFile(os.path.join(out, "training.pt")) as src, zipfile.ZipFile(os.path.join(out, "short_storage.pt"), "w", zipfile.ZIP_STORED) as dst:
    for info in src.infolist():
        body = src.read(info.filename)
        if info.filename.endswith("/data/0"):
            body = body[:4]
        dst.writestr(info.filename, body)
deep = torch.ones(1)
for _ in range(100):
    deep = [deep]
torch.save(deep, os.path.join(out, "deep.pt"))
