#!/usr/bin/env bash
# Release builds of fabgrid: static, pure-Go binaries (CGO_ENABLED=0, so
# they run on any Linux of their architecture and need no C library), with
# the version from git. Two builds per platform:
#
#   dist/fabgrid-OS-ARCH          the grid build: every command
#   dist/fabgrid-slicer-OS-ARCH   -tags slicer: slice, gcode, print,
#                                 vprinter, version (see cmd/fabgrid/builds.go)
#
#   scripts/build.sh                 this machine's platform
#   scripts/build.sh all             also linux/arm64 and linux/arm (GOARM=7):
#                                    Raspberry Pi 3/4/5 and Pi 2/3 on 32 bits
#   scripts/build.sh OS/ARCH ...     the platforms named
#
# DIST=dir puts the binaries elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=${DIST:-dist}
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)

platforms=("$@")
if [ ${#platforms[@]} -eq 0 ]; then
  platforms=("$(go env GOOS)/$(go env GOARCH)")
elif [ "${platforms[0]}" = all ]; then
  platforms=("$(go env GOOS)/$(go env GOARCH)" linux/arm64 linux/arm)
fi

mkdir -p "$DIST"
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  for build in grid slicer; do
    name=fabgrid-$os-$arch tags=()
    if [ $build = slicer ]; then name=fabgrid-slicer-$os-$arch tags=(-tags slicer); fi
    CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOARM=7 go build -trimpath "${tags[@]}" \
      -ldflags "-s -w -X main.version=$version" -o "$DIST/$name" ./cmd/fabgrid
    printf '%-34s %6s KB\n' "$DIST/$name" $(( $(stat -c %s "$DIST/$name") / 1024 ))
  done
done
