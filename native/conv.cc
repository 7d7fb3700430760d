#include "conv.h"

#include <cmath>
#include <string>

#include "common.h"
#include "layout.h"
#include "napi_args.h"

namespace al {

ConvShape ReadConvShape(const Napi::Object& attrs, const char* kernel) {
  ConvShape s;
  static_cast<Window&>(s) = ReadWindow(attrs, kernel);
  s.o = AttrDim(attrs, kernel, "o");
  s.x_blocked = AttrFlag(attrs, kernel, "xBlocked");
  s.y_blocked = AttrFlag(attrs, kernel, "yBlocked");
  if (s.x_blocked) RequireWholeBlocks(attrs.Env(), kernel, "xBlocked needs", "c", s.c);
  if (s.y_blocked) RequireWholeBlocks(attrs.Env(), kernel, "yBlocked needs", "o", s.o);
  return s;
}

ConvPds MakeConvPds(const ConvShape& s, ConvPass pass, dnnl::memory::format_tag act, bool with_bias,
                    const ConvActivation& activation) {
  using md = dnnl::memory::desc;
  const md src({s.n, s.c, s.h, s.w}, dt::f32, act);
  const md dst({s.n, s.o, s.out_h, s.out_w}, dt::f32, act);
  const md weights({s.o, s.c, s.kh, s.kw}, dt::f32, tag::any);
  const md bias({s.o}, dt::f32, tag::x);
  const dims strides{s.stride_h, s.stride_w};
  const dims pad_l{s.pad_h, s.pad_w};
  const dims pad_r{s.pad_bottom(), s.pad_right()};
  const dnnl::primitive_attr attr = UserScratchpadAttr();
  // Direct, not auto: auto may pick Winograd, whose results differ more from the reference.
  const auto alg = dnnl::algorithm::convolution_direct;

  ConvPds pds;
  const bool fwd_bias = with_bias && pass == ConvPass::kForward;
  auto fwd_desc = fwd_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, weights, bias,
                                                             dst, strides, pad_l, pad_r)
                           : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, src, weights, dst,
                                                             strides, pad_l, pad_r);
  dnnl::primitive_attr fwd_attr = attr;
  if (activation.on && pass == ConvPass::kForward) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, activation.act.alg, activation.act.alpha, 0.0f);
    fwd_attr.set_post_ops(ops);
  }
  pds.fwd = dnnl::convolution_forward::primitive_desc(fwd_desc, fwd_attr, Engine());
  if (pass == ConvPass::kBackwardData) {
    dnnl::convolution_backward_data::desc d(alg, src, weights, dst, strides, pad_l, pad_r);
    pds.bwd_data = dnnl::convolution_backward_data::primitive_desc(d, attr, Engine(), pds.fwd);
  } else if (pass == ConvPass::kBackwardWeights) {
    auto d = with_bias ? dnnl::convolution_backward_weights::desc(alg, src, weights, bias, dst, strides, pad_l, pad_r)
                       : dnnl::convolution_backward_weights::desc(alg, src, weights, dst, strides, pad_l, pad_r);
    pds.bwd_weights = dnnl::convolution_backward_weights::primitive_desc(d, attr, Engine(), pds.fwd);
  }
  return pds;
}

