// Op counting for the step profile (bench/profile.ts): off by default and free when off.
//   calls:   JS → native op calls, per op-table entry (counted in ExportTable's wrapper).
//   top:     libtorch operators entered from the addon (depth 1: the forward ops and each
//            autograd node of a backward pass), count and inclusive time per name: wall time,
//            or the thread's CPU time (profileStart(true); with one intra-op thread, the time
//            an op computed, whatever else the machine runs).
//   kernels: operators that do work and call no other operator that does (views, allocations
//            and metadata are not work; filling an output, zero_ or fill_, does not hide the
//            operator's own kernel). On a GPU each is roughly one kernel launch.
// Only the thread that started profiling is recorded (OpenMP workers run inside an operator).
#include <ATen/record_function.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <unordered_map>

#include "tensor.h"

namespace lbt {

namespace {
using Clock = std::chrono::steady_clock;

struct Top {
  uint64_t count = 0;
  double ns = 0;
};

struct State {
  std::unordered_map<const char*, uint64_t> calls;  // keys: the op table's static names
  std::map<std::string, Top> top;
  std::map<std::string, uint64_t> kernels;
  std::thread::id thread;
  at::CallbackHandle handle = at::INVALID_CALLBACK_HANDLE;
};

std::atomic<bool> g_on{false};
State g_state;

// Per recorded thread: the operator stack (start time, and whether work was done below).
struct Frame {
  double start;  // ns
  bool workBelow = false;
};

bool g_cpuTime = false;

double NowNs() {
  if (g_cpuTime) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double, std::nano>(Clock::now().time_since_epoch()).count();
}
thread_local std::vector<Frame> t_stack;

bool NoKernel(const char* name) {
  static const char* const kViews[] = {
      "aten::view", "aten::as_strided", "aten::slice", "aten::select", "aten::transpose", "aten::permute",
      "aten::expand", "aten::unsqueeze", "aten::squeeze", "aten::detach", "aten::alias", "aten::_reshape_alias",
      "aten::t", "aten::unfold", "aten::empty", "aten::empty_like", "aten::empty_strided", "aten::resize_",
      "aten::set_", "aten::lift", "aten::lift_fresh", "aten::_unsafe_view", "aten::split", "aten::split_with_sizes", "aten::chunk",
      "aten::unbind", "aten::narrow", "aten::reshape", "aten::flatten", "aten::contiguous", "aten::is_nonzero",
      "aten::item", "aten::_local_scalar_dense", "aten::result_type", "aten::size", "aten::stride",
      "aten::to", "aten::view_as", "aten::expand_as", "aten::numpy_T", "aten::as_strided_", "detach",
      "aten::detach_", "aten::zeros_like", "aten::ones_like", "aten::new_empty", "aten::new_empty_strided",
      "aten::clone", "aten::_has_compatible_shallow_copy_type", "aten::requires_grad_",
      // creations whose one kernel is the zero_/fill_ below them
      "aten::zeros", "aten::ones", "aten::full", "aten::new_zeros", "aten::new_ones", "aten::new_full",
      "aten::full_like"};
  for (const char* v : kViews)
    if (std::strcmp(name, v) == 0) return true;
  return false;
}

std::unique_ptr<at::ObserverContext> OnStart(const at::RecordFunction& fn) {
  if (std::this_thread::get_id() != g_state.thread) return nullptr;
  t_stack.push_back({NowNs(), false});
  return nullptr;
}

void OnEnd(const at::RecordFunction& fn, at::ObserverContext*) {
  if (std::this_thread::get_id() != g_state.thread || t_stack.empty()) return;
  Frame f = t_stack.back();
  t_stack.pop_back();
  const char* name = fn.name();
  bool work = f.workBelow;
  if (!work && !NoKernel(name)) {
    g_state.kernels[name]++;
    work = true;
  }
  bool fill = std::strcmp(name, "aten::zero_") == 0 || std::strcmp(name, "aten::fill_") == 0;
  if (!t_stack.empty()) {
    if (work && !fill) t_stack.back().workBelow = true;
  } else {
    Top& t = g_state.top[name];
    t.count++;
    t.ns += NowNs() - f.start;
  }
}

Napi::Value Start(const Args& a) {
  if (g_on) throw std::runtime_error("profiling is already on");
  g_state.calls.clear();
  g_state.top.clear();
  g_state.kernels.clear();
  g_state.thread = std::this_thread::get_id();
  g_cpuTime = a.size() > 0 && !a.isNil(0) && a.flag(0);
  t_stack.clear();
  g_state.handle = at::addGlobalCallback(at::RecordFunctionCallback(OnStart, OnEnd)
                                             .needsInputs(false)
                                             .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
  g_on = true;
  return a.env().Undefined();
}

Napi::Value Stop(const Args& a) {
  if (!g_on) throw std::runtime_error("profiling is not on");
  g_on = false;
  at::removeCallback(g_state.handle);
  g_state.handle = at::INVALID_CALLBACK_HANDLE;
  Napi::Env env = a.env();
  Napi::Object calls = Napi::Object::New(env);
  for (const auto& [name, n] : g_state.calls) calls.Set(name, static_cast<double>(n));
  Napi::Object top = Napi::Object::New(env);
  for (const auto& [name, t] : g_state.top) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, static_cast<double>(t.count));
    pair.Set(1u, t.ns / 1e6);
    top.Set(name, pair);
  }
  Napi::Object kernels = Napi::Object::New(env);
  for (const auto& [name, n] : g_state.kernels) kernels.Set(name, static_cast<double>(n));
  Napi::Object out = Napi::Object::New(env);
  out.Set("calls", calls);
  out.Set("top", top);
  out.Set("kernels", kernels);
  return out;
}
}  // namespace

void CountCall(const char* name) {
  if (g_on) g_state.calls[name]++;
}

const std::vector<OpEntry>& ProfileTable() {
  static const std::vector<OpEntry> table = {
      {"profileStart", Start},
      {"profileStop", Stop},
      {"peakBytes", [](const Args& a) { return Napi::Number::New(a.env(), static_cast<double>(PeakCpuBytes(a.flag(0)))); }},
  };
  return table;
}

}  // namespace lbt
