#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no Node and no npm registry:
# this Node binary (xz), its headers (for node-gyp) and node_modules without the linter.
# About 40 MB. Usage: bash scripts/gpu-bundle.sh DIR   (then: bash scripts/gpu-check.sh --bundle DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash scripts/gpu-bundle.sh DIR}
[ -d node_modules ] || { echo "gpu-bundle: run bash scripts/setup.sh first (node_modules is missing)" >&2; exit 1; }
node=$(readlink -f "$(command -v node)")
prefix=$(dirname "$(dirname "$node")")
[ -f "$prefix/include/node/node_api.h" ] || { echo "gpu-bundle: no Node headers in $prefix/include/node" >&2; exit 1; }
mkdir -p "$out"
xz -T0 -6 -c "$node" >"$out/node.xz"
# the headers node-gyp reads (the bundled OpenSSL/V8 extras are not needed by a Node-API addon)
tar -C "$prefix" -cJf "$out/node-headers.tar.xz" --exclude='include/node/openssl' include/node
tar -cJf "$out/node_modules.tar.xz" --exclude='node_modules/@biomejs' node_modules
du -sh "$out"/*
