#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzz one file reader for longer than CI does (after `cmake --preset sanitize && cmake --build
# --preset sanitize`):   tests/fuzz/run.sh mindir 3600
# Readers: ckpt onnx mindir graph_meta air cntk detect. Findings are written as crash-*/leak-*/
# oom-* files in the current directory; replay one with build/sanitize/tests/fuzz/fuzz_<reader> FILE.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
reader=${1:?usage: tests/fuzz/run.sh READER [SECONDS]}
seconds=${2:-600}
build="$here/build/sanitize/tests/fuzz"
shared="${NETWRIGHT_SHARED_DIR:-$here/../shared}"
declare -A seeds=([ckpt]=mindspore-ckpt [onnx]= [mindir]=mindir [graph_meta]=mindspore-graph-meta [air]= [cntk]=cntk-v2
                  [detect]="mindspore-ckpt mindir mindspore-graph-meta cntk-v2 cntk-ckp cntk-v1")
[ -x "$build/fuzz_$reader" ] || { echo "no fuzz target \"$reader\" in $build" >&2; exit 2; }
"$build/fuzz_make_seeds" "$build/seeds" >/dev/null
dirs=("$build/corpus/$reader")
mkdir -p "${dirs[0]}"
[ -d "$build/seeds/$reader" ] && dirs+=("$build/seeds/$reader")
for s in ${seeds[$reader]}; do dirs+=("$shared/fixtures/$s"); done
exec "$build/fuzz_$reader" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
  -print_final_stats=1 "${dirs[@]}"
