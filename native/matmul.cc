#include "matmul.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kMatmul = "matmul";

struct MatmulEntry : CacheEntry {
  Prim prim;
  Bound a, b, bias, out;
};

// Transposition is expressed through strides on the user's own buffers, so it never costs a
// copy: a stored [k, m] is the [m, k] matrix with strides (1, m).
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

// oneDNN 2.6 without AVX-512 sends products with a small side (1/m + 1/n >= 0.0038, its own
// threshold) to the "nocopy" sgemm kernel, which reads B in place whenever B is 32-byte
// aligned. When B's row stride is a multiple of 2 KB, those in-place reads keep landing in the
// same L1 sets: at m = 128 the product runs at ~40 GFLOP/s instead of ~75 (measured on
// 128x784x1024, 128x1024x5120, 128x5120x1024, 64x512x1024; B at +16 bytes is fast, at +0, +32,
// +64 slow; n = 1000 or 1280 is fast either way). A B that is not 32-byte aligned makes the
// kernel pack it first, so such a B is copied to a scratch buffer 16 bytes past an aligned
// address. The copy moves 8*k*n bytes, about a tenth of the product's time at m = 128 (a third
// at 128x1500x16384, where even the packing kernel suffers from B's 64 KB row stride). Running
// the product as columns 4.. of B (16 bytes in, so packed) plus the first 4 columns avoids the
// copy, but the first columns then take another kernel only when B happens to be aligned, so the
// result depends on where B lies: a run resumed from a checkpoint was no longer byte-identical
// to the same run made in one go. The copy keeps every such product on one kernel.
bool NocopyKernelIsAvx() {
  static const bool avx = [] {
    switch (dnnl_get_effective_cpu_isa()) {
      case dnnl_cpu_isa_avx:
      case dnnl_cpu_isa_avx2:
      case dnnl_cpu_isa_avx2_vnni: return true;
      default: return false;
    }
  }();
  return avx;
}

bool AvoidAlignedB(const float* b, int64_t m, int64_t n, bool trans_b) {
  if (trans_b || m < 32 || !NocopyKernelIsAvx()) return false;
  if (1.0 / static_cast<double>(m) + 1.0 / static_cast<double>(n) < 0.0038) return false;
  return (n * sizeof(float)) % 2048 == 0 && reinterpret_cast<uintptr_t>(b) % 32 == 0;
}

const float* UnalignedCopy(const float* b, size_t count) {
  constexpr size_t kShift = 16;
  char* base = static_cast<char*>(ScratchBuffer(Scratch::kSrc, count * sizeof(float) + kShift));
  float* dst = reinterpret_cast<float*>(base + kShift);
  const int threads = GetNumThreads();
  if (threads <= 1 || count < (size_t(1) << 16)) {
    std::memcpy(dst, b, count * sizeof(float));
    return dst;
  }
#pragma omp parallel num_threads(threads)
  {
    const size_t chunk = (count + omp_get_num_threads() - 1) / omp_get_num_threads();
    const size_t from = std::min(count, chunk * omp_get_thread_num());
    const size_t to = std::min(count, from + chunk);
    std::memcpy(dst + from, b + from, (to - from) * sizeof(float));
  }
  return dst;
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

    const float* b_data = AvoidAlignedB(b.data, m, n, trans_b) ? UnalignedCopy(b.data, k * n) : b.data;
    Execute(e->prim, {{DNNL_ARG_SRC, e->a.At(a.data)},
                      {DNNL_ARG_WEIGHTS, e->b.At(b_data)},
                      {DNNL_ARG_BIAS, has_bias ? e->bias.At(bias.data) : nullptr},
                      {DNNL_ARG_DST, e->out.At(out.data)}});
    return env.Undefined();
  });
}

}  // namespace al
