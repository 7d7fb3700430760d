// Activations through oneDNN's eltwise primitives, in the variants whose backward pass reads
// the forward output: a layer then keeps only y, not x, for its backward step.
#ifndef AL_NATIVE_ELTWISE_H_
#define AL_NATIVE_ELTWISE_H_

#include <napi.h>

namespace al {

// activationForward(kind, x, y, alpha)
Napi::Value ActivationForward(const Napi::CallbackInfo& info);
// activationBackward(kind, y, dy, dx, alpha)
Napi::Value ActivationBackward(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_ELTWISE_H_
