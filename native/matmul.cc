#include "matmul.h"

#include "common.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kMatmul = "matmul";

struct MatmulEntry : CacheEntry {
  Prim prim;
  Bound a, b, bias, out;
};

// Transposition is expressed through strides on the user's own buffers, so no operand is ever
// copied: a stored [k, m] is the [m, k] matrix with strides (1, m).
std::unique_ptr<MatmulEntry> MakeMatmul(int64_t m, int64_t k, int64_t n, bool trans_a, bool trans_b,
                                        bool accumulate, bool has_bias) {
  using md = dnnl::memory::desc;
  md a_md({m, k}, dt::f32, trans_a ? dims{1, m} : dims{k, 1});
  md b_md({k, n}, dt::f32, trans_b ? dims{1, k} : dims{n, 1});
  md out_md({m, n}, dt::f32, dims{n, 1});
  md bias_md({1, n}, dt::f32, dims{n, 1});

  dnnl::primitive_attr attr = UserScratchpadAttr();
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::desc desc = has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, out_md)
                                     : dnnl::matmul::desc(a_md, b_md, out_md);
  dnnl::matmul::primitive_desc pd(desc, attr, Engine());

  auto e = std::make_unique<MatmulEntry>();
  e->prim = Prim(dnnl::matmul(pd), pd.scratchpad_desc());
  e->a = Bound(a_md);
  e->b = Bound(b_md);
  e->out = Bound(out_md);
  if (has_bias) e->bias = Bound(bias_md);
  return e;
}

}  // namespace

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  return Guarded(info, kMatmul, [&]() -> Napi::Value {
    F32View a = ArgF32(info, 0, kMatmul, "a");
    F32View b = ArgF32(info, 1, kMatmul, "b");
    F32View bias = ArgF32(info, 2, kMatmul, "bias", /*nullable=*/true);
    F32View out = ArgF32(info, 3, kMatmul, "out");
    Napi::Object attrs = ArgObject(info, 4, kMatmul, "attrs");
    const int64_t m = AttrDim(attrs, kMatmul, "m");
    const int64_t k = AttrDim(attrs, kMatmul, "k");
    const int64_t n = AttrDim(attrs, kMatmul, "n");
    const bool trans_a = AttrBool(attrs, kMatmul, "transA");
    const bool trans_b = AttrBool(attrs, kMatmul, "transB");
    const bool accumulate = AttrBool(attrs, kMatmul, "accumulate");
    const bool has_bias = bias.data != nullptr;

    Napi::Env env = info.Env();
    RequireLength(env, kMatmul, "a", a.length, m * k);
    RequireLength(env, kMatmul, "b", b.length, k * n);
    RequireLength(env, kMatmul, "out", out.length, m * n);
    if (has_bias) RequireLength(env, kMatmul, "bias", bias.length, n);

    CacheKey key(kMatmul);
    key.Add(m).Add(k).Add(n).Add(trans_a).Add(trans_b).Add(accumulate).Add(has_bias).Add(GetNumThreads());
    auto* e = Cached<MatmulEntry>(key, [&] { return MakeMatmul(m, k, n, trans_a, trans_b, accumulate, has_bias); });

    Execute(e->prim, {{DNNL_ARG_SRC, e->a.At(a.data)},
                      {DNNL_ARG_WEIGHTS, e->b.At(b.data)},
                      {DNNL_ARG_BIAS, has_bias ? e->bias.At(bias.data) : nullptr},
                      {DNNL_ARG_DST, e->out.At(out.data)}});
    return env.Undefined();
  });
}

}  // namespace al
