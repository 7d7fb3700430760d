#include "eltwise.h"

#include <cstring>

#include "common.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kForward = "activationForward";
constexpr const char* kBackward = "activationBackward";

// alpha is the 4th argument of the forward call and the 5th of the backward one.
Activation ReadActivation(const Napi::CallbackInfo& info, const char* kernel, size_t alpha_index) {
  Napi::Value kind = info[0];
  if (!kind.IsString()) Fail(info.Env(), kernel, "expected 'relu' | 'elu' | 'sigmoid' | 'tanh' for kind");
  return ActivationNamed(info.Env(), kernel, kind.As<Napi::String>().Utf8Value(),
                         ArgNumber(info, alpha_index, kernel, "alpha"), "kind", "alpha");
}

struct EltwiseEntry : CacheEntry {
  Prim prim;
  Bound src, dst, diff_dst, diff_src;  // src is y in backward (use_dst_for_bwd)
};

std::unique_ptr<EltwiseEntry> MakeEltwise(const Activation& a, int64_t length, bool backward) {
  const auto data = PlainDesc({length}, tag::x);
  const auto attr = UserScratchpadAttr();
  dnnl::eltwise_forward::desc fd(dnnl::prop_kind::forward_training, a.alg, data, a.alpha, 0.0f);
  dnnl::eltwise_forward::primitive_desc fpd(fd, attr, Engine());
  auto e = std::make_unique<EltwiseEntry>();
  if (backward) {
    dnnl::eltwise_backward::desc bd(a.alg, data, data, a.alpha, 0.0f);
    dnnl::eltwise_backward::primitive_desc bpd(bd, attr, Engine(), fpd);
    e->prim = Prim(dnnl::eltwise_backward(bpd), bpd.scratchpad_desc());
    e->dst = Bound(data);
    e->diff_dst = Bound(data);
    e->diff_src = Bound(data);
  } else {
    e->prim = Prim(dnnl::eltwise_forward(fpd), fpd.scratchpad_desc());
    e->src = Bound(data);
    e->dst = Bound(data);
  }
  return e;
}

EltwiseEntry* Entry(const char* kernel, const Activation& a, int64_t length) {
  const bool backward = kernel == kBackward;
  CacheKey key(kernel);
  key.Add(static_cast<int64_t>(a.alg)).AddFloat(a.alpha).Add(length).Add(GetNumThreads());
  return Cached<EltwiseEntry>(key, [&] { return MakeEltwise(a, length, backward); });
}

}  // namespace

Activation ActivationNamed(const Napi::Env& env, const char* kernel, const std::string& name, double alpha,
                           const char* kind_arg, const char* alpha_arg) {
  if (name == "relu") return {dnnl::algorithm::eltwise_relu_use_dst_for_bwd, 0.0f};
  if (name == "sigmoid") return {dnnl::algorithm::eltwise_logistic_use_dst_for_bwd, 0.0f};
  if (name == "tanh") return {dnnl::algorithm::eltwise_tanh_use_dst_for_bwd, 0.0f};
  if (name == "elu") {
    if (!(alpha >= 0))
      Fail(env, kernel, std::string("expected ") + alpha_arg + " >= 0 for elu, got " + std::to_string(alpha));
    return {dnnl::algorithm::eltwise_elu_use_dst_for_bwd, static_cast<float>(alpha)};
  }
  Fail(env, kernel,
       std::string("expected 'relu' | 'elu' | 'sigmoid' | 'tanh' for ") + kind_arg + ", got '" + name + "'");
}

Napi::Value ActivationForward(const Napi::CallbackInfo& info) {
  return Guarded(info, kForward, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Activation a = ReadActivation(info, kForward, 3);
    F32View x = ArgF32(info, 1, kForward, "x");
    F32View y = ArgF32(info, 2, kForward, "y");
    RequireLength(env, kForward, "y", y.length, x.length);
    if (x.length == 0) return env.Undefined();
    EltwiseEntry* e = Entry(kForward, a, static_cast<int64_t>(x.length));
    Execute(e->prim, {{DNNL_ARG_SRC, e->src.At(x.data)}, {DNNL_ARG_DST, e->dst.At(y.data)}});
    return env.Undefined();
  });
}

Napi::Value ActivationBackward(const Napi::CallbackInfo& info) {
  return Guarded(info, kBackward, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Activation a = ReadActivation(info, kBackward, 4);
    F32View y = ArgF32(info, 1, kBackward, "y");
    F32View dy = ArgF32(info, 2, kBackward, "dy");
    F32View dx = ArgF32(info, 3, kBackward, "dx");
    RequireLength(env, kBackward, "dy", dy.length, y.length);
    RequireLength(env, kBackward, "dx", dx.length, y.length);
    if (y.length == 0) return env.Undefined();
    EltwiseEntry* e = Entry(kBackward, a, static_cast<int64_t>(y.length));
    Execute(e->prim, {{DNNL_ARG_DST, e->dst.At(y.data)},
                      {DNNL_ARG_DIFF_DST, e->diff_dst.At(dy.data)},
                      {DNNL_ARG_DIFF_SRC, e->diff_src.At(dx.data)}});
    return env.Undefined();
  });
}

}  // namespace al
