#include "batch_norm.h"

#include "common.h"
#include "layout.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kTraining = "batchNormForwardTraining";
constexpr const char* kInference = "batchNormForwardInference";
constexpr const char* kBackward = "batchNormBackward";
constexpr const char* kWorkspaceBytes = "batchNormWorkspaceBytes";

enum class BnPass { kTraining, kInference, kBackward };

// x viewed as [rows, c]; when `images` > 0 it is instead `images` images of rows / images pixels
// in the blocked layout (attribute `images`, see ImageDesc).
// With `relu`, y = max(0, normalised): oneDNN's fuse_norm_relu, whose training forward fills a
// workspace (the sign of each y) that the backward pass masks dy with, in place of two more passes
// over the activation by a separate ReLU.
struct BnShape {
  int64_t rows, c;
  float eps;
  int64_t images = 0;
  bool relu = false;
};

BnShape ReadShape(const Napi::CallbackInfo& info, size_t index, const char* kernel) {
  Napi::Object attrs = ArgObject(info, index, kernel, "attrs");
  BnShape s;
  s.rows = AttrDim(attrs, kernel, "rows");
  s.c = AttrDim(attrs, kernel, "c");
  const double eps = AttrNumber(attrs, kernel, "eps");
  if (!(eps >= 0)) Fail(info.Env(), kernel, "expected eps >= 0, got " + std::to_string(eps));
  s.eps = static_cast<float>(eps);
  s.images = AttrPresent(attrs, "images") ? AttrDim(attrs, kernel, "images", 0) : 0;
  s.relu = AttrFlag(attrs, kernel, "relu");
  if (s.images > 0) {
    if (s.rows % s.images != 0) {
      Fail(info.Env(), kernel,
           "blocked images need rows to be a multiple of images, got rows = " + std::to_string(s.rows) +
               ", images = " + std::to_string(s.images));
    }
    RequireWholeBlocks(info.Env(), kernel, "blocked images need", "c", s.c);
  }
  return s;
}

// Every per-channel vector (gamma, beta, mean, variance and their gradients) is a plain [c].
struct BnEntry : CacheEntry {
  Prim prim;
  Bound x, y, dy, dx;
  Bound gamma, beta, mean, variance, d_gamma, d_beta;
  Bound workspace;  // with relu, training forward and backward only
};

std::unique_ptr<BnEntry> MakeBn(const BnShape& s, BnPass pass) {
  using flags = dnnl::normalization_flags;
  // [rows, c] described as rows images of 1x1 pixels in NHWC: the same bytes, but oneDNN 2.6 runs
  // its JIT batch norm on it, while format `nc` gets the generic ncsp implementation, 30-50x
  // slower (rows = 131072, c = 32: 3 ms against 150 ms for the forward pass on one thread).
  // Blocked images: the pixels of an image, h * w of them, as one column (same bytes).
  const auto data =
      s.images > 0 ? ImageDesc(s.images, s.c, s.rows / s.images, 1, true) : PlainDesc({s.rows, s.c, 1, 1}, tag::nhwc);
  const auto vec = PlainDesc({s.c}, tag::x);
  const auto attr = UserScratchpadAttr();
  const flags affine = flags::use_scale | flags::use_shift | (s.relu ? flags::fuse_norm_relu : flags::none);

  auto e = std::make_unique<BnEntry>();
  e->x = Bound(data);
  e->gamma = Bound(vec);
  e->mean = Bound(vec);
  e->variance = Bound(vec);
  if (pass == BnPass::kInference) {
    dnnl::batch_normalization_forward::desc d(dnnl::prop_kind::forward_inference, data, s.eps,
                                              affine | flags::use_global_stats);
    dnnl::batch_normalization_forward::primitive_desc pd(d, attr, Engine());
    e->prim = Prim(dnnl::batch_normalization_forward(pd), pd.scratchpad_desc());
    e->y = Bound(data);
    e->beta = Bound(vec);
    return e;
  }
  dnnl::batch_normalization_forward::desc fd(dnnl::prop_kind::forward_training, data, s.eps, affine);
  dnnl::batch_normalization_forward::primitive_desc fpd(fd, attr, Engine());
  if (s.relu) e->workspace = Bound(fpd.workspace_desc());
  if (pass == BnPass::kTraining) {
    e->prim = Prim(dnnl::batch_normalization_forward(fpd), fpd.scratchpad_desc());
    e->y = Bound(data);
    e->beta = Bound(vec);
    return e;
  }
  dnnl::batch_normalization_backward::desc bd(dnnl::prop_kind::backward, data, data, s.eps, affine);
  dnnl::batch_normalization_backward::primitive_desc bpd(bd, attr, Engine(), fpd);
  e->prim = Prim(dnnl::batch_normalization_backward(bpd), bpd.scratchpad_desc());
  e->dy = Bound(data);
  e->dx = Bound(data);
  e->beta = Bound(vec);
  e->d_gamma = Bound(vec);
  e->d_beta = Bound(vec);
  return e;
}

