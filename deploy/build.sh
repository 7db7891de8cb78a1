#!/bin/sh
# Builds the static ringback binary. The Dockerfile and CI (.ci/run) both
# run this script, so CI builds and runs exactly what the image ships.
#
#   deploy/build.sh OUTPUT
#
# VERSION, COMMIT and BUILD_TIME stamp `ringback --version`; unset, they
# come from git when there is a checkout, else "devel"/"unknown".
set -eu
out=${1:?usage: deploy/build.sh OUTPUT}
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
build_time=${BUILD_TIME:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
# Static (no cgo: the SQLite driver is pure Go), with reproducible paths.
CGO_ENABLED=0 exec go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X ringback/cli.version=$version -X ringback/cli.commit=$commit -X ringback/cli.buildTime=$build_time" \
  -o "$out" .
