#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Data from disk, side by side with data in memory, with the real `netwright train`:
#  1. Throughput: cnn-small for one epoch on Fashion-MNIST written as a folder of 70 000 PNG files,
#     decoded as the minibatches need them (--stream on: read threads and a bounded prefetch
#     queue, overlapped with the steps) against the same folder decoded into memory first
#     (--stream off; its decoding is not counted). The ratio is streamed / in memory; best of 2.
#  2. Memory: a streamed .npy of uint8 images [N,3,64,64] of more than 4 GB (written here with
#     numpy, in chunks) trained for one epoch (mlp), its peak RSS read by GNU time.
# Usage: tests/bench/data_bench.sh [BUILD_DIR] [DATA_DIR]
# (defaults build/release and /tmp/netwright-bench-data; the data stay there for the next run).
set -euo pipefail
build=${1:-build/release}
data=${2:-/tmp/netwright-bench-data}
nw=$(realpath "$build/app/netwright")
[ -x "$nw" ] || { echo "no $nw: build first (cmake --build --preset release)" >&2; exit 1; }
mkdir -p "$data"
py=/usr/bin/python3

if [ ! -f "$data/fashion-png/.done" ]; then
  echo "Writing Fashion-MNIST as PNG files into $data/fashion-png …" >&2
  "$py" "$(dirname "$0")/../support/make_datasets.py" "$data" fashion-png
  touch "$data/fashion-png/.done"
fi

rate() { sed -n 's/^epoch 1\/1 .*(\([0-9.]*\) s, \([0-9]*\) img\/s)$/\2/p' | tail -1; }
best() { sort -g | tail -1; }
echo "$(nproc) cores; cnn-small, batch 64, one epoch of 60 000 Fashion-MNIST PNG files; best of 2"
streamed=() memory=()
for round in 1 2; do
  for mode in on off; do
    out=$(mktemp -d)
    r=$("$nw" train --data "$data/fashion-png" --model cnn-small --epochs 1 --stream $mode --out "$out/run" 2>&1 | rate)
    rm -rf "$out"
    if [ $mode = on ]; then streamed+=("$r"); else memory+=("$r"); fi
  done
done
s=$(printf '%s\n' "${streamed[@]}" | best); m=$(printf '%s\n' "${memory[@]}" | best)
printf '\n%-30s %10s\n' "cnn-small, one epoch" "img/s"
printf '%-30s %10.0f\n' "PNG folder, in memory" "$m" "PNG folder, streamed" "$s"
printf '%-30s %10.2f   (target ≥ 0.80)\n' "streamed / in memory" "$(awk -v a="$s" -v b="$m" 'BEGIN { print a / b }')"

# 350 000 images of 3×64×64 bytes: 4.30 GB of samples.
big="$data/big-x.npy"
if [ ! -f "$data/big-y.npy" ]; then
  echo "Writing $big (4.3 GB) …" >&2
  "$py" - "$data" <<'EOF'
import sys, numpy as np
n, shape = 350_000, (3, 64, 64)
x = np.lib.format.open_memmap(sys.argv[1] + '/big-x.npy', mode='w+', dtype=np.uint8, shape=(n,) + shape)
rng = np.random.default_rng(1)
y = rng.integers(0, 10, n)
for at in range(0, n, 10_000):  # a class-dependent mean, so there is something to learn
    k = min(10_000, n - at)
    x[at:at + k] = (rng.integers(0, 128, (k,) + shape) + 12 * y[at:at + k, None, None, None]).astype(np.uint8)
x.flush(); del x
np.save(sys.argv[1] + '/big-y.npy', y)
EOF
fi
size=$(stat -c %s "$big")
out=$(mktemp -d)
/usr/bin/time -f '%M %e' -o "$out/time" "$nw" train --data "$big" --targets "$data/big-y.npy" --test-split 0.02 --model mlp \
  --hidden 64 --epochs 1 --batch-size 256 --out "$out/run" > "$out/log" 2>&1
read -r rss seconds < "$out/time"
printf '\n%-30s %10s\n' "streamed .npy, one epoch" ""
printf '%-30s %10.2f GB\n' "samples on disk" "$(awk -v b="$size" 'BEGIN { print b / 1e9 }')"
printf '%-30s %10.0f MB   (target < 1024)\n' "peak RSS" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
printf '%-30s %10.0f s\n' "wall time" "$seconds"
grep -E "^Final test" "$out/log" || { cat "$out/log"; exit 1; }
rm -rf "$out"
