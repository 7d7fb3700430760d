// Max pooling (with the workspace oneDNN's backward pass needs) and global average pooling over
// NHWC images.
#ifndef AL_NATIVE_POOL_H_
#define AL_NATIVE_POOL_H_

#include <napi.h>

namespace al {

// maxPool2dWorkspaceBytes(attrs) -> number
Napi::Value MaxPool2dWorkspaceBytes(const Napi::CallbackInfo& info);
// maxPool2dForward(x, y, workspace, attrs)
Napi::Value MaxPool2dForward(const Napi::CallbackInfo& info);
// maxPool2dBackward(dy, workspace, dx, attrs)
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info);
// globalAvgPoolForward(x, y, {n, h, w, c})
Napi::Value GlobalAvgPoolForward(const Napi::CallbackInfo& info);
// globalAvgPoolBackward(dy, dx, {n, h, w, c})
Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_POOL_H_
