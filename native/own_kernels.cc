#include "own_kernels.h"

namespace al {

void InitOwnKernels(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace al
