// The yardstick for the binding's overhead: oneDNN called directly from C++ on the same shapes,
// with every layout left to oneDNN (format_tag::any) and buffers it allocates itself. For
// convolutions, the same primitive on NHWC activations splits the binding's distance from it into
// what the binding costs and what NHWC itself costs.
#ifndef AL_NATIVE_BENCH_DIRECT_H_
#define AL_NATIVE_BENCH_DIRECT_H_

#include <napi.h>

namespace al {

// benchMatmulDirect(attrs, iterations, threads) -> seconds per iteration
Napi::Value BenchMatmulDirect(const Napi::CallbackInfo& info);
// benchConvDirect('forward' | 'backwardData' | 'backwardWeights', attrs, iterations, threads,
//                 layout = 'any' | 'nhwc') -> seconds per iteration; 'any' leaves the activation
//   layout to oneDNN (its blocked one), 'nhwc' fixes it to the binding's
Napi::Value BenchConvDirect(const Napi::CallbackInfo& info);

}  // namespace al

#endif  // AL_NATIVE_BENCH_DIRECT_H_
