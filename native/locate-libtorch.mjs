// Finds the libtorch the addon builds against and prints what binding.gyp needs (one item per call):
//   node locate-libtorch.mjs include|libs|defines|cflags|summary
//
// Where libtorch is, in order:
//   LIBTORCH_INCLUDE and LIBTORCH_LIB     the two folders, given separately (any layout)
//   LIBTORCH=/opt/libtorch                the pytorch.org layout: include/, lib/, share/cmake/Torch
//   LIBTORCH=.../site-packages/torch      the libtorch inside a Python PyTorch install (torch/include,
//   LIBTORCH=.../site-packages              torch/lib); the site-packages folder itself works too
//   LIBTORCH=python                       the torch that `python3 -c 'import torch'` finds (PYTHON overrides)
//   (none)                                Debian's libtorch-dev (/usr/include, /usr/lib/<triplet>)
// A CUDA libtorch is recognised by libtorch_cuda.so next to libtorch.so; it is linked with
// --no-as-needed so that its kernels register when the addon loads. The C++ ABI comes from
// TorchConfig.cmake (LIBTORCH_CXX11_ABI=0|1 overrides), the C++ standard from the version
// (C++20 from libtorch 2.12 on; LIBTORCH_CXX_STD overrides).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const env = process.env;

function fail(msg) {
  process.stderr.write(`locate-libtorch: ${msg}\n`);
  process.exit(1);
}

function pythonTorch() {
  const py = env.PYTHON || 'python3';
  try {
    return execFileSync(py, ['-c', 'import os, torch; print(os.path.dirname(torch.__file__))'], {
      encoding: 'utf8',
    }).trim();
  } catch (err) {
    fail(`LIBTORCH=python: '${py} -c "import torch"' failed (${err.message.split('\n')[0]})`);
  }
}

/** The libtorch root folder (holding include/ and lib/), or null for Debian's system libtorch. */
function rootFolder() {
  const given = env.LIBTORCH;
  if (!given) return null;
  if (given === 'python' || given === 'python3') return pythonTorch();
  const abs = resolve(given);
  if (!existsSync(join(abs, 'lib')) && existsSync(join(abs, 'torch', 'lib'))) return join(abs, 'torch');
  return abs;
}

function debianLibDir() {
  for (const d of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib']) {
    if (existsSync(join(d, 'libtorch.so'))) return d;
  }
  fail('no libtorch found: install libtorch-dev (bash scripts/setup.sh) or set LIBTORCH=/path/to/libtorch');
}

function versionOf(include) {
  const h = join(include, 'torch', 'csrc', 'api', 'include', 'torch', 'version.h');
  if (!existsSync(h)) fail(`${h} is missing: LIBTORCH_INCLUDE/LIBTORCH does not hold libtorch's headers`);
  const text = readFileSync(h, 'utf8');
  const num = (k) => Number((text.match(new RegExp(`#define TORCH_VERSION_${k} (\\d+)`)) ?? [])[1] ?? 0);
  return { major: num('MAJOR'), minor: num('MINOR'), patch: num('PATCH') };
}

function cxx11Abi(root, lib) {
  if (env.LIBTORCH_CXX11_ABI === '0' || env.LIBTORCH_CXX11_ABI === '1') return env.LIBTORCH_CXX11_ABI;
  const candidates = [join(lib, 'cmake', 'Torch', 'TorchConfig.cmake')];
  if (root) candidates.unshift(join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'));
  for (const f of candidates) {
    const m = existsSync(f) && readFileSync(f, 'utf8').match(/_GLIBCXX_USE_CXX11_ABI=([01])/);
    if (m) return m[1];
  }
  return '1';
}

/** Folders holding cuda_runtime_api.h: the CUDA toolkit, or the nvidia-* wheels beside a pip torch. */
function cudaIncludes(root) {
  const dirs = [];
  for (const base of [env.CUDA_HOME, env.CUDA_PATH, '/usr/local/cuda']) if (base) dirs.push(join(base, 'include'));
  if (root) {
    const nv = join(dirname(root), 'nvidia');
    if (existsSync(nv)) {
      // nvidia/cuda_runtime/include, ... (CUDA 12 wheels) or nvidia/cu13/include (CUDA 13 wheels)
      for (const pkg of readdirSync(nv)) dirs.push(join(nv, pkg, 'include'));
    }
  }
  dirs.push('/usr/include');
  const found = dirs.filter((d, i) => dirs.indexOf(d) === i && existsSync(d));
  return found.some((d) => existsSync(join(d, 'cuda_runtime_api.h'))) ? found.filter((d) => d !== '/usr/include') : null;
}

function locate() {
  const root = rootFolder();
  const include = env.LIBTORCH_INCLUDE || (root ? join(root, 'include') : '/usr/include');
  const lib = env.LIBTORCH_LIB || (root ? join(root, 'lib') : debianLibDir());
  const version = versionOf(include);
  if (!existsSync(join(lib, 'libtorch.so')) && !existsSync(join(lib, 'libtorch_cpu.so')))
    fail(`${lib} holds no libtorch.so: LIBTORCH_LIB/LIBTORCH does not point at libtorch's libraries`);
  const system = !root && !env.LIBTORCH_LIB;
  const cuda = existsSync(join(lib, 'libtorch_cuda.so'));
  const cudaInc = cuda ? cudaIncludes(root) : null;
  const std = env.LIBTORCH_CXX_STD || (version.major > 2 || (version.major === 2 && version.minor >= 12) ? 'c++20' : 'c++17');
  return { root, include, lib, version, system, cuda, cudaInc, abi: cxx11Abi(root, lib), std };
}

const what = process.argv[2];
const l = locate();
const out = [];
if (what === 'include') {
  if (l.include !== '/usr/include') out.push(l.include);
  out.push(join(l.include, 'torch', 'csrc', 'api', 'include'));
  if (l.cudaInc) out.push(...l.cudaInc);
} else if (what === 'libs') {
  if (!l.system) out.push(`-L${l.lib}`, `-Wl,-rpath,${l.lib}`);
  out.push('-Wl,--no-as-needed', '-ltorch', '-ltorch_cpu', '-lc10');
  if (l.cuda) out.push('-ltorch_cuda', '-lc10_cuda');
  out.push('-Wl,--as-needed');
} else if (what === 'defines') {
  out.push(`_GLIBCXX_USE_CXX11_ABI=${l.abi}`);
  if (l.cuda) out.push('LBT_WITH_CUDA=1');
  if (l.cudaInc) out.push('LBT_CUDA_HEADERS=1');
} else if (what === 'cflags') {
  out.push(`-std=${l.std}`);
} else if (what === 'summary') {
  const v = `${l.version.major}.${l.version.minor}.${l.version.patch}`;
  const cuda = l.cuda ? `CUDA (${l.cudaInc ? `CUDA headers in ${l.cudaInc.join(', ') || '/usr/include'}` : 'no CUDA headers found: no device properties'})` : 'CPU only';
  console.log(`libtorch ${v} ${cuda}; include ${l.include}; lib ${l.lib}; C++11 ABI ${l.abi}; -std=${l.std}`);
  process.exit(0);
} else {
  fail(`unknown item '${what}' (include, libs, defines, cflags, summary)`);
}
console.log(out.join(' '));
