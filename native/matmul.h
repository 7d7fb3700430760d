// Dense products through oneDNN's matmul primitive.
#ifndef AL_NATIVE_MATMUL_H_
#define AL_NATIVE_MATMUL_H_

#include <napi.h>

namespace al {

// matmul(a, b, bias | null, out, {m, k, n, transA, transB, accumulate})
Napi::Value Matmul(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_MATMUL_H_
