// Batch normalisation over [rows, c] through oneDNN's batch_normalization primitives.
#ifndef AL_NATIVE_BATCH_NORM_H_
#define AL_NATIVE_BATCH_NORM_H_

#include <napi.h>

namespace al {

// batchNormForwardTraining(x, gamma, beta, y, mean, variance, {rows, c, eps})
Napi::Value BatchNormForwardTraining(const Napi::CallbackInfo& info);
// batchNormForwardInference(x, gamma, beta, mean, variance, y, {rows, c, eps})
Napi::Value BatchNormForwardInference(const Napi::CallbackInfo& info);
// batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, {rows, c, eps})
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_BATCH_NORM_H_
