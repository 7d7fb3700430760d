#include "window.h"

#include <string>

#include "napi_args.h"

namespace al {

Window ReadWindow(const Napi::Object& attrs, const char* kernel) {
  Window s;
  s.n = AttrDim(attrs, kernel, "n");
  s.h = AttrDim(attrs, kernel, "h");
  s.w = AttrDim(attrs, kernel, "w");
  s.c = AttrDim(attrs, kernel, "c");
  s.kh = AttrDim(attrs, kernel, "kh");
  s.kw = AttrDim(attrs, kernel, "kw");
  s.stride_h = AttrDim(attrs, kernel, "strideH");
  s.stride_w = AttrDim(attrs, kernel, "strideW");
  s.pad_h = AttrDim(attrs, kernel, "padH", 0);
  s.pad_w = AttrDim(attrs, kernel, "padW", 0);
  s.out_h = AttrDim(attrs, kernel, "outH");
  s.out_w = AttrDim(attrs, kernel, "outW");
  if (s.pad_bottom() <= -s.stride_h || s.pad_right() <= -s.stride_w) {
    Fail(attrs.Env(), kernel,
         "outH/outW (" + std::to_string(s.out_h) + "x" + std::to_string(s.out_w) + ") do not follow from h/w " +
             std::to_string(s.h) + "x" + std::to_string(s.w) + ", window size, stride and padding");
  }
  return s;
}

}  // namespace al
