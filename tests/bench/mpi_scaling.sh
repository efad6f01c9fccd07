#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# MPI scaling of data-parallel training: images/s of the real Trainer on Fashion-MNIST (batch 64,
# SGD with momentum) with 1 rank and with 2 ranks of 1 kernel thread each (mpirun, shared memory),
# and, for scale, 1 rank with 2 threads. The ratio is 2 ranks over 1 rank; the best of 3 rounds
# counts. Usage: tests/bench/mpi_scaling.sh [BUILD_DIR] (default build/release).
set -euo pipefail
build=${1:-build/release}
bench=$build/tests/bench/netwright_train_bench
[ -x "$bench" ] || { echo "no $bench: build first (cmake --build --preset release)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install openmpi-bin" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader
rate() { sed -n 's/.*"images_per_second": \([0-9.]*\).*/\1/p'; }
best() { sort -g | tail -1; }
echo "Open MPI $(mpirun --version | head -1 | awk '{print $NF}'), $(nproc) cores, batch 64 (global), best of 3 rounds"
printf '\n%-10s %14s %14s %8s %16s\n' model "1 rank img/s" "2 ranks img/s" ratio "1 rank×2 thr"
for model in mlp lenet5 cnn-small; do
  steps=300; [ "$model" = cnn-small ] && steps=60
  one=() two=() wide=()
  for round in 1 2 3; do
    one+=("$("$bench" --model "$model" --steps $steps --threads 1 | rate)")
    two+=("$(mpirun -np 2 --oversubscribe --bind-to core "$bench" --model "$model" --steps $steps --threads 1 | rate)")
    wide+=("$("$bench" --model "$model" --steps $steps --threads 2 | rate)")
  done
  a=$(printf '%s\n' "${one[@]}" | best); b=$(printf '%s\n' "${two[@]}" | best); c=$(printf '%s\n' "${wide[@]}" | best)
  printf '%-10s %14.0f %14.0f %8.2f %16.0f\n' "$model" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')" "$c"
done
