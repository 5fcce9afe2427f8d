#include "tensor.h"

namespace lbt {

int64_t TensorHandle::live = 0;
static thread_local torch::Tensor* pending = nullptr;
static Napi::FunctionReference* constructor = nullptr;

Napi::Function TensorHandle::Init(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "TensorHandle", {});
  constructor = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  if (pending == nullptr) {
    throw Napi::TypeError::New(info.Env(), "TensorHandle cannot be constructed from JavaScript");
  }
  tensor = *pending;
  alive = true;
  bytes = tensor.defined() ? static_cast<int64_t>(tensor.numel() * tensor.element_size()) : 0;
  live++;
  if (bytes > 0) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), bytes);
}

TensorHandle::~TensorHandle() {
  if (alive) {
    // Finalizer path (backstop): the env may be tearing down, so no external-memory call.
    tensor = torch::Tensor();
    alive = false;
    live--;
  }
}

void TensorHandle::Release(Napi::Env env) {
  if (!alive) return;
  tensor = torch::Tensor();
  alive = false;
  live--;
  if (bytes > 0) Napi::MemoryManagement::AdjustExternalMemory(env, -bytes);
}

Napi::Object TensorHandle::Wrap(Napi::Env env, torch::Tensor t) {
  pending = &t;
  Napi::Object obj;
  try {
    obj = constructor->New({});
  } catch (...) {
    pending = nullptr;
    throw;
  }
  pending = nullptr;
  return obj;
}

void Args::fail(size_t i, const std::string& what) const {
  throw Napi::TypeError::New(env(), std::string(op_) + ": argument " + std::to_string(i) + " " + what);
}

bool Args::isNil(size_t i) const { return i >= info_.Length() || info_[i].IsNull() || info_[i].IsUndefined(); }

torch::Tensor Args::tensor(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsObject()) fail(i, "must be a tensor handle");
  Napi::Object o = info_[i].As<Napi::Object>();
  if (!o.InstanceOf(constructor->Value())) fail(i, "must be a tensor handle");
  TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(o);
  if (!h->alive) fail(i, "is a disposed tensor (used after dispose)");
  return h->tensor;
}

c10::optional<torch::Tensor> Args::optTensor(size_t i) const {
  if (isNil(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<torch::Tensor> Args::tensors(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "must be an array of tensor handles");
  Napi::Array a = info_[i].As<Napi::Array>();
  std::vector<torch::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a[k];
    if (!v.IsObject() || !v.As<Napi::Object>().InstanceOf(constructor->Value())) {
      fail(i, "element " + std::to_string(k) + " is not a tensor handle");
    }
    TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(v.As<Napi::Object>());
    if (!h->alive) fail(i, "element " + std::to_string(k) + " is a disposed tensor (used after dispose)");
    out.push_back(h->tensor);
  }
  return out;
}

int64_t Args::i64(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) fail(i, "must be an integer");
  double d = info_[i].As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) fail(i, "must be an integer, got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

c10::optional<int64_t> Args::optI64(size_t i) const {
  if (isNil(i)) return c10::nullopt;
  return i64(i);
}

double Args::f64(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsNumber()) fail(i, "must be a number");
  return info_[i].As<Napi::Number>().DoubleValue();
}

c10::optional<double> Args::optF64(size_t i) const {
  if (isNil(i)) return c10::nullopt;
  return f64(i);
}

bool Args::flag(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsBoolean()) fail(i, "must be a boolean");
  return info_[i].As<Napi::Boolean>().Value();
}

std::vector<int64_t> Args::ints(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "must be an array of integers");
  Napi::Array a = info_[i].As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < a.Length(); k++) {
    Napi::Value v = a[k];
    if (!v.IsNumber()) fail(i, "element " + std::to_string(k) + " is not a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d != static_cast<double>(static_cast<int64_t>(d))) fail(i, "element " + std::to_string(k) + " is not an integer");
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

std::string Args::str(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsString()) fail(i, "must be a string");
  return info_[i].As<Napi::String>().Utf8Value();
}

torch::Dtype Args::dtype(size_t i) const {
  std::string s = str(i);
  if (s == "float32") return torch::kFloat32;
  if (s == "float64") return torch::kFloat64;
  if (s == "int64") return torch::kInt64;
  if (s == "int32") return torch::kInt32;
  if (s == "uint8") return torch::kUInt8;
  if (s == "bool") return torch::kBool;
  fail(i, "is an unknown dtype '" + s + "' (float32, float64, int64, int32, uint8, bool)");
}

torch::Device Args::device(size_t i) const { return torch::Device(str(i)); }

std::string DtypeName(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return "float32";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

void ExportTable(Napi::Env env, Napi::Object exports, const std::vector<OpEntry>& table) {
  for (const OpEntry& e : table) {
    const OpEntry* entry = &e;
    exports.Set(e.name, Napi::Function::New(env, [entry](const Napi::CallbackInfo& info) -> Napi::Value {
      try {
        Args args(info, entry->name);
        return entry->fn(args);
      } catch (const Napi::Error&) {
        throw;
      } catch (const c10::Error& err) {
        throw Napi::Error::New(info.Env(), std::string(entry->name) + ": " + err.what_without_backtrace());
      } catch (const std::exception& err) {
        throw Napi::Error::New(info.Env(), std::string(entry->name) + ": " + err.what());
      } catch (...) {
        throw Napi::Error::New(info.Env(), std::string(entry->name) + ": unknown native error");
      }
    }, e.name));
  }
}

}  // namespace lbt
