// Kernels oneDNN does not provide: reductions for bias gradients, row gathers and scatter-adds,
// vector updates, losses, argmax and the fused optimizer steps. Registered on the addon's exports
// by addon.cc.
#ifndef AL_NATIVE_OWN_KERNELS_H_
#define AL_NATIVE_OWN_KERNELS_H_

#include <napi.h>

namespace al {

void InitOwnKernels(Napi::Env env, Napi::Object exports);

}  // namespace al

#endif  // AL_NATIVE_OWN_KERNELS_H_
