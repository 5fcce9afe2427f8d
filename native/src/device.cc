// Devices and the engine switches GPU users expect: CUDA devices and their memory, CUDA RNG
// state, TF32, cuDNN benchmark/deterministic, deterministic algorithms, autocast, host reads.
// Everything here builds against a CPU-only libtorch too (1.13 and 2.x); CUDA-only parts
// answer "no CUDA" there. LBT_WITH_CUDA: libtorch_cuda is linked; LBT_CUDA_HEADERS: the CUDA
// runtime headers were found at build time (device properties and allocator statistics).
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "tensor.h"

#if defined(LBT_WITH_CUDA) && defined(LBT_CUDA_HEADERS)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

// at::autocast's per-device calls replaced the CUDA/CPU-specific ones in libtorch 2.4.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LBT_AUTOCAST_BY_DEVICE 1
#endif

namespace lbt {

namespace {
using A = const Args&;

Napi::Value Nothing(A a) { return a.env().Undefined(); }

int64_t CudaCount() { return torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0; }

// A CUDA device index from argument i, checked against the devices libtorch sees.
c10::DeviceIndex CudaIndex(A a, size_t i) {
  int64_t n = CudaCount();
  int64_t d = a.i64(i);
  if (n == 0) a.fail(i, "names a CUDA device, but libtorch sees none");
  if (d < 0 || d >= n) a.fail(i, "is CUDA device " + std::to_string(d) + ", but there are " + std::to_string(n));
  return static_cast<c10::DeviceIndex>(d);
}

Napi::Value Devices(A a) {
  int64_t n = CudaCount();
  Napi::Array out = Napi::Array::New(a.env(), static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) {
    Napi::Object o = Napi::Object::New(a.env());
    o.Set("index", static_cast<double>(i));
#if defined(LBT_WITH_CUDA) && defined(LBT_CUDA_HEADERS)
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(i));
    o.Set("name", std::string(p->name));
    o.Set("totalMemory", static_cast<double>(p->totalGlobalMem));
    o.Set("capability", std::to_string(p->major) + "." + std::to_string(p->minor));
    o.Set("multiProcessors", p->multiProcessorCount);
#else
    o.Set("name", "unknown (the addon was built without the CUDA runtime headers)");
#endif
    out.Set(static_cast<uint32_t>(i), o);
  }
  return out;
}

// Allocator statistics of one device: bytes allocated and reserved, now and at peak.
Napi::Value Memory(A a) {
  c10::DeviceIndex d = CudaIndex(a, 0);
  Napi::Object o = Napi::Object::New(a.env());
#if defined(LBT_WITH_CUDA) && defined(LBT_CUDA_HEADERS)
  namespace alloc = c10::cuda::CUDACachingAllocator;
  auto stats = alloc::getDeviceStats(d);
  // StatType::AGGREGATE, the first entry (the enum's namespace moved between 1.13 and 2.x)
  constexpr size_t kAll = 0;
  o.Set("allocated", static_cast<double>(stats.allocated_bytes[kAll].current));
  o.Set("peakAllocated", static_cast<double>(stats.allocated_bytes[kAll].peak));
  o.Set("reserved", static_cast<double>(stats.reserved_bytes[kAll].current));
  o.Set("peakReserved", static_cast<double>(stats.reserved_bytes[kAll].peak));
  if (a.size() > 1 && a.flag(1)) alloc::resetPeakStats(d);
#else
  (void)d;
  throw std::runtime_error("CUDA memory statistics need an addon built with the CUDA runtime headers");
#endif
  return o;
}

at::Generator CudaGenerator(A a, size_t i) {
  return at::globalContext().defaultGenerator(c10::Device(c10::DeviceType::CUDA, CudaIndex(a, i)));
}

// Process-wide switches: name, getter, setter. Each set returns the previous value.
struct Flag {
  const char* name;
  bool (*get)();
  void (*set)(bool);
};
const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = {
      {"tf32Matmul", [] { return at::globalContext().allowTF32CuBLAS(); },
       [](bool v) { at::globalContext().setAllowTF32CuBLAS(v); }},
      {"tf32Cudnn", [] { return at::globalContext().allowTF32CuDNN(); },
       [](bool v) { at::globalContext().setAllowTF32CuDNN(v); }},
      {"cudnnBenchmark", [] { return at::globalContext().benchmarkCuDNN(); },
       [](bool v) { at::globalContext().setBenchmarkCuDNN(v); }},
      {"cudnnDeterministic", [] { return at::globalContext().deterministicCuDNN(); },
       [](bool v) { at::globalContext().setDeterministicCuDNN(v); }},
      {"deterministic", [] { return at::globalContext().deterministicAlgorithms(); },
       [](bool v) { at::globalContext().setDeterministicAlgorithms(v, false); }},
  };
  return flags;
}
const Flag& FindFlag(A a, size_t i) {
  std::string name = a.str(i);
  std::string known;
  for (const Flag& f : Flags()) {
    if (name == f.name) return f;
    known += (known.empty() ? "" : ", ") + std::string(f.name);
  }
  a.fail(i, "is an unknown engine flag '" + name + "' (" + known + ")");
}

