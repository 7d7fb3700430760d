#include "pool.h"

#include "common.h"
#include "layout.h"
#include "napi_args.h"
#include "window.h"

namespace al {
namespace {

constexpr const char* kWorkspaceBytes = "maxPool2dWorkspaceBytes";
constexpr const char* kMaxForward = "maxPool2dForward";
constexpr const char* kMaxBackward = "maxPool2dBackward";
constexpr const char* kAvgForward = "globalAvgPoolForward";
constexpr const char* kAvgBackward = "globalAvgPoolBackward";

// Both pooling kinds reduce to one window description; global average pooling is the window
// that covers the whole image. Pooling keeps the channels: dst is n x out_h x out_w x c.
size_t DstElems(const Window& s) { return s.n * s.out_h * s.out_w * s.c; }

// A pooling window over images that are NHWC, or blocked (attribute `blocked`, see ImageDesc):
// x and y then both are. A global average's y, [n, c] of 1x1 images, has the same bytes either way.
struct PoolShape : Window {
  bool blocked = false;
};

PoolShape WithLayout(const Window& w, const Napi::Object& attrs, const char* kernel) {
  PoolShape s;
  static_cast<Window&>(s) = w;
  s.blocked = AttrFlag(attrs, kernel, "blocked");
  if (s.blocked) RequireWholeBlocks(attrs.Env(), kernel, "blocked needs", "c", s.c);
  return s;
}

PoolShape ReadGlobal(const Napi::Object& attrs, const char* kernel) {
  Window s;
  s.n = AttrDim(attrs, kernel, "n");
  s.h = AttrDim(attrs, kernel, "h");
  s.w = AttrDim(attrs, kernel, "w");
  s.c = AttrDim(attrs, kernel, "c");
  s.kh = s.h;
  s.kw = s.w;
  s.stride_h = s.stride_w = 1;
  s.pad_h = s.pad_w = 0;
  s.out_h = s.out_w = 1;
  return WithLayout(s, attrs, kernel);
}

PoolShape ReadPoolWindow(const Napi::Object& attrs, const char* kernel) {
  return WithLayout(ReadWindow(attrs, kernel), attrs, kernel);
}

CacheKey WindowKey(const char* kernel, const PoolShape& s) {
  CacheKey key(kernel);
  key.Add(s.n).Add(s.h).Add(s.w).Add(s.c).Add(s.kh).Add(s.kw).Add(s.stride_h).Add(s.stride_w);
  key.Add(s.pad_h).Add(s.pad_w).Add(s.out_h).Add(s.out_w).Add(s.blocked).Add(GetNumThreads());
  return key;
}

dnnl::pooling_forward::primitive_desc ForwardPd(const PoolShape& s, dnnl::algorithm alg) {
  const auto src = ImageDesc(s.n, s.c, s.h, s.w, s.blocked);
  const auto dst = ImageDesc(s.n, s.c, s.out_h, s.out_w, s.blocked);
  dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_training, alg, src, dst, {s.stride_h, s.stride_w},
                                {s.kh, s.kw}, {s.pad_h, s.pad_w}, {s.pad_bottom(), s.pad_right()});
  return dnnl::pooling_forward::primitive_desc(d, UserScratchpadAttr(), Engine());
}

dnnl::pooling_backward::primitive_desc BackwardPd(const PoolShape& s, dnnl::algorithm alg,
                                                  const dnnl::pooling_forward::primitive_desc& hint) {
  const auto src = ImageDesc(s.n, s.c, s.h, s.w, s.blocked);
  const auto dst = ImageDesc(s.n, s.c, s.out_h, s.out_w, s.blocked);
  dnnl::pooling_backward::desc d(alg, src, dst, {s.stride_h, s.stride_w}, {s.kh, s.kw}, {s.pad_h, s.pad_w},
                                 {s.pad_bottom(), s.pad_right()});
  return dnnl::pooling_backward::primitive_desc(d, UserScratchpadAttr(), Engine(), hint);
}

// src/dst stand for diff_src/diff_dst in backward entries.
struct PoolEntry : CacheEntry {
  Prim prim;
  Bound src, dst, workspace;
};

std::unique_ptr<PoolEntry> MakePool(const PoolShape& s, dnnl::algorithm alg, bool backward) {
  auto e = std::make_unique<PoolEntry>();
  const auto fwd = ForwardPd(s, alg);
  if (backward) {
    const auto bwd = BackwardPd(s, alg, fwd);
    e->prim = Prim(dnnl::pooling_backward(bwd), bwd.scratchpad_desc());
    e->src = Bound(bwd.diff_src_desc());
    e->dst = Bound(bwd.diff_dst_desc());
    if (bwd.workspace_desc().get_size() > 0) e->workspace = Bound(bwd.workspace_desc());
  } else {
    e->prim = Prim(dnnl::pooling_forward(fwd), fwd.scratchpad_desc());
    e->src = Bound(fwd.src_desc());
    e->dst = Bound(fwd.dst_desc());
    if (fwd.workspace_desc().get_size() > 0) e->workspace = Bound(fwd.workspace_desc());
  }
  return e;
}

PoolEntry* Entry(const char* kernel, const PoolShape& s, dnnl::algorithm alg, bool backward) {
  return Cached<PoolEntry>(WindowKey(kernel, s), [&] { return MakePool(s, alg, backward); });
}

}  // namespace

