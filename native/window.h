// The window geometry shared by convolution and pooling: NHWC images of n x h x w x c, a kh x kw
// window moved by a stride over an image padded by pad_h / pad_w, giving out_h x out_w outputs.
#ifndef AL_NATIVE_WINDOW_H_
#define AL_NATIVE_WINDOW_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace al {

struct Window {
  int64_t n, h, w, c, kh, kw, stride_h, stride_w, pad_h, pad_w, out_h, out_w;
  // oneDNN wants explicit bottom/right padding; it follows from the output size the caller
  // derived and may be negative when the last stride step does not reach the edge.
  int64_t pad_bottom() const { return (out_h - 1) * stride_h + kh - h - pad_h; }
  int64_t pad_right() const { return (out_w - 1) * stride_w + kw - w - pad_w; }
  size_t src_elems() const { return n * h * w * c; }
};

// Reads the Window2dAttrs fields (n, h, w, c, kh, kw, strideH, strideW, padH, padW, outH, outW)
// and checks that outH/outW follow from the rest; errors start with `kernel`.
Window ReadWindow(const Napi::Object& attrs, const char* kernel);

}  // namespace al

#endif  // AL_NATIVE_WINDOW_H_
