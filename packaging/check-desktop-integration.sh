#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The desktop integration as a desktop sees it, checked on the .deb itself: validates the .desktop
# file and the AppStream metainfo, builds the package (cpack), unpacks it into a scratch root — or,
# with --system, installs it with dpkg — builds the MIME and desktop databases there, and asks
# xdg-mime for the type of each real fixture and for the default application of each type.
#   packaging/check-desktop-integration.sh BUILD_DIR FIXTURES_DIR [--system]
set -euo pipefail
build=$(cd "$1" && pwd)
fixtures=$(cd "$2" && pwd)
mode=${3:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

desktop-file-validate "$here/netwright.desktop"
echo "desktop-file-validate netwright.desktop: OK"
appstreamcli validate --no-net "$here/org.netwright.Netwright.metainfo.xml"

(cd "$build" && cpack -G DEB -B "$scratch/deb" >/dev/null)
deb=$(ls "$scratch"/deb/netwright_*.deb)
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
expected=(libqt6widgets6 libprotobuf32 graphviz qt6-qpa-plugins)
# built with data-parallel training: the MPI library it links, and mpirun recommended
if grep -q '^NETWRIGHT_WITH_MPI:BOOL=ON' "$build/CMakeCache.txt"; then
  expected+=(libopenmpi3)
  recommends=$(dpkg-deb -f "$deb" Recommends)
  echo "Recommends: $recommends"
  case "$recommends" in *openmpi-bin*) ;; *) echo "FAIL: Recommends lacks openmpi-bin"; failures=$((failures + 1)) ;; esac
fi
for d in "${expected[@]}"; do
  case "$depends" in *"$d"*) ;; *) echo "FAIL: Depends lacks $d"; failures=$((failures + 1)) ;; esac
done

if [ "$mode" = --system ]; then
  dpkg -i "$deb" >/dev/null   # dpkg's triggers update the MIME and desktop databases
  share=/usr/share
else
  dpkg-deb -x "$deb" "$scratch/root"
  share=$scratch/root/usr/share
  update-mime-database "$share/mime"
  update-desktop-database "$share/applications"
  export XDG_DATA_DIRS="$share:/usr/share"
fi
# No per-user choices: what the system (or the package) says.
export XDG_DATA_HOME=$scratch/data XDG_CONFIG_HOME=$scratch/config
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
for f in applications/netwright.desktop mime/packages/netwright.xml metainfo/org.netwright.Netwright.metainfo.xml \
         icons/hicolor/scalable/apps/netwright.svg icons/hicolor/48x48/apps/netwright.png man/man1/netwright.1; do
  [ -f "$share/$f" ] || { echo "FAIL: the package has no $f"; failures=$((failures + 1)); }
done

# An AIR file: no real one is public (fixtures/README.md), so one Netwright writes.
"$build/app/netwright" convert "$fixtures/cntk-v2/pscntk_logistic.model" "$scratch/logistic.air" >/dev/null
check() {
  local file=$1 want=$2 got default
  got=$(xdg-mime query filetype "$file")
  default=$(xdg-mime query default "$got")
  if [ "$got" = "$want" ] && [ "$default" = netwright.desktop ]; then
    printf '%-58s %-36s %s\n' "$(basename "$file")" "$got" "$default"
  else
    echo "FAIL: $file is \"$got\" (want $want), opened by \"$default\" (want netwright.desktop)"
    failures=$((failures + 1))
  fi
}
check /usr/share/libonnx-testdata/data/node/test_relu/model.onnx application/x-onnx
for f in "$fixtures"/mindspore-ckpt/*.ckpt; do check "$f" application/x-mindspore-checkpoint; done
for f in "$fixtures"/mindir/*.mindir; do check "$f" application/x-mindspore-mindir; done
for f in "$fixtures"/mindspore-graph-meta/*-graph.meta; do check "$f" application/x-mindspore-graph-meta; done
check "$scratch/logistic.air" application/x-ascend-air
for f in "$fixtures"/cntk-v2/*; do check "$f" application/x-cntk-model; done
for f in "$fixtures"/cntk-ckp/*.ckp; do check "$f" application/x-cntk-checkpoint; done
for f in "$fixtures"/cntk-v1/*.dnn; do check "$f" application/x-cntk-legacy-model; done

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "All checks passed."
