// Conversion of images between NHWC and oneDNN's blocked layout (see ImageDesc in common.h), at
// the edges of a run of kernels that carry blocked activations.
#ifndef AL_NATIVE_LAYOUT_H_
#define AL_NATIVE_LAYOUT_H_

#include <napi.h>

namespace al {

// reorderImages(x, y, {n, h, w, c, toBlocked}): y = x in the other layout
Napi::Value ReorderImages(const Napi::CallbackInfo& info);
// channelBlock() -> channels per block of the blocked layout on this CPU (8 or 16)
Napi::Value ChannelBlockJs(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_LAYOUT_H_
