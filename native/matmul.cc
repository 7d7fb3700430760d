#include "matmul.h"

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
// copy: a stored [k, m] is the [m, k] matrix with strides (1, m). `ldb` and `ldo` are the row
// strides of a non-transposed B and of out: n, except for a block of columns (below).
std::unique_ptr<MatmulEntry> MakeMatmul(int64_t m, int64_t k, int64_t n, int64_t ldb, int64_t ldo, bool trans_a,
                                        bool trans_b, bool accumulate, bool has_bias) {
  using md = dnnl::memory::desc;
  md a_md({m, k}, dt::f32, trans_a ? dims{1, m} : dims{k, 1});
  md b_md({k, n}, dt::f32, trans_b ? dims{1, k} : dims{ldb, 1});
  md out_md({m, n}, dt::f32, dims{ldo, 1});
  md bias_md({1, n}, dt::f32, dims{n, 1});

  dnnl::primitive_attr attr = UserScratchpadAttr();
  if (accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::desc desc =
      has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, out_md) : dnnl::matmul::desc(a_md, b_md, out_md);
  dnnl::matmul::primitive_desc pd(desc, attr, Engine());

  auto e = std::make_unique<MatmulEntry>();
  e->prim = Prim(dnnl::matmul(pd), pd.scratchpad_desc());
  e->a = Bound(a_md);
  e->b = Bound(b_md);
  e->out = Bound(out_md);
  if (has_bias) e->bias = Bound(bias_md);
  return e;
}

MatmulEntry* CachedMatmul(int64_t m, int64_t k, int64_t n, int64_t ldb, int64_t ldo, bool trans_a, bool trans_b,
                          bool accumulate, bool has_bias) {
  CacheKey key(kMatmul);
  key.Add(m).Add(k).Add(n).Add(ldb).Add(ldo);
  key.Add(trans_a).Add(trans_b).Add(accumulate).Add(has_bias).Add(GetNumThreads());
  return Cached<MatmulEntry>(key,
                             [&] { return MakeMatmul(m, k, n, ldb, ldo, trans_a, trans_b, accumulate, has_bias); });
}

void Run(MatmulEntry* e, const float* a, const float* b, const float* bias, float* out) {
  Execute(e->prim, {{DNNL_ARG_SRC, e->a.At(a)},
                    {DNNL_ARG_WEIGHTS, e->b.At(b)},
                    {DNNL_ARG_BIAS, bias != nullptr ? e->bias.At(bias) : nullptr},
                    {DNNL_ARG_DST, e->out.At(out)}});
}

// oneDNN 2.6 without AVX-512 runs products with a small side in its "nocopy" sgemm kernel, which
// reads a 32-byte-aligned B in place; when B's rows lie a multiple of 2 KB apart those reads keep
// hitting the same L1 sets and the product runs at about half speed. So such a B is copied to a
// scratch buffer 16 bytes past alignment, which makes the kernel pack it instead.
//
// A wide B (n >= 1024 on one thread, n >= 8192 on more) thrashes the caches even packed, so it goes
// through a small padded scratch buffer 512 columns at a time, each block its own product.
// (Measurements of both paths: docs/benchmarks.md, "Kernels".)
//
// Which path a product takes depends on its shape and thread count only, never on where B lies:
// the paths' kernels round differently, and a run resumed from a checkpoint must end
// byte-identical to the same run made in one go.
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

// The products whose B rows are a multiple of 2 KB apart and that go to the nocopy kernel.
bool StrideAliases(int64_t m, int64_t n, bool trans_b) {
  if (trans_b || m < 32 || !NocopyKernelIsAvx()) return false;
  if (1.0 / static_cast<double>(m) + 1.0 / static_cast<double>(n) < 0.0038) return false;
  return (n * sizeof(float)) % 2048 == 0;
}

constexpr int64_t kPanel = 512;
constexpr int64_t kPanelStride = kPanel + 4;
constexpr size_t kShift = 16;

// On one thread (a pipeline stage) panels pay from 1,024 columns on; on more, oneDNN spreads the
// whole product better than the panels' one-at-a-time, and they pay only from 8,192 columns
// (1.20-1.37x), costing 0-8 % below. Per thread count is deterministic enough: a run's thread
// count is fixed, and other kernels already round differently across thread counts.
bool UsePanels(int64_t m, int64_t n, bool trans_b) {
  return StrideAliases(m, n, trans_b) && n >= (GetNumThreads() == 1 ? 2 : 16) * kPanel;
}

// Copies rows [0, k) of the `count` floats at each `b + r * ldb` to `dst + r * ld_dst`, on the
// product's threads.
void CopyRows(const float* b, int64_t ldb, float* dst, int64_t ld_dst, int64_t k, int64_t count) {
  const int threads = GetNumThreads();
  const size_t bytes = static_cast<size_t>(count) * sizeof(float);
  if (threads <= 1 || k * count < (int64_t{1} << 16)) {
    for (int64_t r = 0; r < k; r++) std::memcpy(dst + r * ld_dst, b + r * ldb, bytes);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t r = 0; r < k; r++) std::memcpy(dst + r * ld_dst, b + r * ldb, bytes);
}