BnEntry* Entry(const char* kernel, const BnShape& s, BnPass pass) {
  CacheKey key(kernel);
  key.Add(s.rows).Add(s.c).AddFloat(s.eps).Add(s.images).Add(s.relu ? 1 : 0).Add(GetNumThreads());
  return Cached<BnEntry>(key, [&] { return MakeBn(s, pass); });
}

void RequireVector(const Napi::Env& env, const char* kernel, const char* name, const F32View& v, const BnShape& s) {
  RequireLength(env, kernel, name, v.length, s.c);
}

void RequireData(const Napi::Env& env, const char* kernel, const char* name, const F32View& v, const BnShape& s) {
  RequireLength(env, kernel, name, v.length, s.rows * s.c);
}

// The workspace of a relu-fused pass: argument `index`, a Uint8Array of the size
// batchNormWorkspaceBytes gives; absent (null or not passed) without relu.
uint8_t* ArgWorkspace(const Napi::CallbackInfo& info, size_t index, const char* kernel, const BnShape& s, BnEntry* e) {
  const bool given = info.Length() > index && !info[index].IsNull() && !info[index].IsUndefined();
  if (!s.relu) {
    if (given) Fail(info.Env(), kernel, "a workspace is only used with relu");
    return nullptr;
  }
  if (!given) Fail(info.Env(), kernel, "relu needs the workspace (batchNormWorkspaceBytes bytes)");
  BytesView ws = ArgBytes(info, index, kernel, "workspace");
  RequireLength(info.Env(), kernel, "workspace", ws.length, e->workspace.bytes());
  return ws.data;
}

}  // namespace

Napi::Value BatchNormWorkspaceBytes(const Napi::CallbackInfo& info) {
  return Guarded(info, kWorkspaceBytes, [&]() -> Napi::Value {
    const BnShape s = ReadShape(info, 0, kWorkspaceBytes);
    const double bytes = s.relu ? static_cast<double>(Entry(kTraining, s, BnPass::kTraining)->workspace.bytes()) : 0;
    return Napi::Number::New(info.Env(), bytes);
  });
}

Napi::Value BatchNormForwardTraining(const Napi::CallbackInfo& info) {
  return Guarded(info, kTraining, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kTraining, "x");
    F32View gamma = ArgF32(info, 1, kTraining, "gamma");
    F32View beta = ArgF32(info, 2, kTraining, "beta");
    F32View y = ArgF32(info, 3, kTraining, "y");
    F32View mean = ArgF32(info, 4, kTraining, "mean");
    F32View variance = ArgF32(info, 5, kTraining, "variance");
    const BnShape s = ReadShape(info, 6, kTraining);
    Napi::Env env = info.Env();
    RequireData(env, kTraining, "x", x, s);
    RequireVector(env, kTraining, "gamma", gamma, s);
    RequireVector(env, kTraining, "beta", beta, s);
    RequireData(env, kTraining, "y", y, s);
    RequireVector(env, kTraining, "mean", mean, s);
    RequireVector(env, kTraining, "variance", variance, s);
    BnEntry* e = Entry(kTraining, s, BnPass::kTraining);
    uint8_t* ws = ArgWorkspace(info, 7, kTraining, s, e);
    Execute(e->prim, {{DNNL_ARG_SRC, e->x.At(x.data)},
                      {DNNL_ARG_SCALE, e->gamma.At(gamma.data)},
                      {DNNL_ARG_SHIFT, e->beta.At(beta.data)},
                      {DNNL_ARG_DST, e->y.At(y.data)},
                      {DNNL_ARG_MEAN, e->mean.At(mean.data)},
                      {DNNL_ARG_VARIANCE, e->variance.At(variance.data)},
                      {DNNL_ARG_WORKSPACE, ws != nullptr ? e->workspace.At(ws) : nullptr}});
    return env.Undefined();
  });
}

