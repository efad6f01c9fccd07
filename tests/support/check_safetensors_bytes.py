#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# An independent reader of a safetensors file (numpy on the header and offsets, no Netwright code):
# checks that every tensor listed in EXPECTED (make_pytorch_files.py's FILE.expected, with its bytes
# in FILE.raw) is in ST with the same dtype, shape and bytes. Prints "N tensors identical"; exit 1
# naming the first difference. Usage: check_safetensors_bytes.py ST EXPECTED RAW. Test support.
import json
import struct
import sys

import numpy as np

st_path, expected_path, raw_path = sys.argv[1:4]
DTYPES = {"float32": "F32", "float64": "F64", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
          "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
with open(st_path, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
data = np.frombuffer(blob, dtype=np.uint8, offset=8 + n)
raw = np.fromfile(raw_path, dtype=np.uint8)
count = 0
for line in open(expected_path):
    c = line.rstrip("\n").split("\t")
    if c[0] != "T":
        continue
    name, dtype, shape, offset, size = c[1], c[2], [int(d) for d in c[3].split(",") if d], int(c[4]), int(c[5])
    if name not in header:
        sys.exit(f"{name}: not in {st_path}")
    t = header[name]
    if t["dtype"] != DTYPES[dtype] or t["shape"] != shape:
        sys.exit(f"{name}: {t['dtype']} {t['shape']}, expected {DTYPES[dtype]} {shape}")
    begin, end = t["data_offsets"]
    if not np.array_equal(data[begin:end], raw[offset:offset + size]):
        sys.exit(f"{name}: bytes differ")
    count += 1
print(f"{count} tensors identical")
