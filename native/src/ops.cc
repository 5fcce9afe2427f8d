// The op table: one entry per libtorch call, arguments read positionally.
// Gradients come from libtorch's autograd; the TypeScript side names and checks arguments.
#include "tensor.h"

namespace lbt {

namespace {
using torch::Tensor;
using A = const Args&;

torch::TensorOptions Opts(A a, size_t dtypeIdx, size_t deviceIdx) {
  return torch::TensorOptions().dtype(a.dtype(dtypeIdx)).device(a.device(deviceIdx));
}

c10::optional<at::IntArrayRef> OptDims(A a, size_t i, std::vector<int64_t>& store) {
  if (a.isNil(i)) return c10::nullopt;
  store = a.ints(i);
  return at::IntArrayRef(store);
}

Napi::Value Nothing(A a) { return a.env().Undefined(); }
}  // namespace

const std::vector<OpEntry>& OpTable() {
  static const std::vector<OpEntry> table = {
      // creation: (shape, dtype, device)
      {"zeros", [](A a) { return a.ret(torch::zeros(a.ints(0), Opts(a, 1, 2))); }},
      {"ones", [](A a) { return a.ret(torch::ones(a.ints(0), Opts(a, 1, 2))); }},
      {"full", [](A a) { return a.ret(torch::full(a.ints(0), a.f64(1), Opts(a, 2, 3))); }},
      {"randn", [](A a) { return a.ret(torch::randn(a.ints(0), Opts(a, 1, 2))); }},
      {"rand", [](A a) { return a.ret(torch::rand(a.ints(0), Opts(a, 1, 2))); }},
      {"randint", [](A a) { return a.ret(torch::randint(a.i64(0), a.i64(1), a.ints(2), Opts(a, 3, 4))); }},
      {"randperm", [](A a) { return a.ret(torch::randperm(a.i64(0), Opts(a, 1, 2))); }},
      {"arange", [](A a) { return a.ret(torch::arange(a.f64(0), a.f64(1), a.f64(2), Opts(a, 3, 4))); }},
      {"bernoulli", [](A a) { return a.ret(torch::bernoulli(a.tensor(0))); }},
      {"bernoulliScalar", [](A a) { return a.ret(torch::bernoulli(a.tensor(0), a.f64(1))); }},
      {"zerosLike", [](A a) { return a.ret(torch::zeros_like(a.tensor(0))); }},
      {"onesLike", [](A a) { return a.ret(torch::ones_like(a.tensor(0))); }},
      {"randnLike", [](A a) { return a.ret(torch::randn_like(a.tensor(0))); }},
      // elementwise
      {"add", [](A a) { return a.ret(torch::add(a.tensor(0), a.tensor(1), a.f64(2))); }},
      {"sub", [](A a) { return a.ret(torch::sub(a.tensor(0), a.tensor(1), a.f64(2))); }},
      {"mul", [](A a) { return a.ret(torch::mul(a.tensor(0), a.tensor(1))); }},
      {"div", [](A a) { return a.ret(torch::div(a.tensor(0), a.tensor(1))); }},
      {"addScalar", [](A a) { return a.ret(torch::add(a.tensor(0), a.f64(1))); }},
      {"mulScalar", [](A a) { return a.ret(torch::mul(a.tensor(0), a.f64(1))); }},
      {"divScalar", [](A a) { return a.ret(torch::div(a.tensor(0), a.f64(1))); }},
      {"powScalar", [](A a) { return a.ret(torch::pow(a.tensor(0), a.f64(1))); }},
      {"rsubScalar", [](A a) { return a.ret(torch::rsub(a.tensor(0), a.f64(1))); }},
      {"neg", [](A a) { return a.ret(torch::neg(a.tensor(0))); }},
      {"exp", [](A a) { return a.ret(torch::exp(a.tensor(0))); }},
      {"log", [](A a) { return a.ret(torch::log(a.tensor(0))); }},
      {"sqrt", [](A a) { return a.ret(torch::sqrt(a.tensor(0))); }},
      {"abs", [](A a) { return a.ret(torch::abs(a.tensor(0))); }},
      {"square", [](A a) { return a.ret(torch::square(a.tensor(0))); }},
      {"relu", [](A a) { return a.ret(torch::relu(a.tensor(0))); }},
      {"sigmoid", [](A a) { return a.ret(torch::sigmoid(a.tensor(0))); }},
      {"tanh", [](A a) { return a.ret(torch::tanh(a.tensor(0))); }},
      {"maximum", [](A a) { return a.ret(torch::maximum(a.tensor(0), a.tensor(1))); }},
      {"minimum", [](A a) { return a.ret(torch::minimum(a.tensor(0), a.tensor(1))); }},
      {"clamp", [](A a) {
         c10::optional<c10::Scalar> lo, hi;
         if (!a.isNil(1)) lo = a.f64(1);
         if (!a.isNil(2)) hi = a.f64(2);
         return a.ret(torch::clamp(a.tensor(0), lo, hi));
       }},
      {"where", [](A a) { return a.ret(torch::where(a.tensor(0), a.tensor(1), a.tensor(2))); }},
      {"eq", [](A a) { return a.ret(torch::eq(a.tensor(0), a.tensor(1))); }},
      {"gt", [](A a) { return a.ret(torch::gt(a.tensor(0), a.tensor(1))); }},
      {"lt", [](A a) { return a.ret(torch::lt(a.tensor(0), a.tensor(1))); }},
      {"eqScalar", [](A a) { return a.ret(torch::eq(a.tensor(0), a.f64(1))); }},
      {"gtScalar", [](A a) { return a.ret(torch::gt(a.tensor(0), a.f64(1))); }},
      {"ltScalar", [](A a) { return a.ret(torch::lt(a.tensor(0), a.f64(1))); }},
      {"isfinite", [](A a) { return a.ret(torch::isfinite(a.tensor(0))); }},
      {"matmul", [](A a) { return a.ret(torch::matmul(a.tensor(0), a.tensor(1))); }},
      // reductions: (x, dims|null, keepdim)
      {"sum", [](A a) {
         std::vector<int64_t> d;
         auto dims = OptDims(a, 1, d);
         return a.ret(dims ? torch::sum(a.tensor(0), *dims, a.flag(2)) : torch::sum(a.tensor(0)));
       }},
      {"mean", [](A a) {
         std::vector<int64_t> d;
         auto dims = OptDims(a, 1, d);
         return a.ret(dims ? torch::mean(a.tensor(0), *dims, a.flag(2)) : torch::mean(a.tensor(0)));
       }},
      {"amax", [](A a) { return a.ret(torch::amax(a.tensor(0), a.ints(1), a.flag(2))); }},
      {"amin", [](A a) { return a.ret(torch::amin(a.tensor(0), a.ints(1), a.flag(2))); }},
      {"argmax", [](A a) { return a.ret(torch::argmax(a.tensor(0), a.optI64(1), a.flag(2))); }},
      {"norm", [](A a) {
         std::vector<int64_t> d;
         auto dims = OptDims(a, 2, d);
         c10::optional<c10::Scalar> p = a.f64(1);
         if (!dims) return a.ret(torch::norm(a.tensor(0), a.f64(1)));
         return a.ret(torch::norm(a.tensor(0), p, *dims, a.flag(3)));
       }},
      // shape
      {"reshape", [](A a) { return a.ret(torch::reshape(a.tensor(0), a.ints(1))); }},
      {"permute", [](A a) { return a.ret(a.tensor(0).permute(a.ints(1))); }},
      {"transpose", [](A a) { return a.ret(torch::transpose(a.tensor(0), a.i64(1), a.i64(2))); }},
      {"flatten", [](A a) { return a.ret(torch::flatten(a.tensor(0), a.i64(1), a.i64(2))); }},
      {"unsqueeze", [](A a) { return a.ret(torch::unsqueeze(a.tensor(0), a.i64(1))); }},
      {"squeeze", [](A a) { return a.ret(torch::squeeze(a.tensor(0), a.i64(1))); }},
      {"expand", [](A a) { return a.ret(a.tensor(0).expand(a.ints(1))); }},
      {"cat", [](A a) { return a.ret(torch::cat(a.tensors(0), a.i64(1))); }},
      {"stack", [](A a) { return a.ret(torch::stack(a.tensors(0), a.i64(1))); }},
      {"narrow", [](A a) { return a.ret(torch::narrow(a.tensor(0), a.i64(1), a.i64(2), a.i64(3))); }},
      // views of consecutive pieces along dim; their backward is one cat (narrow's is a zero-filled
      // copy of the whole input per piece, in the contiguous layout whatever the input's)
      {"split", [](A a) {
         std::vector<Tensor> parts = torch::split_with_sizes(a.tensor(0), a.ints(1), a.i64(2));
         Napi::Array arr = Napi::Array::New(a.env(), parts.size());
         for (size_t i = 0; i < parts.size(); i++) arr.Set(static_cast<uint32_t>(i), a.ret(parts[i]));
         return arr;
       }},
      {"slice", [](A a) {
         return a.ret(a.tensor(0).slice(a.i64(1), a.optI64(2), a.optI64(3), a.i64(4)));
       }},
      {"indexSelect", [](A a) { return a.ret(torch::index_select(a.tensor(0), a.i64(1), a.tensor(2))); }},
      {"gather", [](A a) { return a.ret(torch::gather(a.tensor(0), a.i64(1), a.tensor(2))); }},
      {"pad", [](A a) { return a.ret(torch::constant_pad_nd(a.tensor(0), a.ints(1), a.f64(2))); }},
      {"contiguous", [](A a) {
         return a.ret(a.tensor(0).contiguous(a.flag(1) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous));
       }},
      {"clone", [](A a) { return a.ret(a.tensor(0).clone()); }},
      {"detach", [](A a) { return a.ret(a.tensor(0).detach()); }},
      // narrow over the same storage with its own autograd version counter (variable_data): for
      // buffers that are slices of one tensor (BN statistics), so that an in-place update of one
      // slice is not taken for a change of the others' values saved for backward.
      {"narrowAlias", [](A a) { return a.ret(a.tensor(0).variable_data().narrow(a.i64(1), a.i64(2), a.i64(3))); }},
      {"to", [](A a) {
         Tensor t = a.tensor(0);
         torch::TensorOptions o = t.options();
         if (!a.isNil(1)) o = o.dtype(a.dtype(1));
         if (!a.isNil(2)) o = o.device(a.device(2));
         return a.ret(t.to(o, false, a.flag(3)));
       }},
      // nn
      {"conv2d", [](A a) {
         return a.ret(torch::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.i64(6)));
       }},
      {"batchNorm", [](A a) {
         return a.ret(torch::batch_norm(a.tensor(0), a.optTensor(1), a.optTensor(2), a.optTensor(3), a.optTensor(4),
                                        a.flag(5), a.f64(6), a.f64(7), true));
       }},
      {"maxPool2d", [](A a) {
         return a.ret(torch::max_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.flag(5)));
       }},
      {"avgPool2d", [](A a) {
         return a.ret(torch::avg_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.flag(4), a.flag(5)));
       }},
      {"adaptiveAvgPool2d", [](A a) { return a.ret(torch::adaptive_avg_pool2d(a.tensor(0), a.ints(1))); }},
      {"linear", [](A a) { return a.ret(torch::linear(a.tensor(0), a.tensor(1), a.optTensor(2))); }},
      {"softmax", [](A a) { return a.ret(torch::softmax(a.tensor(0), a.i64(1))); }},
      {"logSoftmax", [](A a) { return a.ret(torch::log_softmax(a.tensor(0), a.i64(1))); }},
      {"crossEntropy", [](A a) {
         // (logits, target int64 [N] or probabilities [N,K], reduction 0 none|1 mean|2 sum, labelSmoothing)
         return a.ret(at::cross_entropy_loss(a.tensor(0), a.tensor(1), {}, a.i64(2), -100, a.f64(3)));
       }},
      {"dropout", [](A a) { return a.ret(torch::dropout(a.tensor(0), a.f64(1), a.flag(2))); }},
      // in place, for optimizers and buffers (callers hold no-grad)
      {"add_", [](A a) { a.tensor(0).add_(a.tensor(1), a.f64(2)); return Nothing(a); }},
      {"mul_", [](A a) { a.tensor(0).mul_(a.f64(1)); return Nothing(a); }},
      {"mulTensor_", [](A a) { a.tensor(0).mul_(a.tensor(1)); return Nothing(a); }},
      {"addcmul_", [](A a) { a.tensor(0).addcmul_(a.tensor(1), a.tensor(2), a.f64(3)); return Nothing(a); }},
      {"addcdiv_", [](A a) { a.tensor(0).addcdiv_(a.tensor(1), a.tensor(2), a.f64(3)); return Nothing(a); }},
      {"copy_", [](A a) { a.tensor(0).copy_(a.tensor(1)); return Nothing(a); }},
      {"zero_", [](A a) { a.tensor(0).zero_(); return Nothing(a); }},
      {"fill_", [](A a) { a.tensor(0).fill_(a.f64(1)); return Nothing(a); }},
      {"uniform_", [](A a) { a.tensor(0).uniform_(a.f64(1), a.f64(2)); return Nothing(a); }},
      {"normal_", [](A a) { a.tensor(0).normal_(a.f64(1), a.f64(2)); return Nothing(a); }},
  };
  return table;
}

}  // namespace lbt
