#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Test oracle for ONNX external data, with Debian's python3-onnx and numpy only.
#   make DIR     an MLP (x[batch,64] → MatMul → Add → Relu → MatMul → Mul → y[batch,10]) saved by
#                onnx.save_model(save_as_external_data=True, every tensor) as DIR/model.onnx +
#                DIR/weights.bin (onnx does not align: w2 starts off 64-byte alignment);
#                prints {"sha256": {initializer: hex}, "stats": {initializer: [min, max, mean]}}
#   check FILE   onnx.load with its external data and onnx.checker; prints the same sha256 map and
#                "external": the initializers the file keeps as external data, with their location
#   hostile DIR  model files whose external data leaves the directory, is absolute, or runs past the
#                end of its file: escape.onnx, absolute.onnx, past_end.onnx, wrong_length.onnx
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def mlp(rng):
    w1 = rng.standard_normal((64, 128)).astype(np.float32) * 0.1
    b1 = rng.standard_normal((128,)).astype(np.float32) * 0.1
    w2 = rng.standard_normal((128, 10)).astype(np.float32) * 0.1
    s = (1.0 + rng.standard_normal((10,))).astype(np.float32)  # 40 bytes: w2 after it lies off 64-byte alignment
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["m"]),
             helper.make_node("Mul", ["m", "s"], ["y"])]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
                              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(s, "s"),
                               numpy_helper.from_array(w2, "w2")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)


def digests(model):
    return {t.name: hashlib.sha256(numpy_helper.to_array(t).tobytes()).hexdigest() for t in model.graph.initializer}


def main():
    mode, where = sys.argv[1], sys.argv[2]
    if mode == "make":
        model = mlp(np.random.default_rng(19))
        stats = {t.name: [float(a.min()), float(a.max()), float(a.mean(dtype=np.float64))]
                 for t in model.graph.initializer for a in [numpy_helper.to_array(t)]}
        sums = digests(model)
        onnx.save_model(model, os.path.join(where, "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        print(json.dumps({"sha256": sums, "stats": stats}))
    elif mode == "check":
        bare = onnx.load(where, load_external_data=False)
        external = {t.name: {e.key: e.value for e in t.external_data}.get("location", "")
                    for t in bare.graph.initializer if t.data_location == TensorProto.EXTERNAL}
        onnx.checker.check_model(where)
        model = onnx.load(where)
        print(json.dumps({"sha256": digests(model), "external": external}))
    elif mode == "hostile":
        def save(name, location, offset=None, length=None, data=None):
            model = mlp(np.random.default_rng(1))
            w1 = model.graph.initializer[0]
            size = len(w1.raw_data)
            with open(os.path.join(where, name + ".bin"), "wb") as f:
                f.write(data if data is not None else w1.raw_data)
            w1.ClearField("raw_data")
            w1.data_location = TensorProto.EXTERNAL
            entries = [("location", location)] + ([("offset", str(offset))] if offset is not None else []) + \
                      [("length", str(length if length is not None else size))]
            for k, v in entries:
                e = w1.external_data.add()
                e.key, e.value = k, v
            with open(os.path.join(where, name + ".onnx"), "wb") as f:
                f.write(model.SerializeToString())
        save("escape", "../escape.bin")
        save("absolute", os.path.abspath(os.path.join(where, "absolute.bin")))
        save("past_end", "past_end.bin", offset=4096)         # the data file holds 32768 bytes
        save("wrong_length", "wrong_length.bin", length=1000)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