namespace {

constexpr const char* kForward = "conv2dForward";
constexpr const char* kBackwardData = "conv2dBackwardData";
constexpr const char* kBackwardWeights = "conv2dBackwardWeights";

// Whether the primitive runs on oneDNN's blocked activation layout (nChw8c on AVX2). Training
// hands convolutions blocked activations wherever the channels fill whole blocks
// (src/tensor/layout.ts), and then the primitive runs on them as they are. For NHWC operands
// (a first layer's RGB input, or tensors from elsewhere) the choice below applies, with reorders
// from and to the user's buffers at the kernel's edges. Measured with oneDNN 2.6 (jit:avx2) at
// batch 128 through this binding, best of 4 runs of 6 interleaved rounds, GFLOP/s at 1 / 2
// threads, NHWC vs blocked with reorders:
//   - 1x1 and thin layers (c or o < 16, e.g. the RGB input layer): NHWC by 1.5-2.5x; the
//     reorders cost as much as the convolution (16x16x64->128 1x1 forward 89/163 vs 60/105).
//   - backward weights: NHWC as fast or faster everywhere; blocked would reorder two inputs.
//   - c = 32 on 32x32 images: NHWC (forward 89/174 vs 78/144, backward data 93/185 vs 80/149).
//   - c >= 64, 3x3, forward: blocked (16x16x64->64 78/157 vs 73/155, 8x8x128->128 81/123 vs
//     76/112, 16x16x64->128 stride 2 73/128 vs 72/99).
//   - c >= 64, 3x3, backward data: blocked only at stride 1 on images of 16x16 and more
//     (16x16x64->64 90/167 vs 84/139); NHWC on 8x8 (95/184 vs 93/146) and at stride 2.
// Without the reorders the blocked kernels win: inside a Vanilla CNN BP step at 2 threads,
// backward weights took 132 ms on blocked activations against 200-219 ms on NHWC (docs/benchmarks.md).
bool ChooseBlocked(const ConvShape& s, ConvPass pass) {
  if (s.kh * s.kw == 1 || s.c < 64 || s.o < 16) return false;
  switch (pass) {
    case ConvPass::kForward: return true;
    case ConvPass::kBackwardData: return s.stride_h == 1 && s.stride_w == 1 && s.out_h * s.out_w >= 256;
    case ConvPass::kBackwardWeights: return false;
  }
  return false;
}

ConvLayout& LayoutSetting() {
  thread_local ConvLayout layout = ConvLayout::kAuto;
  return layout;
}

bool UseBlocked(const ConvShape& s, ConvPass pass) {
  switch (LayoutSetting()) {
    case ConvLayout::kNhwc: return false;
    case ConvLayout::kBlocked: return true;
    // activations that arrive or leave blocked: the primitive runs on that layout, no reorder
    default: return s.x_blocked || s.y_blocked || ChooseBlocked(s, pass);
  }
}

// The primitive of one pass plus the reorders between user layouts (NHWC activations, OIHW
// weights) and the layouts the primitive chose. A Reorder is empty when the layouts agree.
struct ConvEntry : CacheEntry {
  Prim prim;
  Bound src, weights, bias, dst;  // as the primitive sees them
  Reorder src_reorder, weights_reorder, dst_reorder;
};

// The buffer the primitive reads or writes: the user's own, or a scratch slot that the reorder
// fills before the primitive runs (inputs) or empties after it (outputs).
void* Staging(const Reorder& r, Scratch slot, const Bound& prim_side, void* user) {
  return r ? ScratchBuffer(slot, prim_side.bytes()) : user;
}

std::unique_ptr<ConvEntry> MakeConvEntry(const ConvShape& s, ConvPass pass, bool with_bias,
                                         const ConvActivation& activation) {
  const bool blocked = UseBlocked(s, pass);
  const ConvPds pds = MakeConvPds(s, pass, blocked ? tag::any : tag::nhwc, with_bias, activation);
  const dnnl::memory::desc user_src = ImageDesc(s.n, s.c, s.h, s.w, s.x_blocked);
  const dnnl::memory::desc user_dst = ImageDesc(s.n, s.o, s.out_h, s.out_w, s.y_blocked);
  const dnnl::memory::desc user_weights = PlainDesc({s.o, s.c, s.kh, s.kw}, tag::oihw);
  const dnnl::memory::desc user_bias = PlainDesc({s.o}, tag::x);

  auto e = std::make_unique<ConvEntry>();
  dnnl::memory::desc src, weights, dst;
  switch (pass) {
    case ConvPass::kForward:
      src = pds.fwd.src_desc();
      weights = pds.fwd.weights_desc();
      dst = pds.fwd.dst_desc();
      e->prim = Prim(dnnl::convolution_forward(pds.fwd), pds.fwd.scratchpad_desc());
      e->src_reorder = Reorder(user_src, src);
      e->weights_reorder = Reorder(user_weights, weights);
      e->dst_reorder = Reorder(dst, user_dst);
      break;
    case ConvPass::kBackwardData:
      src = pds.bwd_data.diff_src_desc();
      weights = pds.bwd_data.weights_desc();
      dst = pds.bwd_data.diff_dst_desc();
      e->prim = Prim(dnnl::convolution_backward_data(pds.bwd_data), pds.bwd_data.scratchpad_desc());
      e->src_reorder = Reorder(src, user_src);
      e->weights_reorder = Reorder(user_weights, weights);
      e->dst_reorder = Reorder(user_dst, dst);
      break;
    case ConvPass::kBackwardWeights:
      src = pds.bwd_weights.src_desc();
      weights = pds.bwd_weights.diff_weights_desc();
      dst = pds.bwd_weights.diff_dst_desc();
      e->prim = Prim(dnnl::convolution_backward_weights(pds.bwd_weights), pds.bwd_weights.scratchpad_desc());
      e->src_reorder = Reorder(user_src, src);
      e->weights_reorder = Reorder(weights, user_weights);
      e->dst_reorder = Reorder(user_dst, dst);
      break;
  }
  e->src = Bound(src);
  e->weights = Bound(weights);
  e->dst = Bound(dst);
  if (with_bias) e->bias = Bound(user_bias);
  return e;
}

ConvEntry* Entry(const char* kernel, const ConvShape& s, ConvPass pass, bool with_bias,
                 const ConvActivation& activation = {}) {
  CacheKey key(kernel);
  key.Add(UseBlocked(s, pass)).Add(s.x_blocked).Add(s.y_blocked);
  key.Add(s.n).Add(s.h).Add(s.w).Add(s.c).Add(s.o).Add(s.kh).Add(s.kw).Add(s.stride_h).Add(s.stride_w);
  key.Add(s.pad_h).Add(s.pad_w).Add(s.out_h).Add(s.out_w).Add(with_bias).Add(GetNumThreads());
  key.Add(activation.on).Add(static_cast<int64_t>(activation.act.alg)).AddFloat(activation.act.alpha);
  return Cached<ConvEntry>(key, [&] { return MakeConvEntry(s, pass, with_bias, activation); });
}

// attrs.activation ('relu' | 'elu' | 'sigmoid' | 'tanh', optional) and attrs.alpha (ELU's).
ConvActivation ReadConvActivation(const Napi::Object& attrs, const char* kernel) {
  ConvActivation a;
  if (!attrs.Has("activation") || attrs.Get("activation").IsUndefined()) return a;
  Napi::Value kind = attrs.Get("activation");
  if (!kind.IsString()) Fail(attrs.Env(), kernel, "expected 'relu' | 'elu' | 'sigmoid' | 'tanh' for attrs.activation");
  Napi::Value alpha = attrs.Get("alpha");
  a.on = true;
  a.act = ActivationNamed(attrs.Env(), kernel, kind.As<Napi::String>().Utf8Value(),
                          alpha.IsNumber() ? alpha.As<Napi::Number>().DoubleValue() : std::nan(""), "attrs.activation",
                          "attrs.alpha");
  return a;
}

size_t SrcElems(const ConvShape& s) { return s.n * s.h * s.w * s.c; }
size_t DstElems(const ConvShape& s) { return s.n * s.out_h * s.out_w * s.o; }
size_t WeightElems(const ConvShape& s) { return s.o * s.c * s.kh * s.kw; }

}  // namespace

