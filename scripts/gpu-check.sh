#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and PyTorch, builds the addon against that
# PyTorch's libtorch, runs the engine tests on CUDA, runs a DARTS-2nd and an LBT search step on
# CUDA, and prints them side by side with the same DARTS-2nd step in PyTorch eager on the same GPU
# (bench/darts_step_ref.py), with peak GPU memory. About 5 minutes; stops itself at 10.
# Without a GPU it says so and exits 0.
#
#   bash scripts/gpu-check.sh [--bundle DIR] [--cpu-dry-run]
#
# Node: the `node` on PATH (with its headers beside it, PREFIX/include/node), or a bundle made
# here by `bash scripts/gpu-bundle.sh DIR` (node.xz, node-headers.tar.xz, node_modules.tar.xz)
# for a machine without Node or npm. libtorch: LIBTORCH (default: python, the torch that
# `python3 -c 'import torch'` finds; PYTHON overrides python3). --cpu-dry-run runs every stage on
# the CPU with a small supernet (to check the script itself on a machine without a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."
bundle=${LBT_NODE_BUNDLE:-}
dry=0
while (($#)); do
  case $1 in
    --bundle) bundle=$2; shift 2 ;;
    --cpu-dry-run) dry=1; shift ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
done
say() { printf '[gpu-check %3ds] %s\n' "$SECONDS" "$*"; }
die() { say "$*" >&2; exit 1; }
py=${PYTHON:-python3}
deadline=${LBT_GPU_CHECK_SECONDS:-570} # every stage's timeout is cut to what is left of this

left() { local l=$((deadline - SECONDS)); ((l > 10)) && echo "$l" || echo 10; }
run_for() { local s=$1; shift; timeout "$(($(left) < s ? $(left) : s))" "$@"; }

# 1. Is there a GPU?
if ((!dry)); then
  if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    say "no NVIDIA GPU on this machine (nvidia-smi lists none): nothing to check"
    exit 0
  fi
  say "$(nvidia-smi -L | head -4 | tr '\n' ' ')"
fi
device=cuda
sizes=()
if ((dry)); then
  device=cpu
  sizes=(--batch 4 --layers 5 --steps 1)
  say "dry run on the CPU (batch 4, 5 cells, 1 timed step)"
fi

