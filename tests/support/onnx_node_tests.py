#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""ONNX's backend node tests (Debian's libonnx-testdata) through `netwright run`.

Each case is a model.onnx with test_data_set_*/input_<k>.pb and output_<k>.pb. The script runs
    netwright run model.onnx --input input_0.pb … --output DIR
for every data set of every case, reads DIR/output_<k>.npy with numpy and the expected
output_<k>.pb with onnx.numpy_helper (both independent of Netwright), and compares element type,
shape and values at ONNX's tolerances (rtol 1e-3, atol 1e-7; integers, booleans exactly).

The cases that do not pass are listed, each with its reason, in tests/README.md between the
markers below; the run fails when a case fails that the list does not name, when a listed case
now passes (the list is stale), or when fewer than --minimum cases pass.

    onnx_node_tests.py NETWRIGHT [--minimum N] [--filter REGEX] [--jobs N] [--print-list]
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

NODE = "/usr/share/libonnx-testdata/data/node"
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
BEGIN, END = "<!-- node-tests-not-passing:begin -->", "<!-- node-tests-not-passing:end -->"


# Cases whose expected outputs no other implementation can reproduce, with the reason (used for
# the README table instead of the first differing element).
BY_NATURE = {
    c: "random: the expected dropout mask is numpy's draw (np.random.seed(0)); Netwright draws its own seeded mask"
    for c in ("test_training_dropout", "test_training_dropout_default", "test_training_dropout_default_mask",
              "test_training_dropout_mask")
}


BY_NATURE.update({
    "test_cast_FLOAT_to_BFLOAT16": "ONNX 1.12 made the expected bfloat16 values by truncation and stores them as uint16; "
                                   "Netwright rounds to nearest even, as PyTorch does, and writes bfloat16",
    **{c: "the test data stores the bfloat16 tensor as uint16 (ONNX 1.12); `netwright run` refuses an input of another type"
       for c in ("test_cast_BFLOAT16_to_FLOAT", "test_castlike_BFLOAT16_to_FLOAT", "test_castlike_BFLOAT16_to_FLOAT_expanded",
                 "test_castlike_FLOAT_to_BFLOAT16", "test_castlike_FLOAT_to_BFLOAT16_expanded")},
})


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def compare(got, want):
    if got.dtype != want.dtype:
        return f"element type {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"shape {list(got.shape)}, expected {list(want.shape)}"
    if want.dtype.kind in "fc":
        bad = ~(np.isclose(got, want, rtol=1e-3, atol=1e-7, equal_nan=True))
    else:
        bad = got != want
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(-1))[0])
        return f"element {i}: {got.reshape(-1)[i]!r}, expected {want.reshape(-1)[i]!r} ({int(bad.sum())} of {bad.size} differ)"
    return None


def reason_of(stderr):
    """A short reason from netwright's error message."""
    m = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    m = re.sub(r"^netwright run: ", "", m)
    m = re.sub(r'"/usr/share/libonnx-testdata/data/node/[^"]*"', "the case's file", m)
    return m


def run_case(netwright, case):
    d = os.path.join(NODE, case)
    sets = sorted(s for s in os.listdir(d) if s.startswith("test_data_set_"))
    for s in sets:
        sd = os.path.join(d, s)
        inputs = sorted((f for f in os.listdir(sd) if f.startswith("input_")), key=lambda f: int(f[6:-3]))
        outputs = sorted((f for f in os.listdir(sd) if f.startswith("output_")), key=lambda f: int(f[7:-3]))
        with tempfile.TemporaryDirectory() as out:
            cmd = [netwright, "run", os.path.join(d, "model.onnx"), "--threads", "1", "--output", out]
            for f in inputs:
                cmd += ["--input", os.path.join(sd, f)]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                return case, "refused", reason_of(r.stderr)
            for k, f in enumerate(outputs):
                path = os.path.join(out, f"output_{k}.npy")
                if not os.path.exists(path):
                    return case, "failed", f"no output_{k}.npy"
                try:
                    want = read_pb(os.path.join(sd, f))
                except Exception as e:  # sequences, optionals: outside the engine
                    return case, "refused", f"expected output {k} is not a tensor ({e.__class__.__name__})"
                why = compare(np.load(path), want)
                if why:
                    return case, "failed", f"{s}, output {k}: {why}"
    return case, "passed", ""


def listed_cases():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{README} lacks the markers {BEGIN} … {END}")
    block = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    listed = {}
    for line in block.splitlines():
        m = re.match(r"^\| `(test_[^`]+)` \| (.*) \|$", line.strip())
        if m:
            listed[m.group(1)] = m.group(2)
    return listed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("netwright")
    ap.add_argument("--minimum", type=int, default=0)
    ap.add_argument("--filter", default="")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--print-list", action="store_true", help="print the README table of the cases that do not pass")
    a = ap.parse_args()
    cases = sorted(c for c in os.listdir(NODE) if re.search(a.filter, c))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for case, status, why in pool.map(lambda c: run_case(a.netwright, c), cases):
            results[case] = (status, why)
            if a.filter:
                print(f"{case}: {status}{' — ' + why if why else ''}")
    passed = sorted(c for c, (s, _) in results.items() if s == "passed")
    failing = {c: w for c, (s, w) in results.items() if s != "passed"}
    print(f"ONNX backend node tests through `netwright run`: {len(passed)} of {len(cases)} cases pass, "
          f"{sum(1 for s, _ in results.values() if s == 'failed')} give wrong outputs, "
          f"{sum(1 for s, _ in results.values() if s == 'refused')} are refused with a reason.")
    if a.print_list:
        print(BEGIN)
        print("| case | why it does not pass |\n|---|---|")
        for c in sorted(failing):
            print(f"| `{c}` | {BY_NATURE.get(c, failing[c]).replace('|', '/')} |")
        print(END)
        return 0
    if a.filter:
        return 0 if not failing else 1
    listed = listed_cases()
    problems = []
    for c in sorted(failing):
        if c not in listed:
            problems.append(f"{c} does not pass and tests/README.md does not list it: {failing[c]}")
    for c in sorted(listed):
        if c in results and c not in failing:
            problems.append(f"{c} passes now: remove it from the list in tests/README.md")
    if len(passed) < a.minimum:
        problems.append(f"only {len(passed)} cases pass; at least {a.minimum} must")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
