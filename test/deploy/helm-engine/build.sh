#!/bin/sh
# Rebuilds helm-engine.wasm.gz and wasm-exec.js from main.go with Debian's Go toolchain and
# Debian's packaged sprig v3.2.3 and yaml.v2 (the versions Helm 3 builds with):
#   apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev
set -eu
cd "$(dirname "$0")"
GOROOT_DIR=$(go env GOROOT)
work=$(mktemp -d)
mkdir -p "$work/src/helm-engine"
cp main.go "$work/src/helm-engine/"
(cd "$work/src/helm-engine" && GO111MODULE=off GOPATH="$work:/usr/share/gocode" GOOS=js GOARCH=wasm \
  go build -trimpath -ldflags='-s -w' -o "$work/helm-engine.wasm" .)
gzip -9n < "$work/helm-engine.wasm" > helm-engine.wasm.gz
{ echo '/* eslint-disable */'; echo "// Vendored from Go $(go env GOVERSION): $GOROOT_DIR/misc/wasm/wasm_exec.js (BSD-style license, The Go Authors)."; cat "$GOROOT_DIR/misc/wasm/wasm_exec.js"; } > wasm-exec.js
rm -rf "$work"
ls -l helm-engine.wasm.gz wasm-exec.js
