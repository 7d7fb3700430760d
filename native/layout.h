// oneDNN's blocked image layout: its block size on this CPU, descriptors of images in it, the
// check every kernel taking blocked operands makes, and the conversion to and from NHWC at the
// edges of a run of kernels that carry blocked activations.
#ifndef AL_NATIVE_LAYOUT_H_
#define AL_NATIVE_LAYOUT_H_

#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>

namespace al {

// Channels per block of oneDNN's blocked image layout on this CPU: nChw8c with AVX2, nChw16c
// with AVX-512, the layouts its convolutions choose for themselves. Tensors whose layout is
// 'blocked' (src/tensor/layout.ts) carry it from one kernel to the next, so that convolutions
// run on it without reorders at their edges.
int64_t ChannelBlock();
// An image [n, c, h, w] stored NHWC, or blocked (then c must be a multiple of ChannelBlock()).
dnnl::memory::desc ImageDesc(int64_t n, int64_t c, int64_t h, int64_t w, bool blocked);
// Fails with "<needs> <name> to be a multiple of <block>, got <name> = <channels>" unless the
// channels fill whole blocks; `needs` names the operand, e.g. "xBlocked needs".
void RequireWholeBlocks(const Napi::Env& env, const char* kernel, const char* needs, const char* name,
                        int64_t channels);

// reorderImages(x, y, {n, h, w, c, toBlocked}): y = x in the other layout
Napi::Value ReorderImages(const Napi::CallbackInfo& info);
// channelBlock() -> channels per block of the blocked layout on this CPU (8 or 16)
Napi::Value ChannelBlockJs(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_LAYOUT_H_