c10::DeviceType AutocastDevice(A a, size_t i) {
  std::string d = a.str(i);
  if (d == "cpu") return c10::DeviceType::CPU;
  if (d == "cuda") return c10::DeviceType::CUDA;
  a.fail(i, "is an autocast device '" + d + "' (cpu, cuda)");
}

bool AutocastEnabled(c10::DeviceType d) {
#ifdef LBT_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(d);
#else
  return d == c10::DeviceType::CPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

// (device, enabled, dtype): turns autocast on or off for one device type; returns the previous
// state. Turning it off clears the cache of casted weights, as leaving torch.autocast does.
Napi::Value SetAutocast(A a) {
  c10::DeviceType d = AutocastDevice(a, 0);
  bool on = a.flag(1);
  torch::Dtype dt = a.isNil(2) ? torch::kBFloat16 : a.dtype(2);
  if (dt != torch::kBFloat16 && dt != torch::kFloat16) a.fail(2, "must be bfloat16 or float16");
  bool prev = AutocastEnabled(d);
#ifdef LBT_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_dtype(d, dt);
  at::autocast::set_autocast_enabled(d, on);
#else
  if (d == c10::DeviceType::CPU) {
    at::autocast::set_autocast_cpu_dtype(dt);
    at::autocast::set_cpu_enabled(on);
  } else {
    at::autocast::set_autocast_gpu_dtype(dt);
    at::autocast::set_enabled(on);
  }
#endif
  if (!on) at::autocast::clear_cache();
  return Napi::Boolean::New(a.env(), prev);
}
}  // namespace

const std::vector<OpEntry>& DeviceTable() {
  static const std::vector<OpEntry> table = {
      {"cudaDevices", Devices},
      {"cudaMemory", Memory},
      {"cudaSynchronize", [](A a) {
         if (CudaCount() > 0) torch::cuda::synchronize();
         return Nothing(a);
       }},
      {"getCudaRngState", [](A a) {
         at::Generator gen = CudaGenerator(a, 0);
         std::lock_guard<std::mutex> lock(gen.mutex());
         return a.ret(gen.get_state());
       }},
      {"setCudaRngState", [](A a) {
         at::Generator gen = CudaGenerator(a, 0);
         std::lock_guard<std::mutex> lock(gen.mutex());
         gen.set_state(a.tensor(1));
         return Nothing(a);
       }},
      {"getFlag", [](A a) { return Napi::Boolean::New(a.env(), FindFlag(a, 0).get()); }},
      {"setFlag", [](A a) {
         const Flag& f = FindFlag(a, 0);
         bool prev = f.get();
         f.set(a.flag(1));
         return Napi::Boolean::New(a.env(), prev);
       }},
      {"setAutocast", SetAutocast},
      {"isAutocast", [](A a) { return Napi::Boolean::New(a.env(), AutocastEnabled(AutocastDevice(a, 0))); }},
      {"hostReads", [](A a) { return Napi::Number::New(a.env(), static_cast<double>(Handles(a.env()).hostReads)); }},
  };
  return table;
}

}  // namespace lbt
