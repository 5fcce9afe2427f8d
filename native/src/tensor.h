// The native tensor handle and the argument conversions every op entry uses.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace lbt {

// A JS object owning one torch::Tensor. Freed by dispose() or, as a backstop, by GC.
class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Init(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, torch::Tensor t);
  static int64_t live;
  explicit TensorHandle(const Napi::CallbackInfo& info);
  ~TensorHandle() override;
  void Release(Napi::Env env);
  torch::Tensor tensor;
  bool alive = false;
  int64_t bytes = 0;
};

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
  Napi::Value ret(const torch::Tensor& t) const { return TensorHandle::Wrap(env(), t); }
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

void InstallCpuAllocator();
size_t EmptyCpuCache();
size_t CachedCpuBytes();

}  // namespace lbt