float* ShiftedScratch(size_t floats) {
  char* base = static_cast<char*>(ScratchBuffer(Scratch::kSrc, floats * sizeof(float) + kShift));
  return reinterpret_cast<float*>(base + kShift);
}

// With AVX-512, oneDNN's matmul (brgemm) runs C = A B with a plain [k, n] B of many columns far
// below the speed it reaches with B transposed: on one core of a Xeon (avx512_core_amx),
// [128 x 1024] x [1024 x 5120] took 29.8 ms, the same product computed as C^T = B^T A^T 10.7 ms
// plus 0.13 ms to transpose C^T back into C. That product is dx = dy W of a dense layer with many
// inputs (a wide bridge's 5n -> n map). In a sweep of m 8..512, k 10..5120, n 10..5120 on 1 and
// 2 threads the transposed form won (1.3-3.5x) wherever m >= 32, n >= 3072 and B holds 2^20
// floats or more, and lost (up to 2x slower) on smaller products. Without AVX-512 the paths above
// apply. The choice depends on the shape only, as the paths above.
bool UseTransposedProduct(int64_t m, int64_t k, int64_t n, bool trans_a, bool trans_b, bool has_bias) {
  if (trans_a || trans_b || has_bias || NocopyKernelIsAvx()) return false;
  return m >= 32 && n >= 3072 && k * n >= (int64_t{1} << 20);
}

// out = T^T, or out += T^T when accumulating, for T stored [n, m]: a oneDNN reorder.
struct TransposeEntry : CacheEntry {
  Prim prim;
  Bound from, to;
};

TransposeEntry* CachedTranspose(int64_t m, int64_t n, bool accumulate) {
  CacheKey key("matmul-transpose");
  key.Add(m).Add(n).Add(accumulate).Add(GetNumThreads());
  return Cached<TransposeEntry>(key, [&] {
    using md = dnnl::memory::desc;
    md from({m, n}, dt::f32, dims{1, m});
    md to({m, n}, dt::f32, dims{n, 1});
    dnnl::primitive_attr attr = UserScratchpadAttr();
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      attr.set_post_ops(ops);
    }
    dnnl::reorder::primitive_desc pd(Engine(), from, Engine(), to, attr);
    auto e = std::make_unique<TransposeEntry>();
    e->prim = Prim(dnnl::reorder(pd), pd.scratchpad_desc());
    e->from = Bound(from);
    e->to = Bound(to);
    return e;
  });
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

    const float* bias_data = has_bias ? bias.data : nullptr;
    if (UsePanels(m, n, trans_b)) {
      MatmulEntry* e = CachedMatmul(m, k, kPanel, kPanelStride, n, trans_a, false, accumulate, has_bias);
      float* panel = ShiftedScratch(static_cast<size_t>(k * kPanelStride));
      for (int64_t j = 0; j < n; j += kPanel) {
        CopyRows(b.data + j, n, panel, kPanelStride, k, kPanel);
        Run(e, a.data, panel, has_bias ? bias_data + j : nullptr, out.data + j);
      }
    } else if (StrideAliases(m, n, trans_b)) {
      // every B of this shape takes the packing kernel, an aligned one through a shifted copy
      const float* b_data = b.data;
      if (reinterpret_cast<uintptr_t>(b_data) % 32 == 0) {
        float* copy = ShiftedScratch(static_cast<size_t>(k * n));
        CopyRows(b_data, n, copy, n, k, n);
        b_data = copy;
      }
      Run(CachedMatmul(m, k, n, n, n, trans_a, false, accumulate, has_bias), a.data, b_data, bias_data, out.data);
    } else if (UseTransposedProduct(m, k, n, trans_a, trans_b, has_bias)) {
      // C^T = B^T A^T into scratch: a stored [k, n] B is B^T with strides (1, n), A likewise
      float* t = static_cast<float*>(ScratchBuffer(Scratch::kDst, static_cast<size_t>(m * n) * sizeof(float)));
      Run(CachedMatmul(n, k, m, m, m, true, true, false, false), b.data, a.data, nullptr, t);
      TransposeEntry* e = CachedTranspose(m, n, accumulate);
      Execute(e->prim, {{DNNL_ARG_FROM, e->from.At(t)}, {DNNL_ARG_TO, e->to.At(out.data)}});
    } else {
      Run(CachedMatmul(m, k, n, n, n, trans_a, trans_b, accumulate, has_bias), a.data, b.data, bias_data, out.data);
    }
    return env.Undefined();
  });
}

}  // namespace al