Napi::Value MaxPool2dWorkspaceBytes(const Napi::CallbackInfo& info) {
  return Guarded(info, kWorkspaceBytes, [&]() -> Napi::Value {
    const PoolShape s = ReadPoolWindow(ArgObject(info, 0, kWorkspaceBytes, "attrs"), kWorkspaceBytes);
    PoolEntry* e = Entry(kMaxForward, s, dnnl::algorithm::pooling_max, false);
    return Napi::Number::New(info.Env(), static_cast<double>(e->workspace.bytes()));
  });
}

Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info) {
  return Guarded(info, kMaxForward, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kMaxForward, "x");
    F32View y = ArgF32(info, 1, kMaxForward, "y");
    BytesView ws = ArgBytes(info, 2, kMaxForward, "workspace");
    const PoolShape s = ReadPoolWindow(ArgObject(info, 3, kMaxForward, "attrs"), kMaxForward);
    Napi::Env env = info.Env();
    RequireLength(env, kMaxForward, "x", x.length, s.src_elems());
    RequireLength(env, kMaxForward, "y", y.length, DstElems(s));
    PoolEntry* e = Entry(kMaxForward, s, dnnl::algorithm::pooling_max, false);
    RequireLength(env, kMaxForward, "workspace", ws.length, e->workspace.bytes());
    Execute(e->prim, {{DNNL_ARG_SRC, e->src.At(x.data)},
                      {DNNL_ARG_DST, e->dst.At(y.data)},
                      {DNNL_ARG_WORKSPACE, e->workspace.At(ws.data)}});
    return env.Undefined();
  });
}

Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  return Guarded(info, kMaxBackward, [&]() -> Napi::Value {
    F32View dy = ArgF32(info, 0, kMaxBackward, "dy");
    BytesView ws = ArgBytes(info, 1, kMaxBackward, "workspace");
    F32View dx = ArgF32(info, 2, kMaxBackward, "dx");
    const PoolShape s = ReadPoolWindow(ArgObject(info, 3, kMaxBackward, "attrs"), kMaxBackward);
    Napi::Env env = info.Env();
    RequireLength(env, kMaxBackward, "dy", dy.length, DstElems(s));
    RequireLength(env, kMaxBackward, "dx", dx.length, s.src_elems());
    PoolEntry* e = Entry(kMaxBackward, s, dnnl::algorithm::pooling_max, true);
    RequireLength(env, kMaxBackward, "workspace", ws.length, e->workspace.bytes());
    Execute(e->prim, {{DNNL_ARG_DIFF_DST, e->dst.At(dy.data)},
                      {DNNL_ARG_WORKSPACE, e->workspace.At(ws.data)},
                      {DNNL_ARG_DIFF_SRC, e->src.At(dx.data)}});
    return env.Undefined();
  });
}

Napi::Value GlobalAvgPoolForward(const Napi::CallbackInfo& info) {
  return Guarded(info, kAvgForward, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kAvgForward, "x");
    F32View y = ArgF32(info, 1, kAvgForward, "y");
    const PoolShape s = ReadGlobal(ArgObject(info, 2, kAvgForward, "attrs"), kAvgForward);
    Napi::Env env = info.Env();
    RequireLength(env, kAvgForward, "x", x.length, s.src_elems());
    RequireLength(env, kAvgForward, "y", y.length, DstElems(s));
    PoolEntry* e = Entry(kAvgForward, s, dnnl::algorithm::pooling_avg_exclude_padding, false);
    Execute(e->prim, {{DNNL_ARG_SRC, e->src.At(x.data)}, {DNNL_ARG_DST, e->dst.At(y.data)}});
    return env.Undefined();
  });
}

Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info) {
  return Guarded(info, kAvgBackward, [&]() -> Napi::Value {
    F32View dy = ArgF32(info, 0, kAvgBackward, "dy");
    F32View dx = ArgF32(info, 1, kAvgBackward, "dx");
    const PoolShape s = ReadGlobal(ArgObject(info, 2, kAvgBackward, "attrs"), kAvgBackward);
    Napi::Env env = info.Env();
    RequireLength(env, kAvgBackward, "dy", dy.length, DstElems(s));
    RequireLength(env, kAvgBackward, "dx", dx.length, s.src_elems());
    PoolEntry* e = Entry(kAvgBackward, s, dnnl::algorithm::pooling_avg_exclude_padding, true);
    Execute(e->prim, {{DNNL_ARG_DIFF_DST, e->dst.At(dy.data)}, {DNNL_ARG_DIFF_SRC, e->src.At(dx.data)}});
    return env.Undefined();
  });
}

}  // namespace al
