#!/usr/bin/env bash
# Checks lbt against Debian 13's libtorch 2.6 without touching this machine's Debian 12 (run as root):
#
#   bash scripts/check-libtorch.sh          # cpu: build the addon against libtorch 2.6, run the whole suite
#   bash scripts/check-libtorch.sh cuda     # compile and link the addon against the CUDA libtorch 2.6
#   bash scripts/check-libtorch.sh all      # both
#
# A Debian 13 (trixie) root is made once with debootstrap (about 4 minutes, 2 GB) in LBT_TRIXIE_ROOT
# (default /work/scratch/trixie) and reused. The project is copied in (tracked and untracked
# files, and node_modules from this checkout: run scripts/setup.sh here first), built there, and
# tested with trixie's own Node 20. The CUDA check downloads the CUDA libtorch packages with
# apt-get inside the root and unpacks them with dpkg -x (their nvidia-cudnn dependency downloads
# from outside Debian and cannot be installed), then builds the addon against that libtorch in the
# three layouts LIBTORCH accepts. Nothing is written to the repository.
#
#   LBT_TRIXIE_ROOT     where the root lives (default /work/scratch/trixie)
#   LBT_DEBIAN_MIRROR   Debian mirror (default: the first one in this machine's apt sources)
#   LBT_CHECK_TESTS     test-file filters for scripts/run-tests.js (default: every test file)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
mode=${1:-cpu}
root=${LBT_TRIXIE_ROOT:-/work/scratch/trixie}
say() { printf '[check-libtorch] %s\n' "$*"; }
die() { printf '[check-libtorch] %s\n' "$*" >&2; exit 1; }

case "$mode" in cpu | cuda | all) ;; *) die "unknown mode '$mode' (cpu, cuda, all)" ;; esac
[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
[ -d node_modules ] || die "node_modules is missing: run bash scripts/setup.sh in this checkout first"

mirror() {
  if [ -n "${LBT_DEBIAN_MIRROR:-}" ]; then echo "$LBT_DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hoE '^URIs: *[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//')
  [ -n "$m" ] || m=$(grep -hoE '^deb +[^ ]+/debian/? ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')
  [ -n "$m" ] || die "no Debian mirror found in /etc/apt; set LBT_DEBIAN_MIRROR"
  echo "${m%/}"
}

# Mounts /proc, /sys and /dev into the root for the chroot commands. Checks may run at once (a cpu
# and a cuda check, each with its own copy of the project): each holds a shared lock on the root,
# and the last one out unmounts.
mount_root() {
  local d
  for d in proc sys dev dev/pts; do
    mountpoint -q "$root/$d" && continue
    mkdir -p "$root/$d"
    case $d in
      proc) mount -t proc proc "$root/proc" ;;
      sys) mount -t sysfs sys "$root/sys" ;;
      *) mount --bind "/$d" "$root/$d" ;;
    esac
  done
}
unmount_root() {
  flock -n -x 9 || return 0 # another check still uses the mounts
  local d
  for d in dev/pts dev sys proc; do mountpoint -q "$root/$d" && umount -l "$root/$d"; done
  return 0
}
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock -s 9
trap unmount_root EXIT
trap 'exit 130' INT TERM
in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 bash -c "$1"; }