Napi::Value BatchNormForwardInference(const Napi::CallbackInfo& info) {
  return Guarded(info, kInference, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kInference, "x");
    F32View gamma = ArgF32(info, 1, kInference, "gamma");
    F32View beta = ArgF32(info, 2, kInference, "beta");
    F32View mean = ArgF32(info, 3, kInference, "mean");
    F32View variance = ArgF32(info, 4, kInference, "variance");
    F32View y = ArgF32(info, 5, kInference, "y");
    const BnShape s = ReadShape(info, 6, kInference);
    Napi::Env env = info.Env();
    RequireData(env, kInference, "x", x, s);
    RequireVector(env, kInference, "gamma", gamma, s);
    RequireVector(env, kInference, "beta", beta, s);
    RequireVector(env, kInference, "mean", mean, s);
    RequireVector(env, kInference, "variance", variance, s);
    RequireData(env, kInference, "y", y, s);
    BnEntry* e = Entry(kInference, s, BnPass::kInference);
    Execute(e->prim, {{DNNL_ARG_SRC, e->x.At(x.data)},
                      {DNNL_ARG_SCALE, e->gamma.At(gamma.data)},
                      {DNNL_ARG_SHIFT, e->beta.At(beta.data)},
                      {DNNL_ARG_MEAN, e->mean.At(mean.data)},
                      {DNNL_ARG_VARIANCE, e->variance.At(variance.data)},
                      {DNNL_ARG_DST, e->y.At(y.data)}});
    return env.Undefined();
  });
}

Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  return Guarded(info, kBackward, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kBackward, "x");
    F32View dy = ArgF32(info, 1, kBackward, "dy");
    F32View gamma = ArgF32(info, 2, kBackward, "gamma");
    F32View mean = ArgF32(info, 3, kBackward, "mean");
    F32View variance = ArgF32(info, 4, kBackward, "variance");
    F32View dx = ArgF32(info, 5, kBackward, "dx");
    F32View d_gamma = ArgF32(info, 6, kBackward, "dGamma");
    F32View d_beta = ArgF32(info, 7, kBackward, "dBeta");
    const BnShape s = ReadShape(info, 8, kBackward);
    Napi::Env env = info.Env();
    RequireData(env, kBackward, "x", x, s);
    RequireData(env, kBackward, "dy", dy, s);
    RequireVector(env, kBackward, "gamma", gamma, s);
    RequireVector(env, kBackward, "mean", mean, s);
    RequireVector(env, kBackward, "variance", variance, s);
    RequireData(env, kBackward, "dx", dx, s);
    RequireVector(env, kBackward, "dGamma", d_gamma, s);
    RequireVector(env, kBackward, "dBeta", d_beta, s);
    BnEntry* e = Entry(kBackward, s, BnPass::kBackward);
    uint8_t* ws = ArgWorkspace(info, 9, kBackward, s, e);
    // oneDNN 2.6 lists the shift as an input of the backward pass although no gradient depends
    // on it; the contract does not pass beta, so any c floats will do.
    void* unused_shift = ScratchBuffer(Scratch::kWeights, s.c * sizeof(float));
    Execute(e->prim, {{DNNL_ARG_SRC, e->x.At(x.data)},
                      {DNNL_ARG_SHIFT, e->beta.At(unused_shift)},
                      {DNNL_ARG_DIFF_DST, e->dy.At(dy.data)},
                      {DNNL_ARG_SCALE, e->gamma.At(gamma.data)},
                      {DNNL_ARG_MEAN, e->mean.At(mean.data)},
                      {DNNL_ARG_VARIANCE, e->variance.At(variance.data)},
                      {DNNL_ARG_WORKSPACE, ws != nullptr ? e->workspace.At(ws) : nullptr},
                      {DNNL_ARG_DIFF_SRC, e->dx.At(dx.data)},
                      {DNNL_ARG_DIFF_SCALE, e->d_gamma.At(d_gamma.data)},
                      {DNNL_ARG_DIFF_SHIFT, e->d_beta.At(d_beta.data)}});
    return env.Undefined();
  });
}

}  // namespace al