# 2. Node and node_modules (xz, or Python's lzma where xz is not installed).
unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$2" >"$1"; else
    "$py" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[2]), open(sys.argv[1], "wb"))' "$1" "$2"
  fi
}
untar_xz() {
  if command -v xz >/dev/null; then tar -xJf "$1" -C "$2"; else
    "$py" -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(sys.argv[2], **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$1" "$2"
  fi
}
nodedir=
if [ -n "$bundle" ]; then
  for f in node.xz node-headers.tar.xz; do [ -f "$bundle/$f" ] || die "$bundle/$f is missing (make the bundle with scripts/gpu-bundle.sh)"; done
  mkdir -p /tmp/lbt-node/bin
  unxz_to /tmp/lbt-node/bin/node "$bundle/node.xz" && chmod +x /tmp/lbt-node/bin/node || die "could not unpack $bundle/node.xz"
  untar_xz "$bundle/node-headers.tar.xz" /tmp/lbt-node || die "could not unpack $bundle/node-headers.tar.xz"
  export PATH=/tmp/lbt-node/bin:$PATH
  nodedir=/tmp/lbt-node
  if [ ! -d node_modules ] && [ -f "$bundle/node_modules.tar.xz" ]; then
    untar_xz "$bundle/node_modules.tar.xz" . || die "could not unpack $bundle/node_modules.tar.xz"
  fi
fi
command -v node >/dev/null || die "no node on PATH and no --bundle (make one with scripts/gpu-bundle.sh)"
if [ -z "$nodedir" ]; then
  nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  [ -f "$nodedir/include/node/node_api.h" ] || die "no Node headers in $nodedir/include/node (use --bundle)"
fi
[ -d node_modules/node-gyp ] || die "node_modules is missing (npm ci, or a --bundle with node_modules.tar.xz)"
say "node $(node --version) (headers in $nodedir/include/node)"

# 3. libtorch: PyTorch's by default; the comparison needs PyTorch itself.
export LIBTORCH=${LIBTORCH:-python}
have_torch=0
if "$py" -c 'import torch' 2>/dev/null; then
  have_torch=1
  say "PyTorch $("$py" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda, "available:", torch.cuda.is_available())')"
elif [ "$LIBTORCH" = python ]; then
  die "$py cannot import torch: install PyTorch or set LIBTORCH=/path/to/libtorch"
fi

# 4. Build the addon and the TypeScript.
say "building the addon: $(cd native && node locate-libtorch.mjs summary)"
run_for 300 node node_modules/node-gyp/bin/node-gyp.js rebuild --directory=native --nodedir="$nodedir" -j "$(nproc)" \
  --loglevel=error >/tmp/lbt-native-build.log 2>&1 || { tail -40 /tmp/lbt-native-build.log; die "the native build failed"; }
run_for 120 node node_modules/typescript/bin/tsc -p tsconfig.json || die "tsc failed"
export LBT_NUM_THREADS=${LBT_NUM_THREADS:-$(nproc)}
run_for 60 ./lbt doctor
status=0

# 5. The engine tests with CUDA as the default device (float64 gradient checks included).
tests=${LBT_GPU_TESTS:-test/torch/ test/lbt/ test/nas/}
say "engine tests on $device: $tests"
# shellcheck disable=SC2086
LBT_DEFAULT_DEVICE=$device run_for 300 node scripts/run-tests.js $tests >/tmp/lbt-gpu-tests.log 2>&1
rc=$?
grep -E '^# (tests|pass|fail|skipped) ' /tmp/lbt-gpu-tests.log | tr '\n' ' '
echo
if ((rc != 0)); then
  status=1
  grep -E '^not ok|^# Subtest|Error' /tmp/lbt-gpu-tests.log | grep -B1 -A1 '^not ok' | head -30
  say "engine tests on $device FAILED (exit $rc; log /tmp/lbt-gpu-tests.log)"
fi

# 6. The search steps: lbt (DARTS-2nd, LBT), then PyTorch eager (DARTS-2nd).
say "search steps on $device: lbt"
ours=$(run_for 240 node dist/bench/main.js gpu --device "$device" "${sizes[@]}") || { status=1; say "lbt's search steps FAILED"; }
echo "$ours"
ref=
if ((have_torch)); then
  say "search step on $device: PyTorch eager (bench/darts_step_ref.py)"
  ref=$(run_for 180 "$py" bench/darts_step_ref.py --device "$device" "${sizes[@]}") || { status=1; say "the PyTorch step FAILED"; }
  echo "$ref"
fi

# 7. Side by side.
OURS=$ours REF=$ref node -e '
const lines = (s) => (s || "").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const ours = Object.fromEntries(lines(process.env.OURS).map((o) => [o.variant, o]));
const [ref] = lines(process.env.REF);
const d = ours["darts-2nd"], l = ours.lbt;
const f = (v, n = 1) => (v == null ? "-" : v.toFixed(n));
if (!d) process.exit(0);
console.log(`\nDARTS-2nd search step (architect + weights), ${d.device}:`);
console.log(`  ${"".padEnd(22)}${"lbt (libtorch " + d.libtorch + ")"}`.padEnd(52) + (ref ? `PyTorch eager ${ref.torch}` : ""));
console.log(`  ${"ms per step".padEnd(22)}${f(d.msPerStep).padEnd(28)}${ref ? f(ref.msPerStep) + `   lbt/PyTorch = ${(d.msPerStep / ref.msPerStep).toFixed(2)}` : ""}`);
console.log(`  ${"peak allocated MiB".padEnd(22)}${f(d.peakAllocatedMiB, 0).padEnd(28)}${ref ? f(ref.peakAllocatedMiB, 0) + (d.peakAllocatedMiB && ref.peakAllocatedMiB ? `   lbt/PyTorch = ${(d.peakAllocatedMiB / ref.peakAllocatedMiB).toFixed(2)}` : "") : ""}`);
console.log(`  ${"host reads per step".padEnd(22)}${f(d.hostReadsPerStep, 0)}`);
if (l) console.log(`LBT search step (DARTS-2nd + ResNet-18 student): ${f(l.msPerStep)} ms = ${(l.msPerStep / d.msPerStep).toFixed(2)} x lbt DARTS-2nd` + (ref ? ` = ${(l.msPerStep / ref.msPerStep).toFixed(2)} x PyTorch DARTS-2nd` : "") + `; peak ${f(l.peakAllocatedMiB, 0)} MiB; ${f(l.hostReadsPerStep, 0)} host reads per step`);
'
if ((status == 0)); then say "done: every stage passed"; else say "done: some stage FAILED (see above)"; fi
exit "$status"
