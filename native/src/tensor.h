// The native tensor handle and the argument conversions every op entry uses.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace lbt {

// Tensor handles are numbers, 2^52 + (slot | generation << 24), into a per-env table of torch::Tensors.
// Creating one is a table write (no JS object, no N-API reference or finalizer, which were
// half the cost of a small op); the JS Tensor owns it and releases it by dispose() or, as a
// backstop, from a FinalizationRegistry. The generation makes a released id invalid forever.
class HandleTable {
 public:
  Napi::Value Add(Napi::Env env, const torch::Tensor& t);
  enum class Lookup { kLive, kNotHandle, kDisposed };
  // The tensor a live id names, or nullptr with `why` saying what the value is instead.
  const torch::Tensor* Get(Napi::Value v, Lookup* why) const;
  // Frees the slot; false when the id is not a live handle.
  bool Release(Napi::Env env, Napi::Value v);
  bool IsAlive(Napi::Value v) const;
  int64_t live = 0;
  // Reads of tensor values into JS (item, toBuffer): each one waits for the device on a GPU.
  int64_t hostReads = 0;

 private:
  struct Slot {
    torch::Tensor tensor;
    uint32_t gen = 0;
    bool alive = false;
    int64_t bytes = 0;
  };
  int64_t Find(Napi::Value v, Lookup* why) const;
  void Account(Napi::Env env, int64_t delta);
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  int64_t bytes_ = 0;     // tensor bytes the live handles hold
  int64_t reported_ = 0;  // the most of them told to V8 (see Account)
};

// This env's handle table (created by the addon's Init).
HandleTable& Handles(Napi::Env env);
void InitHandles(Napi::Env env);

// Argument reader: each accessor names the op and argument position in its error.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op) : info_(info), op_(op) {}
  Napi::Env env() const { return info_.Env(); }
  size_t size() const { return info_.Length(); }
  bool isNil(size_t i) const;
  Napi::Value value(size_t i) const { return info_[i]; }
  torch::Tensor tensor(size_t i) const;
  c10::optional<torch::Tensor> optTensor(size_t i) const;
  std::vector<torch::Tensor> tensors(size_t i) const;
  int64_t i64(size_t i) const;
  c10::optional<int64_t> optI64(size_t i) const;
  double f64(size_t i) const;
  c10::optional<double> optF64(size_t i) const;
  bool flag(size_t i) const;
  std::vector<int64_t> ints(size_t i) const;
  std::string str(size_t i) const;
  torch::Dtype dtype(size_t i) const;
  torch::Device device(size_t i) const;
  Napi::Value ret(const torch::Tensor& t) const { return Handles(env()).Add(env(), t); }
  [[noreturn]] void fail(size_t i, const std::string& what) const;

 private:
  const Napi::CallbackInfo& info_;
  const char* op_;
};

using OpFn = std::function<Napi::Value(const Args&)>;
struct OpEntry {
  const char* name;
  OpFn fn;
};

// Exports every entry as a function that turns C++ exceptions into JS errors.
void ExportTable(Napi::Env env, Napi::Object exports, const std::vector<OpEntry>& table);
std::string DtypeName(torch::ScalarType t);

const std::vector<OpEntry>& OpTable();
const std::vector<OpEntry>& RuntimeTable();
const std::vector<OpEntry>& DeviceTable();
const std::vector<OpEntry>& ProfileTable();
// Counts one call of a table entry while profiling is on (profile.cc).
void CountCall(const char* name);

void InstallCpuAllocator();
size_t EmptyCpuCache();
size_t CachedCpuBytes();
// Peak tensor-storage bytes in use since the last reset (caching allocator only; 0 without it).
size_t PeakCpuBytes(bool reset);

}  // namespace lbt