# 1. The root: debootstrap once, then the packages (apt-get is a no-op when they are there).
make_root() {
  command -v debootstrap >/dev/null || {
    say "installing debootstrap"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  if [ ! -f "$root/.lbt-debootstrap-done" ]; then
    local m
    m=$(mirror)
    say "making a Debian 13 root in $root (debootstrap --variant=minbase, a few minutes)"
    mkdir -p "$root"
    debootstrap --variant=minbase --components=main,contrib trixie "$root" "$m" >"$root.debootstrap.log" 2>&1 ||
      { tail -20 "$root.debootstrap.log" >&2; die "debootstrap failed (log: $root.debootstrap.log)"; }
    printf 'deb %s trixie main contrib\n' "$m" >"$root/etc/apt/sources.list"
    rm -f "$root/etc/apt/sources.list.d/"*.sources
    touch "$root/.lbt-debootstrap-done"
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  mount_root
  local pkgs="libtorch-dev nodejs libnode-dev g++ make python3 libopenblas0-pthread dataset-fashion-mnist binutils redis-server chromium"
  local n
  n=$(in_root "dpkg-query -W -f='\${Status}\n' $pkgs 2>/dev/null | grep -c 'install ok installed'" || true)
  if [ "$n" != "$(echo $pkgs | wc -w)" ]; then
    say "installing into the root: $pkgs"
    in_root "export DEBIAN_FRONTEND=noninteractive; dpkg --configure -a && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null"
  fi
  say "root: $(in_root 'node --version') , libtorch $(in_root "dpkg-query -W -f='\${Version}' libtorch-dev")"
}

# 2. The project, copied fresh into the root (/lbt for cpu, /lbt-cuda for cuda) with this
#    checkout's node_modules.
copy_project() {
  local dst=$root/$1
  say "copying the project into $dst"
  rm -rf "$dst"
  mkdir -p "$dst"
  git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$dst"
  cp -a node_modules "$dst/"
  rm -rf "$dst/native/build" "$dst/dist"
}

# Inside the root: trixie's Node with its headers from libnode-dev (node-gyp downloads nothing),
# node-gyp and tsc from node_modules (no npm in the root).
build_addon="node node_modules/node-gyp/bin/node-gyp.js rebuild --directory=native --nodedir=/usr -j $(nproc) \
  --loglevel=error >native-build.log 2>&1 || { tail -40 native-build.log; exit 2; }"

# 3. CPU: build against libtorch 2.6, doctor, the whole suite.
check_cpu() {
  copy_project lbt
  local filter=${LBT_CHECK_TESTS:-}
  say "building the addon against libtorch 2.6 and running the test suite (tens of minutes)"
  local log="$root/lbt-test.log"
  rm -f "$log"
  set +e
  in_root "cd /lbt && $build_addon && node node_modules/typescript/bin/tsc -p tsconfig.json &&
    ./lbt doctor; node scripts/run-tests.js $filter" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local pass fail
  pass=$(grep -E '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  fail=$(grep -E '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  say "libtorch 2.6 (Debian 13): ${pass:-?} tests passed, ${fail:-?} failed (exit $rc; log $log)"
  return "$rc"
}

# 4. CUDA: the CUDA libtorch 2.6 (contrib) and the CUDA 12 libraries it links (non-free), downloaded
#    into the root and unpacked with dpkg -x (not installed: libtorch-cuda-2.6 depends on
#    nvidia-cudnn, an installer that downloads cuDNN from outside Debian). The addon is compiled and
#    linked against it in the three layouts LIBTORCH accepts, the last two made of links into the
#    unpacked files: Debian's (LIBTORCH_INCLUDE + LIBTORCH_LIB, CUDA headers from CUDA_HOME), the
#    pytorch.org download (include/, lib/, share/cmake/Torch) and a Python install
#    (site-packages/torch/{include,lib}, CUDA headers from site-packages/nvidia/*/include).
#    Then the addon is loaded in Node with a stand-in for libcudnn.so.9 (same soname and symbol
#    version, every function returning an error; made here, never installed): it must report CUDA
#    compiled but not usable, refuse `device: cuda` in one line, and pass the engine tests.
cuda_debs="libtorch-cuda-dev libtorch-cuda-2.6 libgloo-cuda-0 libtensorpipe-cuda-0 libnccl2 libcudart12 libcublas12
  libcublaslt12 libcufft11 libcurand10 libcusolver11 libcusparse12 libnvrtc12 libnvtoolsext1 libnvjitlink12 nvidia-cuda-dev
  libcu++-dev libcub-dev libthrust-dev"
cudax=/opt/lbt-cuda
cudalib=$cudax/usr/lib/x86_64-linux-gnu

unpack_cuda() {
  [ -f "$root$cudax/.unpacked" ] && return
  local debs=/var/cache/lbt-cuda-debs
  sed 's/ main contrib$/ contrib non-free/' "$root/etc/apt/sources.list" >"$root/etc/apt/sources.list.d/lbt-cuda.list"
  say "downloading the CUDA libtorch and CUDA 12 packages into the root (about 2 GB)"
  in_root "apt-get update -qq 2>/dev/null; mkdir -p $debs && cd $debs && apt-get download $(echo $cuda_debs) >/dev/null 2>&1" ||
    die "apt-get download failed"
  say "unpacking them with dpkg -x into $root$cudax (5.5 GB, a few minutes)"
  in_root "rm -rf $cudax && mkdir -p $cudax && for f in $debs/*.deb; do dpkg -x \$f $cudax; done && touch $cudax/.unpacked"
}

# The links that make the unpacked files look like a pytorch.org download and a Python install,
# and the libcudnn.so.9 stand-in.
cuda_layouts() {
  in_root "set -e; L=/opt/lbt-layouts; rm -rf \$L; mkdir -p \$L/libtorch/share/cmake \$L/site-packages/torch/share/cmake \$L/site-packages/nvidia/cu12
    for d in \$L/libtorch \$L/site-packages/torch; do
      ln -s $cudax/usr/include \$d/include; ln -s $cudalib \$d/lib; ln -s $cudalib/cmake/Torch \$d/share/cmake/Torch
    done
    ln -s $cudax/usr/include \$L/site-packages/nvidia/cu12/include
    S=/opt/lbt-cudnn-stub; rm -rf \$S; mkdir -p \$S
    nm -D --undefined-only $cudalib/*.so 2>/dev/null | sed -n 's/^ *U \(cudnn[A-Za-z0-9_]*\)@libcudnn.so.9\$/\1/p' | sort -u |
      sed 's/.*/int &(void) { return 1; }/' >\$S/stub.c
    echo 'libcudnn.so.9 { global: *; };' >\$S/stub.map
    gcc -shared -fPIC -o \$S/libcudnn.so.9 -Wl,-soname,libcudnn.so.9 -Wl,--version-script=\$S/stub.map \$S/stub.c
    echo \"  libcudnn.so.9 stand-in: \$(wc -l <\$S/stub.c) functions\""
}

# Builds in one layout; prints what the addon needs and what would be missing at load time.
cuda_build() {
  local name=$1 envs=$2
  say "CUDA libtorch 2.6, $name layout ($envs): compile and link"
  in_root "cd /lbt-cuda && export $envs && rm -rf native/build && (cd native && node locate-libtorch.mjs summary) &&
      $build_addon
    f=native/build/Release/lbt_torch.node
    echo \"  built \$(stat -c %s \$f) bytes; NEEDED: \$(readelf -d \$f | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')\"
    readelf -d \$f | grep -q 'libtorch_cuda.so' || { echo '  libtorch_cuda.so is not NEEDED: CUDA kernels would not register'; exit 3; }
    echo \"  not found at load without the stand-in: \$(LD_LIBRARY_PATH=$cudalib:$cudax/usr/lib ldd \$f | grep 'not found' | awk '{print \$1}' | sort -u | tr '\n' ' ')\""
}

cuda_load_checks() {
  local ld="LD_LIBRARY_PATH=$cudalib:$cudax/usr/lib:/opt/lbt-cudnn-stub"
  say "loading the CUDA addon in Node (libcudnn.so.9 stand-in, no GPU): doctor, device: cuda, engine tests"
  in_root "cd /lbt-cuda && export $ld LBT_NUM_THREADS=2 && node node_modules/typescript/bin/tsc -p tsconfig.json &&
    node -e \"import('./dist/src/torch/index.js').then((t) => { const i = t.buildInfo();
      console.log('  buildInfo:', JSON.stringify({ version: i.version, cudaCompiled: i.cudaCompiled, cudaHeaders: i.cudaHeaders, cudaAvailable: i.cudaAvailable, devices: t.cudaDevices().length }));
      if (!i.cudaCompiled || !i.cudaHeaders || i.cudaAvailable) process.exit(4); })\" &&
    ./lbt doctor | sed -n '1,3p'
    out=\$(./lbt search --set device=cuda 2>&1); rc=\$?
    echo \"  lbt search --set device=cuda: exit \$rc; its output:\"; printf '    %s\n' \"\$out\"
    [ \$rc -ne 0 ] && [ \$(printf '%s\n' \"\$out\" | grep -c '^lbt: ') -eq 1 ] || exit 5
    node scripts/run-tests.js test/torch/ >/tmp/lbt-cuda-tests.log 2>&1; trc=\$?
    grep -E '^ℹ (tests|pass|fail|skipped) |^✖ [A-Za-z]' /tmp/lbt-cuda-tests.log | sort -u | tr '\n' ' '; echo
    exit \$trc"
}

check_cuda() {
  unpack_cuda
  copy_project lbt-cuda
  cuda_layouts
  local rc=0
  cuda_build debian "LIBTORCH_INCLUDE=$cudax/usr/include LIBTORCH_LIB=$cudalib CUDA_HOME=$cudax/usr" || rc=1
  cuda_build pytorch.org "LIBTORCH=/opt/lbt-layouts/libtorch CUDA_HOME=$cudax/usr" || rc=1
  cuda_build python "LIBTORCH=/opt/lbt-layouts/site-packages" || rc=1
  cuda_load_checks || rc=1
  if ((rc == 0)); then say "CUDA libtorch 2.6: compiled and linked in 3 layouts, loads, refuses device cuda, engine tests pass"; else
    say "CUDA libtorch 2.6: some check FAILED"; fi
  return "$rc"
}

make_root
status=0
case "$mode" in
  cpu) check_cpu || status=$? ;;
  cuda) check_cuda || status=$? ;;
  all)
    check_cpu || status=$?
    check_cuda || status=$?
    ;;
esac
exit "$status"
