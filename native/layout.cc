#include "layout.h"

#include <memory>
#include <string>

#include "common.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kReorder = "reorderImages";

struct ReorderEntry : CacheEntry {
  Reorder reorder;
};

}  // namespace

int64_t ChannelBlock() {
  // the ISA values are bit masks: every AVX-512 core ISA holds avx512_core's bits
  static const int64_t block =
      (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? 16 : 8;
  return block;
}

dnnl::memory::desc ImageDesc(int64_t n, int64_t c, int64_t h, int64_t w, bool blocked) {
  return dnnl::memory::desc({n, c, h, w}, dt::f32,
                            blocked ? (ChannelBlock() == 16 ? tag::nChw16c : tag::nChw8c) : tag::nhwc);
}

void RequireWholeBlocks(const Napi::Env& env, const char* kernel, const char* needs, const char* name,
                        int64_t channels) {
  if (channels % ChannelBlock() == 0) return;
  Fail(env, kernel,
       std::string(needs) + " " + name + " to be a multiple of " + std::to_string(ChannelBlock()) + ", got " + name +
           " = " + std::to_string(channels));
}

Napi::Value ReorderImages(const Napi::CallbackInfo& info) {
  return Guarded(info, kReorder, [&]() -> Napi::Value {
    F32View x = ArgF32(info, 0, kReorder, "x");
    F32View y = ArgF32(info, 1, kReorder, "y");
    Napi::Object attrs = ArgObject(info, 2, kReorder, "attrs");
    const int64_t n = AttrDim(attrs, kReorder, "n"), h = AttrDim(attrs, kReorder, "h");
    const int64_t w = AttrDim(attrs, kReorder, "w"), c = AttrDim(attrs, kReorder, "c");
    const bool to_blocked = AttrBool(attrs, kReorder, "toBlocked");
    Napi::Env env = info.Env();
    RequireWholeBlocks(env, kReorder, "the blocked layout needs", "c", c);
    const size_t elems = static_cast<size_t>(n * h * w * c);
    RequireLength(env, kReorder, "x", x.length, elems);
    RequireLength(env, kReorder, "y", y.length, elems);
    CacheKey key(kReorder);
    key.Add(n).Add(h).Add(w).Add(c).Add(to_blocked).Add(GetNumThreads());
    ReorderEntry* e = Cached<ReorderEntry>(key, [&] {
      auto entry = std::make_unique<ReorderEntry>();
      entry->reorder = Reorder(ImageDesc(n, c, h, w, !to_blocked), ImageDesc(n, c, h, w, to_blocked));
      return entry;
    });
    e->reorder.Run(x.data, y.data);
    return env.Undefined();
  });
}

Napi::Value ChannelBlockJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(ChannelBlock()));
}

}  // namespace al
