// Tensor metadata, data transfer, autograd, and process-wide settings.
#include <malloc.h>

#include "tensor.h"

#include <torch/cuda.h>

namespace lbt {

namespace {
using torch::Tensor;
using A = const Args&;

Napi::Value Nothing(A a) { return a.env().Undefined(); }

Napi::Value Shape(A a) {
  Tensor t = a.tensor(0);
  Napi::Array out = Napi::Array::New(a.env(), t.dim());
  for (int64_t i = 0; i < t.dim(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(a.env(), t.size(i)));
  return out;
}

// (TypedArray, shape, dtype) -> a tensor owning a copy of the bytes.
Napi::Value FromBuffer(A a) {
  if (a.size() < 1 || !a.value(0).IsTypedArray()) a.fail(0, "must be a typed array");
  Napi::TypedArray ta = a.value(0).As<Napi::TypedArray>();
  std::vector<int64_t> shape = a.ints(1);
  torch::Dtype dt = a.dtype(2);
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) a.fail(1, "has a negative size");
    n *= s;
  }
  size_t bytes = static_cast<size_t>(n) * c10::elementSize(dt);
  if (ta.ByteLength() != bytes) {
    a.fail(0, "holds " + std::to_string(ta.ByteLength()) + " bytes but shape and dtype need " + std::to_string(bytes));
  }
  Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dt));
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (bytes > 0) std::memcpy(t.data_ptr(), src, bytes);
  return a.ret(t);
}

Napi::Value ToBuffer(A a) {
  Handles(a.env()).hostReads++;
  Tensor t = a.tensor(0).detach().to(torch::kCPU).contiguous();
  size_t n = static_cast<size_t>(t.numel()) * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(a.env(), n);
  if (n > 0) std::memcpy(buf.Data(), t.data_ptr(), n);
  return buf;
}

Napi::Value Grad(A a, bool create) {
  std::vector<Tensor> outs = a.tensors(0);
  std::vector<Tensor> ins = a.tensors(1);
  std::vector<Tensor> gouts;
  if (!a.isNil(2)) gouts = a.tensors(2);
  bool retain = a.flag(3);
  bool allowUnused = a.flag(5);
  std::vector<Tensor> gs = torch::autograd::grad(outs, ins, gouts, retain, create, allowUnused);
  Napi::Array arr = Napi::Array::New(a.env(), gs.size());
  for (size_t i = 0; i < gs.size(); i++) {
    arr.Set(static_cast<uint32_t>(i), gs[i].defined() ? a.ret(gs[i]) : a.env().Null());
  }
  return arr;
}

void TuneMalloc() {
  // Tensor storage has its own allocator (allocator.cc). For the rest (autograd nodes, oneDNN
  // scratch), keep glibc's mmap threshold fixed so that large blocks are not pulled into the heap.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
}
}  // namespace

const std::vector<OpEntry>& RuntimeTable() {
  static const std::vector<OpEntry> table = {
      {"shape", Shape},
      {"dtype", [](A a) { return Napi::String::New(a.env(), DtypeName(a.tensor(0).scalar_type())); }},
      {"device", [](A a) { return Napi::String::New(a.env(), a.tensor(0).device().str()); }},
      {"numel", [](A a) { return Napi::Number::New(a.env(), static_cast<double>(a.tensor(0).numel())); }},
      {"item", [](A a) {
         Handles(a.env()).hostReads++;
         return Napi::Number::New(a.env(), a.tensor(0).item<double>());
       }},
      {"isChannelsLast", [](A a) {
         return Napi::Boolean::New(a.env(), a.tensor(0).is_contiguous(at::MemoryFormat::ChannelsLast));
       }},
      {"fromBuffer", FromBuffer},
      {"toBuffer", ToBuffer},
      {"requiresGrad", [](A a) { return Napi::Boolean::New(a.env(), a.tensor(0).requires_grad()); }},
      {"setRequiresGrad", [](A a) { a.tensor(0).requires_grad_(a.flag(1)); return Nothing(a); }},
      {"isLeaf", [](A a) { return Napi::Boolean::New(a.env(), a.tensor(0).is_leaf()); }},
      {"grad", [](A a) {
         Tensor g = a.tensor(0).grad();
         return g.defined() ? a.ret(g) : a.env().Null();
       }},
      {"setGrad", [](A a) {
         Tensor t = a.tensor(0);
         t.mutable_grad() = a.isNil(1) ? Tensor() : a.tensor(1);
         return Nothing(a);
       }},
      {"backward", [](A a) {
         Tensor t = a.tensor(0);
         c10::optional<Tensor> g = a.optTensor(1);
         t.backward(g ? *g : Tensor(), a.flag(2), a.flag(3));
         return Nothing(a);
       }},
      {"autogradGrad", [](A a) { return Grad(a, a.flag(4)); }},
      {"setGradEnabled", [](A a) {
         bool prev = torch::autograd::GradMode::is_enabled();
         torch::autograd::GradMode::set_enabled(a.flag(0));
         return Napi::Boolean::New(a.env(), prev);
       }},
      {"isGradEnabled", [](A a) { return Napi::Boolean::New(a.env(), torch::autograd::GradMode::is_enabled()); }},
      {"liveCount", [](A a) { return Napi::Number::New(a.env(), static_cast<double>(Handles(a.env()).live)); }},
      {"manualSeed", [](A a) { torch::manual_seed(static_cast<uint64_t>(a.i64(0))); return Nothing(a); }},
      {"getRngState", [](A a) {
         auto gen = at::detail::getDefaultCPUGenerator();
         std::lock_guard<std::mutex> lock(gen.mutex());
         return a.ret(gen.get_state());
       }},
      {"setRngState", [](A a) {
         auto gen = at::detail::getDefaultCPUGenerator();
         std::lock_guard<std::mutex> lock(gen.mutex());
         gen.set_state(a.tensor(0));
         return Nothing(a);
       }},
      {"setNumThreads", [](A a) { at::set_num_threads(static_cast<int>(a.i64(0))); return Nothing(a); }},
      {"getNumThreads", [](A a) { return Napi::Number::New(a.env(), at::get_num_threads()); }},
      {"tuneMalloc", [](A a) { TuneMalloc(); return Nothing(a); }},
      {"emptyCache", [](A a) { return Napi::Number::New(a.env(), static_cast<double>(EmptyCpuCache())); }},
      {"cachedBytes", [](A a) { return Napi::Number::New(a.env(), static_cast<double>(CachedCpuBytes())); }},
      {"buildInfo", [](A a) {
         Napi::Object o = Napi::Object::New(a.env());
         o.Set("version", TORCH_VERSION);
         o.Set("config", torch::show_config());
         o.Set("parallel", at::get_parallel_info());
         o.Set("mkldnn", at::hasMKLDNN());
         o.Set("cudaCompiled", Napi::Boolean::New(a.env(),
#ifdef LBT_WITH_CUDA
                                                  true
#else
                                                  false
#endif
                                                  ));
         o.Set("cudaAvailable", torch::cuda::is_available());
         o.Set("cudaDeviceCount", static_cast<double>(torch::cuda::device_count()));
         o.Set("cudnnAvailable", torch::cuda::cudnn_is_available());
         o.Set("cudaHeaders", Napi::Boolean::New(a.env(),
#ifdef LBT_CUDA_HEADERS
                                                 true
#else
                                                 false
#endif
                                                 ));
         return o;
       }},
  };
  return table;
}

}  // namespace lbt
