// The addon's entry point. Every exported function is named after the Backend method it
// implements (src/backend/kernel_names.ts) and takes the same positional arguments.
#include <malloc.h>
#include <napi.h>

#include "batch_norm.h"
#include "buffer_pool.h"
#include "common.h"
#include "conv.h"
#include "eltwise.h"
#include "image.h"
#include "layout.h"
#include "matmul.h"
#include "own_kernels.h"
#include "pool.h"
#include "random.h"
#include "tsne.h"

namespace al {
namespace {

Napi::Value SetNumThreadsJs(const Napi::CallbackInfo& info) {
  return Guarded(info, "setNumThreads", [&]() -> Napi::Value {
    Napi::Value v = info[0];
    if (!v.IsNumber()) throw Napi::Error::New(info.Env(), "setNumThreads: expected a number for n");
    double n = v.As<Napi::Number>().DoubleValue();
    // compared as doubles first: casting an out-of-range double to int is undefined behaviour
    if (!(n >= 1 && n <= kMaxThreads) || n != static_cast<double>(static_cast<int>(n))) {
      throw Napi::RangeError::New(info.Env(), "setNumThreads: expected an integer from 1 to " +
                                                  std::to_string(kMaxThreads) + " for n, got " +
                                                  v.ToString().Utf8Value());
    }
    SetNumThreads(static_cast<int>(n));
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreadsJs(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), GetNumThreads()); }

Napi::Value CpuIsaJs(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), CpuIsaName()); }

// oneDNN's version and threading runtime, the ISA it runs and the thread count, for diagnostics
// (nativeInfo() in src/backend/native_backend.ts).
Napi::Value InfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dnnl_version_t* v = dnnl_version();
  Napi::Object out = Napi::Object::New(env);
  out.Set("onednnVersion", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  out.Set("onednnHash", v->hash);
  out.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP   ? "omp"
                        : v->cpu_runtime == DNNL_RUNTIME_TBB ? "tbb"
                        : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                                                             : "other");
  out.Set("isa", CpuIsaName());
  out.Set("threads", GetNumThreads());
  out.Set("cachedPrimitives", static_cast<double>(CacheSize()));
  return out;
}

// glibc returns a heap's memory to the system only from the heap's top, so blocks freed below
// live ones stay resident; called at each epoch's end, malloc_trim hands those free pages back and
// keeps a long pipelined run's memory flat (figures in docs/benchmarks.md, "Memory").
Napi::Value ReleaseFreeMemoryJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
}

Napi::Value ClearCacheJs(const Napi::CallbackInfo& info) {
  ClearCache();
  return info.Env().Undefined();
}

void Export(Napi::Env env, Napi::Object exports, const char* name, Napi::Function::Callback fn) {
  exports.Set(name, Napi::Function::New(env, fn, name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Weights, optimizer moments and the state a pipeline collects at each epoch's end come and go
  // in bursts of tens of MB; a fixed 4 MB mmap threshold keeps each such buffer in its own
  // mapping, unmapped on free, where glibc's dynamic threshold would leave it in the heap
  // (docs/benchmarks.md, "Memory").
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  // Creating the engine here makes a broken oneDNN installation fail at require() time, with
  // the loader's explanation, instead of inside the first training step.
  try {
    Engine();
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, std::string("al_native: could not create the oneDNN CPU engine: ") + e.what());
  }

  Export(env, exports, "setNumThreads", SetNumThreadsJs);
  Export(env, exports, "getNumThreads", GetNumThreadsJs);
  Export(env, exports, "cpuIsa", CpuIsaJs);
  Export(env, exports, "info", InfoJs);
  Export(env, exports, "clearCache", ClearCacheJs);
  Export(env, exports, "pooledArrayBuffer", PooledArrayBuffer);
  Export(env, exports, "zeroedArrayBuffer", ZeroedArrayBuffer);
  Export(env, exports, "bufferPoolStats", BufferPoolStats);
  Export(env, exports, "releaseFreeMemory", ReleaseFreeMemoryJs);

  Export(env, exports, "matmul", Matmul);

  Export(env, exports, "conv2dForward", Conv2dForward);
  Export(env, exports, "conv2dBackwardData", Conv2dBackwardData);
  Export(env, exports, "conv2dBackwardWeights", Conv2dBackwardWeights);
  Export(env, exports, "setConvLayout", SetConvLayoutJs);
  Export(env, exports, "reorderImages", ReorderImages);
  Export(env, exports, "channelBlock", ChannelBlockJs);

  Export(env, exports, "maxPool2dWorkspaceBytes", MaxPool2dWorkspaceBytes);
  Export(env, exports, "maxPool2dForward", MaxPool2dForward);
  Export(env, exports, "maxPool2dBackward", MaxPool2dBackward);
  Export(env, exports, "globalAvgPoolForward", GlobalAvgPoolForward);
  Export(env, exports, "globalAvgPoolBackward", GlobalAvgPoolBackward);

  Export(env, exports, "batchNormWorkspaceBytes", BatchNormWorkspaceBytes);
  Export(env, exports, "batchNormForwardTraining", BatchNormForwardTraining);
  Export(env, exports, "batchNormForwardInference", BatchNormForwardInference);
  Export(env, exports, "batchNormBackward", BatchNormBackward);

  Export(env, exports, "activationForward", ActivationForward);
  Export(env, exports, "activationBackward", ActivationBackward);

  Export(env, exports, "augmentImages", AugmentImages);

  // sumRows, add, axpby, losses, argmaxRows and the optimizer steps.
  InitOwnKernels(env, exports);
  InitRandom(env, exports);

  // Analysis, outside the Backend contract (src/backend/analysis_kernels.ts says why).
  InitTsne(env, exports);
  return exports;
}

}  // namespace
}  // namespace al

namespace {
Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return al::Init(env, exports); }
}  // namespace

NODE_API_MODULE(al_native, InitAddon)
