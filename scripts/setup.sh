#!/usr/bin/env bash
# Sets up lbt on a fresh Debian 12 machine with Node 20 (run as root), idempotently:
# Debian packages, npm dependencies, the libtorch addon, the TypeScript build.
# Fast when everything is already there. LIBTORCH=/path/to/libtorch builds against another
# libtorch (pytorch.org layout, CUDA builds included) instead of Debian's libtorch-dev.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages: libtorch (unless LIBTORCH is given), OpenBLAS so matmul does not run on
#    reference BLAS, the built-in dataset, a C++ toolchain for the addon, chromium for the browser
#    test of `lbt serve` (driven by playwright-core, which downloads no browser), and Redis for the
#    queue of `lbt experiment --queue` / `lbt worker` (the tests start their own on a loopback port).
pkgs=(libopenblas0-pthread dataset-fashion-mnist g++ make python3 chromium redis-server)
[ -n "${LIBTORCH:-}" ] || pkgs+=(libtorch-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing Debian packages: ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. npm dependencies (from the lockfile), when missing or out of date.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 3. The native addon, when missing or older than its sources (or the libtorch choice changed).
addon=native/build/Release/lbt_torch.node
stamp=native/build/libtorch-choice
choice="${LIBTORCH:-debian}${LIBTORCH_INCLUDE:-}${LIBTORCH_LIB:-}"
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp -newer "$addon" 2>/dev/null)" ] ||
  [ "$(cat "$stamp" 2>/dev/null)" != "$choice" ]; then
  say "building the libtorch addon (about a minute)"
  npx node-gyp rebuild --directory=native -j "$(nproc)" --loglevel=error >native-build.log 2>&1 || {
    tail -40 native-build.log >&2
    echo "[setup] the native build failed; full log in native-build.log" >&2
    exit 1
  }
  echo "$choice" >"$stamp"
  rm -f native-build.log
fi

# 4. TypeScript.
say "compiling TypeScript"
npx tsc -p tsconfig.json
chmod +x dist/src/cli/main.js 2>/dev/null || true
say "ready"
