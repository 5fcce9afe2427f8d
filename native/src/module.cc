// Addon entry: the handle class, dispose, and the op and runtime tables.
#include "tensor.h"

namespace lbt {

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  // a second dispose of one handle is a no-op (the JS Tensor never sends one)
  if (info.Length() >= 1) Handles(info.Env()).Release(info.Env(), info[0]);
  return info.Env().Undefined();
}

static Napi::Value IsAlive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), info.Length() >= 1 && Handles(info.Env()).IsAlive(info[0]));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallCpuAllocator();
  InitHandles(env);
  exports.Set("dispose", Napi::Function::New(env, Dispose, "dispose"));
  exports.Set("isAlive", Napi::Function::New(env, IsAlive, "isAlive"));
  ExportTable(env, exports, OpTable());
  ExportTable(env, exports, RuntimeTable());
  ExportTable(env, exports, DeviceTable());
  ExportTable(env, exports, ProfileTable());
  return exports;
}

NODE_API_MODULE(lbt_torch, Init)

}  // namespace lbt
