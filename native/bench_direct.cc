#include "bench_direct.h"

#include <chrono>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "conv.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kBenchMatmul = "benchMatmulDirect";
constexpr const char* kBenchConv = "benchConvDirect";
constexpr int kWarmup = 3;

// Restores the caller's thread count however the benchmark exits.
class ThreadsScope {
 public:
  explicit ThreadsScope(int n) : saved_(GetNumThreads()) { SetNumThreads(n); }
  ~ThreadsScope() { SetNumThreads(saved_); }

 private:
  int saved_;
};

// A buffer oneDNN allocated, filled with small non-denormal values so that timing is not
// distorted by page faults on first touch or by denormal arithmetic.
dnnl::memory Filled(const dnnl::memory::desc& md) {
  dnnl::memory m(md, Engine());
  if (md.data_type() == dt::f32) {
    float* p = static_cast<float*>(m.get_data_handle());
    const size_t n = md.get_size() / sizeof(float);
    uint32_t state = 12345;
    for (size_t i = 0; i < n; ++i) {
      state = state * 1664525u + 1013904223u;
      p[i] = static_cast<float>(state >> 9) / static_cast<float>(1u << 23) - 0.5f;
    }
  } else {
    std::memset(m.get_data_handle(), 0, md.get_size());
  }
  return m;
}

double TimeLoop(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args, int iterations) {
  dnnl::stream& s = Stream();
  for (int i = 0; i < kWarmup; ++i) p.execute(s, args);
  s.wait();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) {
    p.execute(s, args);
    s.wait();
  }
  const auto stop = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(stop - start).count() / iterations;
}

struct BenchArgs {
  int iterations;
  int threads;
};

BenchArgs ReadBenchArgs(const Napi::CallbackInfo& info, size_t first, const char* kernel) {
  const int64_t iterations = ArgInt(info, first, kernel, "iterations");
  const int64_t threads = ArgInt(info, first + 1, kernel, "threads");
  if (iterations < 1) Fail(info.Env(), kernel, "expected iterations >= 1");
  if (threads < 1 || threads > kMaxThreads)
    Fail(info.Env(), kernel, "expected threads from 1 to " + std::to_string(kMaxThreads));
  return {static_cast<int>(iterations), static_cast<int>(threads)};
}

}  // namespace

Napi::Value BenchMatmulDirect(const Napi::CallbackInfo& info) {
  return Guarded(info, kBenchMatmul, [&]() -> Napi::Value {
    Napi::Object attrs = ArgObject(info, 0, kBenchMatmul, "attrs");
    const int64_t m = AttrDim(attrs, kBenchMatmul, "m");
    const int64_t k = AttrDim(attrs, kBenchMatmul, "k");
    const int64_t n = AttrDim(attrs, kBenchMatmul, "n");
    const bool accumulate = AttrBool(attrs, kBenchMatmul, "accumulate");
    const BenchArgs b = ReadBenchArgs(info, 1, kBenchMatmul);
    ThreadsScope threads(b.threads);

    // Transposition flags do not apply: with `any` oneDNN stores each operand as it likes.
    dnnl::memory::desc a_md({m, k}, dt::f32, tag::any), b_md({k, n}, dt::f32, tag::any),
        c_md({m, n}, dt::f32, tag::any);
    dnnl::primitive_attr attr = UserScratchpadAttr();
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, Engine());
    const std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, Filled(pd.src_desc())},
                                                     {DNNL_ARG_WEIGHTS, Filled(pd.weights_desc())},
                                                     {DNNL_ARG_DST, Filled(pd.dst_desc())},
                                                     {DNNL_ARG_SCRATCHPAD, Filled(pd.scratchpad_desc())}};
    return Napi::Number::New(info.Env(), TimeLoop(dnnl::matmul(pd), args, b.iterations));
  });
}

Napi::Value BenchConvDirect(const Napi::CallbackInfo& info) {
  return Guarded(info, kBenchConv, [&]() -> Napi::Value {
    const std::string pass_name = ArgString(info, 0, kBenchConv, "pass");
    ConvPass pass;
    if (pass_name == "forward") {
      pass = ConvPass::kForward;
    } else if (pass_name == "backwardData") {
      pass = ConvPass::kBackwardData;
    } else if (pass_name == "backwardWeights") {
      pass = ConvPass::kBackwardWeights;
    } else {
      Fail(info.Env(), kBenchConv,
           "expected 'forward' | 'backwardData' | 'backwardWeights' for pass, got '" + pass_name + "'");
    }
    const ConvShape s = ReadConvShape(ArgObject(info, 1, kBenchConv, "attrs"), kBenchConv);
    const BenchArgs b = ReadBenchArgs(info, 2, kBenchConv);
    // 'nhwc' runs the primitive the binding runs on its NHWC tensors: against it the binding's
    // figure is the binding's own cost, and it against 'any' is what the layout costs.
    tag act = tag::any;
    if (info.Length() > 4 && !info[4].IsUndefined()) {
      const std::string layout = ArgString(info, 4, kBenchConv, "layout");
      if (layout == "nhwc") {
        act = tag::nhwc;
      } else if (layout != "any") {
        Fail(info.Env(), kBenchConv, "expected 'any' | 'nhwc' for layout, got '" + layout + "'");
      }
    }
    ThreadsScope threads(b.threads);

    // Without bias: the binding's figures it is compared with are taken without bias too.
    const ConvPds pds = MakeConvPds(s, pass, act, /*with_bias=*/false);
    dnnl::primitive prim;
    std::unordered_map<int, dnnl::memory> args;
    switch (pass) {
      case ConvPass::kForward:
        prim = dnnl::convolution_forward(pds.fwd);
        args = {{DNNL_ARG_SRC, Filled(pds.fwd.src_desc())},
                {DNNL_ARG_WEIGHTS, Filled(pds.fwd.weights_desc())},
                {DNNL_ARG_DST, Filled(pds.fwd.dst_desc())},
                {DNNL_ARG_SCRATCHPAD, Filled(pds.fwd.scratchpad_desc())}};
        break;
      case ConvPass::kBackwardData:
        prim = dnnl::convolution_backward_data(pds.bwd_data);
        args = {{DNNL_ARG_DIFF_DST, Filled(pds.bwd_data.diff_dst_desc())},
                {DNNL_ARG_WEIGHTS, Filled(pds.bwd_data.weights_desc())},
                {DNNL_ARG_DIFF_SRC, Filled(pds.bwd_data.diff_src_desc())},
                {DNNL_ARG_SCRATCHPAD, Filled(pds.bwd_data.scratchpad_desc())}};
        break;
      case ConvPass::kBackwardWeights:
        prim = dnnl::convolution_backward_weights(pds.bwd_weights);
        args = {{DNNL_ARG_SRC, Filled(pds.bwd_weights.src_desc())},
                {DNNL_ARG_DIFF_DST, Filled(pds.bwd_weights.diff_dst_desc())},
                {DNNL_ARG_DIFF_WEIGHTS, Filled(pds.bwd_weights.diff_weights_desc())},
                {DNNL_ARG_SCRATCHPAD, Filled(pds.bwd_weights.scratchpad_desc())}};
        break;
    }
    return Napi::Number::New(info.Env(), TimeLoop(prim, args, b.iterations));
  });
}

}  // namespace al
