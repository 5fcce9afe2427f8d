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

# Mounts /proc, /sys and /dev into the root for the chroot commands; undone on exit.
mounted=()
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
    mounted=("$root/$d" "${mounted[@]}")
  done
}
unmount_root() {
  local d
  for d in "${mounted[@]}"; do umount -l "$d" 2>/dev/null || true; done
}
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
  local pkgs="libtorch-dev nodejs libnode-dev g++ make python3 libopenblas0-pthread dataset-fashion-mnist binutils"
  local n
  n=$(in_root "dpkg-query -W -f='\${Status}\n' $pkgs 2>/dev/null | grep -c 'install ok installed'" || true)
  if [ "$n" != "$(echo $pkgs | wc -w)" ]; then
    say "installing into the root: $pkgs"
    in_root "export DEBIAN_FRONTEND=noninteractive; dpkg --configure -a && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs >/dev/null"
  fi
  say "root: $(in_root 'node --version') , libtorch $(in_root "dpkg-query -W -f='\${Version}' libtorch-dev")"
}

# 2. The project, copied fresh into /lbt with this checkout's node_modules.
copy_project() {
  say "copying the project into $root/lbt"
  rm -rf "$root/lbt"
  mkdir -p "$root/lbt"
  git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$root/lbt"
  cp -a node_modules "$root/lbt/"
  rm -rf "$root/lbt/native/build" "$root/lbt/dist"
}

# Inside the root: trixie's Node with its headers from libnode-dev (node-gyp downloads nothing),
# node-gyp and tsc from node_modules (no npm in the root).
build_addon="node node_modules/node-gyp/bin/node-gyp.js rebuild --directory=native --nodedir=/usr -j $(nproc) \
  --loglevel=error >native-build.log 2>&1 || { tail -40 native-build.log; exit 2; }"

# 3. CPU: build against libtorch 2.6, doctor, the whole suite.
check_cpu() {
  copy_project
  local filter=${LBT_CHECK_TESTS:-}
  say "building the addon against libtorch 2.6 and running the test suite (tens of minutes)"
  local log="$root/lbt-test.log"
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

# 4. CUDA: the CUDA libtorch's packages unpacked with dpkg -x, the addon compiled and linked in the
#    Debian layout, the pytorch.org layout (include/, lib/, share/cmake) and a Python install's
#    layout (site-packages/torch/{include,lib}), each made of links into the unpacked packages.
cuda_packages() {
  # libtorch-cuda-dev and what its link needs: the closure of its dependencies minus what the root
  # has installed; nvidia-cudnn is an installer (it downloads cuDNN at install time) and is left out.
  in_root "apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances libtorch-cuda-dev 2>/dev/null | grep -E '^[a-z0-9]' | sort -u" |
    while read -r p; do
      case $p in nvidia-cudnn | *-installer | debconf* | libtorch-dev | libtorch2.6) continue ;; esac
      in_root "dpkg-query -W -f='\${Status}' $p 2>/dev/null | grep -q 'install ok installed'" || echo "$p"
    done
}

check_cuda() {
  local debs=/var/cache/lbt-cuda-debs x=/opt/lbt-cuda
  if [ ! -f "$root$x/.unpacked" ]; then
    local pkgs
    pkgs=$(cuda_packages | tr '\n' ' ')
    say "downloading the CUDA libtorch packages into the root: $pkgs"
    in_root "mkdir -p $debs && cd $debs && apt-get download $pkgs >/dev/null"
    say "unpacking them with dpkg -x into $root$x"
    in_root "rm -rf $x && mkdir -p $x && for f in $debs/*.deb; do dpkg -x \$f $x; done && touch $x/.unpacked"
  fi
  copy_project
  local lib=$x/usr/lib/x86_64-linux-gnu
  in_root "test -f $lib/libtorch_cuda.so" || die "the unpacked packages hold no libtorch_cuda.so"
  # the pytorch.org and Python layouts, as links into the unpacked Debian files
  in_root "set -e; rm -rf /opt/lbt-layouts; mkdir -p /opt/lbt-layouts/libtorch/share/cmake /opt/lbt-layouts/site-packages/torch/share/cmake
    for d in /opt/lbt-layouts/libtorch /opt/lbt-layouts/site-packages/torch; do
      ln -s $x/usr/include \$d/include; ln -s $lib \$d/lib; ln -s $lib/cmake/Torch \$d/share/cmake/Torch
    done"
  local rc=0 layout
  for layout in "debian:LIBTORCH_INCLUDE=$x/usr/include LIBTORCH_LIB=$lib" \
    "pytorch.org:LIBTORCH=/opt/lbt-layouts/libtorch" "python:LIBTORCH=/opt/lbt-layouts/site-packages"; do
    local name=${layout%%:*} envs=${layout#*:}
    say "CUDA libtorch 2.6, $name layout ($envs): compile and link"
    if in_root "cd /lbt && export CUDA_HOME=$x/usr $envs && rm -rf native/build &&
        node native/locate-libtorch.js summary &&
        $build_addon
      f=native/build/Release/lbt_torch.node
      echo \"  built \$(stat -c %s \$f) bytes; NEEDED: \$(readelf -d \$f | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')\"
      readelf -d \$f | grep -q 'libtorch_cuda.so' || { echo '  libtorch_cuda.so is not NEEDED: CUDA kernels would not register'; exit 3; }
      echo \"  unresolved at load (LD_LIBRARY_PATH=$lib): \$(LD_LIBRARY_PATH=$lib ldd \$f | grep 'not found' | awk '{print \$1}' | sort -u | tr '\n' ' ')\""; then
      say "CUDA $name layout: compiled and linked"
    else
      rc=1
      say "CUDA $name layout: FAILED"
    fi
  done
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
