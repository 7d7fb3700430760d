// The benchmark addon's entry point (build/Release/al_bench.node): oneDNN called directly, the
// yardstick `al bench` holds the binding against. Kept out of al_native so that nothing a run
// loads can reach it; src/bench/kernels.ts (loadDirectBench) loads it.
#include <napi.h>

#include "bench_direct.h"

namespace {

Napi::Object InitBench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchMatmulDirect", Napi::Function::New(env, al::BenchMatmulDirect, "benchMatmulDirect"));
  exports.Set("benchConvDirect", Napi::Function::New(env, al::BenchConvDirect, "benchConvDirect"));
  return exports;
}

}  // namespace

NODE_API_MODULE(al_bench, InitBench)
