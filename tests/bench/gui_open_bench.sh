#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Opening a ResNet-50-sized model in the window: torchvision's resnet50 (random weights, about
# 100 MB) exported to ONNX by PyTorch, opened until laid out (netwright_gui_open_bench), next to
# the time the onnx Python package takes just to load the same file.
#   tests/bench/gui_open_bench.sh [build/release]
set -euo pipefail
build=${1:-build/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/resnet50.onnx" <<'PY'
import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.resnet50().eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], opset_version=13, input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
PY
ls -l "$tmp/resnet50.onnx" | awk '{printf "resnet50.onnx: %.1f MB\n", $5 / 1e6}'
/usr/bin/python3 -c "
import onnx, sys, time
t = time.perf_counter(); m = onnx.load(sys.argv[1]); dt = time.perf_counter() - t
print(f'onnx.load (peer, reading only): {dt * 1000:.0f} ms, {len(m.graph.node)} nodes')" "$tmp/resnet50.onnx"
QT_QPA_PLATFORM=offscreen "$build/tests/bench/netwright_gui_open_bench" "$tmp/resnet50.onnx" 3
