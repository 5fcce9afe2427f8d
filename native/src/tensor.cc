#include "tensor.h"

namespace lbt {

namespace {
constexpr uint64_t kSlotBits = 24;
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
constexpr uint32_t kGenMask = (uint32_t{1} << 28) - 1;
// Every id has bit 52 set (ids lie in [2^52, 2^53), exact doubles), so that small numbers such
// as 0 or 1 are never taken for a handle.
constexpr uint64_t kTag = uint64_t{1} << 52;
// V8 is told the high-water mark of the handles' tensor bytes (in steps of this many), so that
// GC, and with it the backstop, sees native memory grow. Not every rise and fall: a training
// step's activations come and go by hundreds of MB, and each 64 MB rise over the level of the
// last GC starts a full GC in V8 (measured on the default run's step: ~100 mark-compacts, a fifth
// of its time). Growth past the mark, which is what a leak looks like, still reaches V8.
constexpr int64_t kExternalStep = int64_t{4} << 20;
}  // namespace

void InitHandles(Napi::Env env) { env.SetInstanceData<HandleTable>(new HandleTable()); }

HandleTable& Handles(Napi::Env env) { return *env.GetInstanceData<HandleTable>(); }

void HandleTable::Account(Napi::Env env, int64_t delta) {
  bytes_ += delta;
  if (bytes_ >= reported_ + kExternalStep) {
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes_ - reported_);
    reported_ = bytes_;
  }
}

Napi::Value HandleTable::Add(Napi::Env env, const torch::Tensor& t) {
  uint32_t i;
  if (!free_.empty()) {
    i = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() > kSlotMask) throw std::runtime_error("more than 16M live tensors");
    i = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[i];
  s.tensor = t;
  s.alive = true;
  s.bytes = t.defined() ? static_cast<int64_t>(t.numel() * t.element_size()) : 0;
  live++;
  if (s.bytes > 0) Account(env, s.bytes);
  return Napi::Number::New(env, static_cast<double>(kTag | i | (static_cast<uint64_t>(s.gen) << kSlotBits)));
}

int64_t HandleTable::Find(Napi::Value v, Lookup* why) const {
  *why = Lookup::kNotHandle;
  if (!v.IsNumber()) return -1;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d < 9007199254740992.0) || d != static_cast<double>(static_cast<uint64_t>(d))) return -1;
  uint64_t id = static_cast<uint64_t>(d);
  if (id < kTag) return -1;
  id -= kTag;
  uint64_t i = id & kSlotMask;
  if (i >= slots_.size() || (id >> kSlotBits) > kGenMask) return -1;
  const Slot& s = slots_[i];
  if (s.gen != (id >> kSlotBits) || !s.alive) {
    *why = Lookup::kDisposed;
    return -1;
  }
  *why = Lookup::kLive;
  return static_cast<int64_t>(i);
}

const torch::Tensor* HandleTable::Get(Napi::Value v, Lookup* why) const {
  int64_t i = Find(v, why);
  return i < 0 ? nullptr : &slots_[static_cast<size_t>(i)].tensor;
}

bool HandleTable::IsAlive(Napi::Value v) const {
  Lookup why;
  return Find(v, &why) >= 0;
}

bool HandleTable::Release(Napi::Env env, Napi::Value v) {
  Lookup why;
  int64_t i = Find(v, &why);
  if (i < 0) return false;
  Slot& s = slots_[static_cast<size_t>(i)];
  s.tensor = torch::Tensor();
  s.alive = false;
  s.gen = (s.gen + 1) & kGenMask;
  free_.push_back(static_cast<uint32_t>(i));
  live--;
  if (s.bytes > 0) Account(env, -s.bytes);
  return true;
}

void Args::fail(size_t i, const std::string& what) const {
  throw Napi::TypeError::New(env(), std::string(op_) + ": argument " + std::to_string(i) + " " + what);
}

bool Args::isNil(size_t i) const { return i >= info_.Length() || info_[i].IsNull() || info_[i].IsUndefined(); }

static constexpr const char* kDisposed = "is a disposed tensor (used after dispose)";

torch::Tensor Args::tensor(size_t i) const {
  HandleTable::Lookup why = HandleTable::Lookup::kNotHandle;
  const torch::Tensor* t = i < info_.Length() ? Handles(env()).Get(info_[i], &why) : nullptr;
  if (t == nullptr) fail(i, why == HandleTable::Lookup::kDisposed ? kDisposed : "must be a tensor handle");
  return *t;
}

c10::optional<torch::Tensor> Args::optTensor(size_t i) const {
  if (isNil(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<torch::Tensor> Args::tensors(size_t i) const {
  if (i >= info_.Length() || !info_[i].IsArray()) fail(i, "must be an array of tensor handles");
  Napi::Array a = info_[i].As<Napi::Array>();
  const HandleTable& table = Handles(env());
  std::vector<torch::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); k++) {
    HandleTable::Lookup why;
    const torch::Tensor* t = table.Get(a[k], &why);
    if (t == nullptr)
      fail(i, "element " + std::to_string(k) + " " + (why == HandleTable::Lookup::kDisposed ? kDisposed : "is not a tensor handle"));
    out.push_back(*t);
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
  if (s == "bfloat16") return torch::kBFloat16;
  if (s == "float16") return torch::kFloat16;
  fail(i, "is an unknown dtype '" + s + "' (float32, float64, int64, int32, uint8, bool, bfloat16, float16)");
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
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: return c10::toString(t);
  }
}

void ExportTable(Napi::Env env, Napi::Object exports, const std::vector<OpEntry>& table) {
  for (const OpEntry& e : table) {
    const OpEntry* entry = &e;
    exports.Set(e.name, Napi::Function::New(env, [entry](const Napi::CallbackInfo& info) -> Napi::Value {
      try {
        CountCall(entry->name);
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
