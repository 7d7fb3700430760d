// 2-D convolutions over NHWC images with OIHW weights, through oneDNN's convolution primitives.
#ifndef AL_NATIVE_CONV_H_
#define AL_NATIVE_CONV_H_

#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>

#include "eltwise.h"
#include "window.h"

namespace al {

// conv2dForward(x, weight, bias | null, y, attrs)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info);
// conv2dBackwardData(dy, weight, dx, attrs)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info);
// conv2dBackwardWeights(x, dy, dWeight, dBias | null, attrs)
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info);

enum class ConvPass { kForward, kBackwardData, kBackwardWeights };

// Where the primitive's activations live: chosen per shape (auto, from measurements on this
// machine class), or forced for benchmarks and tests. The setting is per thread.
enum class ConvLayout { kAuto, kNhwc, kBlocked };
void SetConvLayout(ConvLayout layout);
// setConvLayout('auto' | 'nhwc' | 'blocked')
Napi::Value SetConvLayoutJs(const Napi::CallbackInfo& info);

// A convolution is a window with o output channels. x (src, diff_src) and y (dst, diff_dst)
// are NHWC unless flagged blocked (attributes xBlocked, yBlocked; see ImageDesc).
struct ConvShape : Window {
  int64_t o;
  bool x_blocked = false;
  bool y_blocked = false;
  double flops() const { return 2.0 * n * out_h * out_w * o * c * kh * kw; }
};

ConvShape ReadConvShape(const Napi::Object& attrs, const char* kernel);

// An activation a forward pass applies to its output as a oneDNN post-op (attributes activation
// and alpha of conv2dForward): the output is written once instead of written, read and written
// again by a separate activation kernel.
struct ConvActivation {
  bool on = false;
  Activation act{dnnl::algorithm::undef, 0.0f};
};

// Primitive descriptors for one shape. `act` is the layout of src/dst (format_tag::any lets
// oneDNN choose); weights are always `any`.
struct ConvPds {
  dnnl::convolution_forward::primitive_desc fwd;
  dnnl::convolution_backward_data::primitive_desc bwd_data;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights;
};
// `activation` applies to the forward pass only; the backward passes are hinted by a forward
// without it (the hint carries the layouts and algorithm, which the post-op does not change).
ConvPds MakeConvPds(const ConvShape& s, ConvPass pass, dnnl::memory::format_tag act, bool with_bias,
                    const ConvActivation& activation = {});

}  // namespace al

#endif  // AL_NATIVE_CONV_H_
