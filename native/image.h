// Image kernels on NHWC batches for the data pipeline: the CIFAR training augmentation.
// Registered on the addon's exports by addon.cc.
#ifndef AL_NATIVE_IMAGE_H_
#define AL_NATIVE_IMAGE_H_

#include <napi.h>

namespace al {

// augmentImages(x, crop, adjust, y, attrs {n, h, w, c, pad}): see Backend.augmentImages in
// src/backend/kernel_names.ts.
Napi::Value AugmentImages(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_IMAGE_H_
