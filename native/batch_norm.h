// Batch normalisation over [rows, c] through oneDNN's batch_normalization primitives.
#ifndef AL_NATIVE_BATCH_NORM_H_
#define AL_NATIVE_BATCH_NORM_H_

#include <napi.h>

namespace al {

// attrs: {rows, c, eps, images?, relu?}; with relu, y = max(0, normalised) and the training
// passes take a workspace (Uint8Array) last.
// batchNormWorkspaceBytes(attrs): the workspace's size (0 without relu)
Napi::Value BatchNormWorkspaceBytes(const Napi::CallbackInfo& info);
// batchNormForwardTraining(x, gamma, beta, y, mean, variance, attrs, workspace?)
Napi::Value BatchNormForwardTraining(const Napi::CallbackInfo& info);
// batchNormForwardInference(x, gamma, beta, mean, variance, y, attrs)
Napi::Value BatchNormForwardInference(const Napi::CallbackInfo& info);
// batchNormBackward(x, dy, gamma, mean, variance, dx, dGamma, dBeta, attrs, workspace?)
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_BATCH_NORM_H_
