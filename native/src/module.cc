// Addon entry: the handle class, dispose, and the op and runtime tables.
#include "tensor.h"

namespace lbt {

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "dispose: expected a tensor handle");
  TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(info[0].As<Napi::Object>());
  h->Release(info.Env());
  return info.Env().Undefined();
}

static Napi::Value IsAlive(const Napi::CallbackInfo& info) {
  TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(info[0].As<Napi::Object>());
  return Napi::Boolean::New(info.Env(), h->alive);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallCpuAllocator();
  exports.Set("TensorHandle", TensorHandle::Init(env));
  exports.Set("dispose", Napi::Function::New(env, Dispose, "dispose"));
  exports.Set("isAlive", Napi::Function::New(env, IsAlive, "isAlive"));
  ExportTable(env, exports, OpTable());
  ExportTable(env, exports, RuntimeTable());
  return exports;
}

NODE_API_MODULE(lbt_torch, Init)

}  // namespace lbt
