#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Large models with bounded memory: a ~3 GB ONNX model with external data (48 MatMul layers of
# [4096,4096] float32 in one data file, written 64 MiB at a time so this generator stays small),
# then the real `netwright inspect` and `netwright convert … --external-data` on it, each timed with
# its peak resident set (GNU time's %M, which counts the mapped file pages it touched).
# The peer: python3-onnx's onnx.load of the same model, which reads every tensor into memory.
# Goal: Netwright's peak RSS under 0.5 GB. Not part of ctest (it writes 6 GB).
# Usage: tests/bench/large_model_bench.py [BUILD_DIR] [DATA_DIR] [--layers N] [--no-peer]
# (defaults build/release and /tmp/netwright-large-model; the generated model stays there.)
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper

DIM = 4096


def generate(folder, layers):
    model_path = os.path.join(folder, "large.onnx")
    data_path = os.path.join(folder, "large.onnx.data")
    stamp = os.path.join(folder, ".done-%d" % layers)
    if os.path.exists(stamp):
        return model_path
    rng = np.random.default_rng(3)
    inits, nodes = [], []
    offset = 0
    with open(data_path, "wb") as f:
        for i in range(layers):
            w = (rng.standard_normal((DIM, DIM), dtype=np.float32) / DIM ** 0.5).astype(np.float32)
            f.write(w.tobytes())
            t = TensorProto(name="w%d" % i, data_type=TensorProto.FLOAT, dims=[DIM, DIM], data_location=TensorProto.EXTERNAL)
            for k, v in (("location", "large.onnx.data"), ("offset", str(offset)), ("length", str(w.nbytes))):
                e = t.external_data.add()
                e.key, e.value = k, v
            offset += w.nbytes
            inits.append(t)
            nodes.append(helper.make_node("MatMul", ["h%d" % i if i else "x", "w%d" % i], ["h%d" % (i + 1)]))
    graph = helper.make_graph(nodes, "large", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", DIM])],
                              [helper.make_tensor_value_info("h%d" % layers, TensorProto.FLOAT, ["batch", DIM])], inits)
    with open(model_path, "wb") as f:
        f.write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7).SerializeToString())
    open(stamp, "w").close()
    return model_path


def measure(label, argv):
    """Runs argv under GNU time (Debian's `time` package); returns (seconds, peak RSS in MiB, stdout).
    The peak comes from /usr/bin/time, a small process of its own: a child forked from this Python
    process would inherit its high-water mark (Linux keeps ru_maxrss across fork and exec), so
    os.wait4 here would report this script's own size whenever it is the larger."""
    if not os.path.exists("/usr/bin/time"):
        sys.exit("large_model_bench.py measures peak memory with /usr/bin/time: apt-get install time")
    start = time.monotonic()
    child = subprocess.run(["/usr/bin/time", "-f", "netwright-bench-maxrss-kb %M"] + argv, capture_output=True)
    seconds = time.monotonic() - start
    err = child.stderr.decode(errors="replace")
    if child.returncode != 0:
        sys.exit("%s failed (%d): %s" % (label, child.returncode, err[-2000:]))
    kb = [line.split()[-1] for line in err.splitlines() if line.startswith("netwright-bench-maxrss-kb ")]
    rss = int(kb[-1]) / 1024.0
    print("%-44s %8.1f s  peak RSS %8.1f MiB" % (label, seconds, rss), flush=True)
    return seconds, rss, child.stdout.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default="build/release")
    ap.add_argument("data", nargs="?", default="/tmp/netwright-large-model")
    ap.add_argument("--layers", type=int, default=48)
    ap.add_argument("--no-peer", action="store_true")
    a = ap.parse_args()
    nw = os.path.realpath(os.path.join(a.build, "app", "netwright"))
    if not os.access(nw, os.X_OK):
        sys.exit("no %s: build first (cmake --build --preset release)" % nw)
    os.makedirs(a.data, exist_ok=True)
    t0 = time.monotonic()
    model = generate(a.data, a.layers)
    size = os.path.getsize(model) + os.path.getsize(model + ".data")
    print("model: %s, %d MatMul layers [%d,%d] float32, %.2f GB with its data file (generated in %.0f s)"
          % (model, a.layers, DIM, DIM, size / 1e9, time.monotonic() - t0), flush=True)
    print("%d cores; file pages warm in the page cache (the generator just wrote them)" % os.cpu_count())
    results = {}
    results["inspect"] = measure("netwright inspect", [nw, "inspect", model])
    out = os.path.join(a.data, "converted.onnx")
    for f in (out, out + ".data"):
        if os.path.exists(f):
            os.remove(f)
    results["convert"] = measure("netwright convert --external-data", [nw, "convert", model, out, "--external-data"])
    print("  " + "\n  ".join(l for l in results["convert"][2].splitlines() if l))
    if not a.no_peer:
        code = "import onnx, sys; m = onnx.load(sys.argv[1]); print(sum(len(t.raw_data) for t in m.graph.initializer))"
        results["peer"] = measure("python3-onnx onnx.load (peer)", ["/usr/bin/python3", "-c", code, model])
        print("peak RSS ratio, onnx.load / netwright inspect: %.1f×" % (results["peer"][1] / results["inspect"][1]))
    goal = 512.0
    for k in ("inspect", "convert"):
        print("%s: peak RSS %.0f MiB, %s the 512 MiB goal" % (k, results[k][1], "within" if results[k][1] < goal else "OVER"))


if __name__ == "__main__":
    main()