void SetConvLayout(ConvLayout layout) { LayoutSetting() = layout; }

Napi::Value SetConvLayoutJs(const Napi::CallbackInfo& info) {
  const char* kernel = "setConvLayout";
  return Guarded(info, kernel, [&]() -> Napi::Value {
    const std::string mode = ArgString(info, 0, kernel, "layout");
    if (mode == "auto") {
      SetConvLayout(ConvLayout::kAuto);
    } else if (mode == "nhwc") {
      SetConvLayout(ConvLayout::kNhwc);
    } else if (mode == "blocked") {
      SetConvLayout(ConvLayout::kBlocked);
    } else {
      Fail(info.Env(), kernel, "expected 'auto' | 'nhwc' | 'blocked' for layout, got '" + mode + "'");
    }
    return info.Env().Undefined();
  });
}

Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  return Guarded(info, kForward, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kForward, "x");
    F32View weight = ArgF32(info, 1, kForward, "weight");
    F32View bias = ArgF32(info, 2, kForward, "bias", /*nullable=*/true);
    F32View y = ArgF32(info, 3, kForward, "y");
    const Napi::Object attrs = ArgObject(info, 4, kForward, "attrs");
    const ConvShape s = ReadConvShape(attrs, kForward);
    const ConvActivation activation = ReadConvActivation(attrs, kForward);
    Napi::Env env = info.Env();
    RequireLength(env, kForward, "x", x.length, SrcElems(s));
    RequireLength(env, kForward, "weight", weight.length, WeightElems(s));
    RequireLength(env, kForward, "y", y.length, DstElems(s));
    const bool with_bias = bias.data != nullptr;
    if (with_bias) RequireLength(env, kForward, "bias", bias.length, s.o);

    ConvEntry* e = Entry(kForward, s, ConvPass::kForward, with_bias, activation);
    void* src = Staging(e->src_reorder, Scratch::kSrc, e->src, x.data);
    void* wei = Staging(e->weights_reorder, Scratch::kWeights, e->weights, weight.data);
    void* dst = Staging(e->dst_reorder, Scratch::kDst, e->dst, y.data);
    if (e->src_reorder) e->src_reorder.Run(x.data, src);
    if (e->weights_reorder) e->weights_reorder.Run(weight.data, wei);
    Execute(e->prim, {{DNNL_ARG_SRC, e->src.At(src)},
                      {DNNL_ARG_WEIGHTS, e->weights.At(wei)},
                      {DNNL_ARG_BIAS, with_bias ? e->bias.At(bias.data) : nullptr},
                      {DNNL_ARG_DST, e->dst.At(dst)}});
    if (e->dst_reorder) e->dst_reorder.Run(dst, y.data);
    return env.Undefined();
  });
}

Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  return Guarded(info, kBackwardData, [&]() -> Napi::Value {
    F32View dy = ArgF32(info, 0, kBackwardData, "dy");
    F32View weight = ArgF32(info, 1, kBackwardData, "weight");
    F32View dx = ArgF32(info, 2, kBackwardData, "dx");
    const ConvShape s = ReadConvShape(ArgObject(info, 3, kBackwardData, "attrs"), kBackwardData);
    Napi::Env env = info.Env();
    RequireLength(env, kBackwardData, "dy", dy.length, DstElems(s));
    RequireLength(env, kBackwardData, "weight", weight.length, WeightElems(s));
    RequireLength(env, kBackwardData, "dx", dx.length, SrcElems(s));

    ConvEntry* e = Entry(kBackwardData, s, ConvPass::kBackwardData, false);
    void* diff_dst = Staging(e->dst_reorder, Scratch::kDst, e->dst, dy.data);
    void* wei = Staging(e->weights_reorder, Scratch::kWeights, e->weights, weight.data);
    void* diff_src = Staging(e->src_reorder, Scratch::kSrc, e->src, dx.data);
    if (e->dst_reorder) e->dst_reorder.Run(dy.data, diff_dst);
    if (e->weights_reorder) e->weights_reorder.Run(weight.data, wei);
    Execute(e->prim, {{DNNL_ARG_DIFF_DST, e->dst.At(diff_dst)},
                      {DNNL_ARG_WEIGHTS, e->weights.At(wei)},
                      {DNNL_ARG_DIFF_SRC, e->src.At(diff_src)}});
    if (e->src_reorder) e->src_reorder.Run(diff_src, dx.data);
    return env.Undefined();
  });
}

Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  return Guarded(info, kBackwardWeights, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kBackwardWeights, "x");
    F32View dy = ArgF32(info, 1, kBackwardWeights, "dy");
    F32View d_weight = ArgF32(info, 2, kBackwardWeights, "dWeight");
    F32View d_bias = ArgF32(info, 3, kBackwardWeights, "dBias", /*nullable=*/true);
    const ConvShape s = ReadConvShape(ArgObject(info, 4, kBackwardWeights, "attrs"), kBackwardWeights);
    Napi::Env env = info.Env();
    RequireLength(env, kBackwardWeights, "x", x.length, SrcElems(s));
    RequireLength(env, kBackwardWeights, "dy", dy.length, DstElems(s));
    RequireLength(env, kBackwardWeights, "dWeight", d_weight.length, WeightElems(s));
    const bool with_bias = d_bias.data != nullptr;
    if (with_bias) RequireLength(env, kBackwardWeights, "dBias", d_bias.length, s.o);

    ConvEntry* e = Entry(kBackwardWeights, s, ConvPass::kBackwardWeights, with_bias);
    void* src = Staging(e->src_reorder, Scratch::kSrc, e->src, x.data);
    void* diff_dst = Staging(e->dst_reorder, Scratch::kDst, e->dst, dy.data);
    void* diff_wei = Staging(e->weights_reorder, Scratch::kWeights, e->weights, d_weight.data);
    if (e->src_reorder) e->src_reorder.Run(x.data, src);
    if (e->dst_reorder) e->dst_reorder.Run(dy.data, diff_dst);
    Execute(e->prim, {{DNNL_ARG_SRC, e->src.At(src)},
                      {DNNL_ARG_DIFF_DST, e->dst.At(diff_dst)},
                      {DNNL_ARG_DIFF_WEIGHTS, e->weights.At(diff_wei)},
                      {DNNL_ARG_DIFF_BIAS, with_bias ? e->bias.At(d_bias.data) : nullptr}});
    if (e->weights_reorder) e->weights_reorder.Run(diff_wei, d_weight.data);
    return env.Undefined();
  });
}

}  // namespace al
