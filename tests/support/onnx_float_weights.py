#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# The oracle for `netwright inspect --json`'s parameter totals, with the onnx package: per model,
# the floating-point values of its initializers and of its Constant nodes' tensors (in subgraphs
# too), and how many Constant nodes hold floating-point tensors. Prints one JSON object by path.
import json
import sys

import numpy as np
import onnx

FLOATS = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16}


def graphs(g):
    yield g
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from graphs(a.g)
            for sub in a.graphs:
                yield from graphs(sub)


def count(path):
    m = onnx.load(path)
    initializers = constants = constant_nodes = 0
    for g in graphs(m.graph):
        initializers += sum(int(np.prod(t.dims)) for t in g.initializer if t.data_type in FLOATS)
        for n in g.node:
            if n.op_type != "Constant" or n.domain not in ("", "ai.onnx"):
                continue
            for a in n.attribute:
                size = None
                if a.name == "value" and a.t.data_type in FLOATS:
                    size = int(np.prod(a.t.dims))
                elif a.name == "value_float":
                    size = 1
                elif a.name == "value_floats":
                    size = len(a.floats)
                if size is not None:
                    constants += size
                    constant_nodes += 1
    return {"initializers": initializers, "constants": constants, "constant_nodes": constant_nodes}


print(json.dumps({p: count(p) for p in sys.argv[1:]}))
