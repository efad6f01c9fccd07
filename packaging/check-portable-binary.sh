#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The .deb's program runs on any x86-64-v2 CPU, not only on the one that built it: builds the
# package (cpack), unpacks it, and trains a small real dataset with the packaged program under
# qemu-x86_64 emulating a Nehalem (x86-64-v2: SSE4.2, no AVX), where `netwright --version` must
# name the baseline kernel level (oneDNN's SSE4.1 kernels). A binary built with -march=native on a
# newer CPU dies there with SIGILL.
#   packaging/check-portable-binary.sh BUILD_DIR [CPU]
set -euo pipefail
build=$(cd "$1" && pwd)
cpu=${2:-Nehalem}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

arch=$(sed -n 's/^NETWRIGHT_CPU_ARCH:STRING=//p' "$build/CMakeCache.txt")
echo "NETWRIGHT_CPU_ARCH=$arch"
(cd "$build" && cpack -G DEB -B "$scratch/deb" >/dev/null)
deb=$(ls "$scratch"/deb/netwright_*.deb)
dpkg-deb -x "$deb" "$scratch/root"
program=$scratch/root/usr/bin/netwright
[ -x "$program" ] || { echo "FAIL: the package has no usr/bin/netwright"; exit 1; }

# 512 training and 128 test images of Fashion-MNIST as CSV rows (label, 784 pixels).
/usr/bin/python3 - "$scratch" <<'PY'
import gzip, struct, sys
out = sys.argv[1]
def rows(images, labels, n):
    with gzip.open(images) as fi, gzip.open(labels) as fl:
        fi.read(16); fl.read(8)
        for _ in range(n):
            yield fl.read(1)[0], fi.read(784)
fm = "/usr/share/datasets/fashion-mnist/"
for name, prefix, n in (("train", "train", 512), ("test", "t10k", 128)):
    with open(f"{out}/{name}.csv", "w") as f:
        for label, pixels in rows(fm + prefix + "-images-idx3-ubyte.gz", fm + prefix + "-labels-idx1-ubyte.gz", n):
            f.write(str(label) + "," + ",".join(map(str, pixels)) + "\n")
PY
cat > "$scratch/run.json" <<JSON
{"name": "portable", "model": {"name": "mlp"},
 "data": {"dataset": "csv", "train_csv": "$scratch/train.csv", "test_csv": "$scratch/test.csv"},
 "training": {"epochs": 2, "batch_size": 32, "threads": 2}}
JSON
version=$(qemu-x86_64 -cpu "$cpu" "$program" --version)
echo "$version"
case "$cpu" in
  Nehalem) echo "$version" | grep -q "CPU kernels: baseline" || { echo "FAIL: a Nehalem must run the baseline kernels"; exit 1; } ;;
esac
set +e
qemu-x86_64 -cpu "$cpu" "$program" train --config "$scratch/run.json" --out "$scratch/run" --json >"$scratch/result.json" 2>"$scratch/err.log"
code=$?
set -e
if [ "$code" -ne 0 ]; then
  echo "FAIL: the packaged netwright under qemu-x86_64 -cpu $cpu exited with $code"
  tail -5 "$scratch/err.log"
  exit 1
fi
accuracy=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["eval_accuracy"])' "$scratch/result.json")
echo "trained under qemu-x86_64 -cpu $cpu: 2 epochs, test accuracy $accuracy"
# 2 epochs of 512 images reach well above chance (10 %); a broken kernel would not.
/usr/bin/python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0.5 else 1)' "$accuracy" || { echo "FAIL: accuracy $accuracy"; exit 1; }
ls "$scratch/run"/*.ckpt >/dev/null
echo "All checks passed."
