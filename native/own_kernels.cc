// Kernels oneDNN does not provide, with the semantics of the reference backend
// (src/backend/reference/*.ts): bias-gradient row sums, row gathers and their scatter-adds,
// vector updates, the two losses, row argmax and the fused Adam / SGD steps.
//
// Each is exported under its Backend method name and takes that method's positional arguments.
// The loops are written for the auto-vectoriser (contiguous, restrict where buffers cannot alias,
// `#pragma omp simd` where it needs permission to reorder). Build flags they want: -fopenmp-simd
// (or -fopenmp) for the pragmas, else the double-precision loss sums stay scalar and g++ warns
// -Wunknown-pragmas; -fno-math-errno, else sqrt's errno path keeps the Adam loop scalar. Results
// are correct either way.
// They run on the calling thread: they are memory-bound, and the trainer already runs one layer
// group per worker thread, so a thread team here would only oversubscribe the cores.
//
// NaN policy, as in the reference: a NaN in an input reaches the matching output.
#include "own_kernels.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "napi_args.h"
#include "signals.h"
#include "subnormals.h"

namespace al {
namespace {

// ***** argument helpers beyond napi_args.h *****

// A shape integer: a non-negative whole number (the TS side checks shapes first; this guards C++).
size_t ArgDim(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name) {
  const double v = ArgNumber(info, index, kernel, name);
  if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0) {
    Fail(info.Env(), kernel, std::string(name) + " must be a non-negative integer");
  }
  return static_cast<size_t>(v);
}

size_t Product(const Napi::Env& env, const char* kernel, size_t rows, size_t cols) {
  size_t n = 0;
  if (__builtin_mul_overflow(rows, cols, &n)) Fail(env, kernel, "rows * cols overflows");
  return n;
}

// Shapeless elementwise kernels take their size from the first buffer; the others must match it
// exactly (same message as the reference backend's requireSameLength).
void RequireSame(const Napi::Env& env, const char* kernel, const char* name, size_t have, const char* what,
                 size_t expected) {
  if (have != expected) {
    Fail(env, kernel,
         std::string(name) + " holds " + std::to_string(have) + " elements, " + what + " holds " +
             std::to_string(expected));
  }
}

// ***** dense *****

// out[j] = sum_i x[i, j], x [rows, cols]. Streams x row by row into double accumulators, so the
// inner loop is contiguous and the sum over a large batch (rows = n*h*w for conv biases) keeps
// float64 accuracy.
void SumRowsKernel(const float* __restrict x, float* __restrict out, size_t rows, size_t cols) {
  std::vector<double> acc(cols, 0.0);
  double* __restrict a = acc.data();
  for (size_t i = 0; i < rows; ++i) {
    const float* __restrict row = x + i * cols;
#pragma omp simd
    for (size_t j = 0; j < cols; ++j) a[j] += static_cast<double>(row[j]);
  }
#pragma omp simd
  for (size_t j = 0; j < cols; ++j) out[j] = static_cast<float>(a[j]);
}

Napi::Value SumRows(const Napi::CallbackInfo& info) {
  const char* k = "sumRows";
  F32View x = ArgF32(info, 0, k, "x");
  F32View out = ArgF32(info, 1, k, "out");
  const size_t rows = ArgDim(info, 2, k, "rows");
  const size_t cols = ArgDim(info, 3, k, "cols");
  RequireLength(info.Env(), k, "x", x.length, Product(info.Env(), k, rows, cols));
  RequireLength(info.Env(), k, "out", out.length, cols);
  SubnormalsFlushed flushed;
  SumRowsKernel(x.data, out.data, rows, cols);
  return info.Env().Undefined();
}

// ***** rows *****
// For samples that share a row of work (AL's target path, which depends only on the label: see
// src/al/label_groups.ts): the shared rows are computed once, gathered out to the samples, and
// the samples' gradients summed back onto them.

// Every index must name a row of a table of `rows`; checked before anything is written.
void RequireRowIndices(const Napi::Env& env, const char* kernel, const int32_t* index, size_t count, size_t rows) {
  for (size_t i = 0; i < count; ++i) {
    if (index[i] < 0 || static_cast<size_t>(index[i]) >= rows) {
      Fail(env, kernel,
           "index[" + std::to_string(i) + "] = " + std::to_string(index[i]) + " is not a row of " +
               std::to_string(rows));
    }
  }
}

// The arguments of both: (in, index, out, rows, cols), with the table [rows, cols] as in (a gather)
// or as out (a scatter-add) and the samples' rows [index.length, cols] as the other; every length
// and index checked.
struct RowArgs {
  F32View in;
  const int32_t* index;
  size_t count;
  F32View out;
  size_t rows;
  size_t cols;
};

RowArgs ArgRows(const Napi::CallbackInfo& info, const char* k, const char* inName, bool tableIn) {
  RowArgs a{};
  a.in = ArgF32(info, 0, k, inName);
  a.index = ArgI32(info, 1, k, "index", &a.count);
  a.out = ArgF32(info, 2, k, "out");
  a.rows = ArgDim(info, 3, k, "rows");
  a.cols = ArgDim(info, 4, k, "cols");
  const size_t table = Product(info.Env(), k, a.rows, a.cols);
  const size_t samples = Product(info.Env(), k, a.count, a.cols);
  RequireLength(info.Env(), k, inName, a.in.length, tableIn ? table : samples);
  RequireLength(info.Env(), k, "out", a.out.length, tableIn ? samples : table);
  RequireRowIndices(info.Env(), k, a.index, a.count, a.rows);
  return a;
}

// out[i, :] = x[index[i], :], x [rows, cols], out [count, cols].
Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  const RowArgs a = ArgRows(info, "gatherRows", "x", true);
  for (size_t i = 0; i < a.count; ++i) {
    std::memcpy(a.out.data + i * a.cols, a.in.data + static_cast<size_t>(a.index[i]) * a.cols, a.cols * sizeof(float));
  }
  return info.Env().Undefined();
}

// out[r, :] = sum over i with index[i] = r of dy[i, :], dy [count, cols], out [rows, cols]
// (overwritten). Summed in float in the order of i, as the reference does, so both agree exactly.
void ScatterAddRowsKernel(const float* __restrict dy, const int32_t* __restrict index, float* __restrict out,
                          size_t count, size_t rows, size_t cols) {
  std::memset(out, 0, rows * cols * sizeof(float));
  for (size_t i = 0; i < count; ++i) {
    float* __restrict o = out + static_cast<size_t>(index[i]) * cols;
    const float* __restrict d = dy + i * cols;
#pragma omp simd
    for (size_t j = 0; j < cols; ++j) o[j] += d[j];
  }
}

Napi::Value ScatterAddRows(const Napi::CallbackInfo& info) {
  const RowArgs a = ArgRows(info, "scatterAddRows", "dy", false);
  SubnormalsFlushed flushed;
  ScatterAddRowsKernel(a.in.data, a.index, a.out.data, a.count, a.rows, a.cols);
  return info.Env().Undefined();
}

// ***** vector updates *****
// out may alias a or b (and axpby's x may be y): every iteration reads and writes only index i,
// so no restrict, and `omp simd` is still valid because exact aliasing carries no dependency
// from one iteration to the next.

void AddKernel(const float* a, const float* b, float* out, size_t n) {
#pragma omp simd
  for (size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

Napi::Value Add(const Napi::CallbackInfo& info) {
  const char* k = "add";
  F32View a = ArgF32(info, 0, k, "a");
  F32View b = ArgF32(info, 1, k, "b");
  F32View out = ArgF32(info, 2, k, "out");
  RequireSame(info.Env(), k, "b", b.length, "a", a.length);
  RequireSame(info.Env(), k, "out", out.length, "a", a.length);
  SubnormalsFlushed flushed;
  AddKernel(a.data, b.data, out.data, a.length);
  return info.Env().Undefined();
}

// y = alpha x + beta y; as in BLAS, beta = 0 overwrites y without reading it (a stale NaN in a
// reused buffer must not survive being zeroed).
void AxpbyKernel(float alpha, const float* x, float beta, float* y, size_t n) {
  if (beta == 0.0f) {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) y[i] = alpha * x[i];
  } else {
#pragma omp simd
    for (size_t i = 0; i < n; ++i) y[i] = alpha * x[i] + beta * y[i];
  }
}

Napi::Value Axpby(const Napi::CallbackInfo& info) {
  const char* k = "axpby";
  const double alpha = ArgNumber(info, 0, k, "alpha");
  F32View x = ArgF32(info, 1, k, "x");
  const double beta = ArgNumber(info, 2, k, "beta");
  F32View y = ArgF32(info, 3, k, "y");
  RequireSame(info.Env(), k, "y", y.length, "x", x.length);
  SubnormalsFlushed flushed;
  AxpbyKernel(static_cast<float>(alpha), x.data, static_cast<float>(beta), y.data, x.length);
  return info.Env().Undefined();
}

// ***** losses *****

// Per row of logits [rows, cols] with label t:
//   e_j = exp(x_j - max),  s = sum_j e_j,  loss_r = max + log(s) - x_t,  grad_j = (e_j / s - [j == t]) / rows
// Returns (1/rows) sum_r loss_r, accumulated in double. std::fmax would drop a NaN, so the max is
// taken by hand to keep it: a NaN logit makes its row's loss and gradient NaN.
// grad may be logits itself: each row reads x_t before any write, and the rest is same-index.
double SoftmaxCrossEntropyKernel(const float* x, const int32_t* __restrict labels, float* grad, size_t rows,
                                 size_t cols) {
  const float invRows = 1.0f / static_cast<float>(rows);
  double total = 0.0;
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    const size_t t = static_cast<size_t>(labels[r]);
    float max = -INFINITY;
    for (size_t j = 0; j < cols; ++j) {
      const float v = row[j];
      if (v != v) {
        max = v;
        break;
      }
      if (v > max) max = v;
    }
    const double xt = row[t];
    double s = 0.0;
    if (grad != nullptr) {
      float* g = grad + r * cols;
      for (size_t j = 0; j < cols; ++j) {
        const float e = std::exp(row[j] - max);
        g[j] = e;
        s += e;
      }
      const float scale = static_cast<float>(1.0 / s) * invRows;
#pragma omp simd
      for (size_t j = 0; j < cols; ++j) g[j] = g[j] * scale;
      g[t] -= invRows;
    } else {
      for (size_t j = 0; j < cols; ++j) s += std::exp(row[j] - max);
    }
    total += static_cast<double>(max) + std::log(s) - xt;
  }
  return total / static_cast<double>(rows);
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  const char* k = "softmaxCrossEntropy";
  F32View logits = ArgF32(info, 0, k, "logits");
  size_t labelsLength = 0;
  const int32_t* labels = ArgI32(info, 1, k, "labels", &labelsLength);
  F32View grad = ArgF32(info, 2, k, "grad", /*nullable=*/true);
  const size_t rows = ArgDim(info, 3, k, "rows");
  const size_t cols = ArgDim(info, 4, k, "cols");
  const size_t numel = Product(info.Env(), k, rows, cols);
  RequireLength(info.Env(), k, "logits", logits.length, numel);
  RequireLength(info.Env(), k, "labels", labelsLength, rows);
  if (grad.data != nullptr) RequireLength(info.Env(), k, "grad", grad.length, numel);
  // All labels are checked before any output is written.
  for (size_t r = 0; r < rows; ++r) {
    const int64_t t = labels[r];
    if (t < 0 || static_cast<uint64_t>(t) >= cols) {
      throw Napi::RangeError::New(info.Env(), std::string(k) + ": row " + std::to_string(r) + " has label " +
                                                  std::to_string(t) + ", outside [0, " + std::to_string(cols) + ")");
    }
  }
  if (rows == 0) return Napi::Number::New(info.Env(), NAN);  // mean of nothing, as 0/0 in the reference
  SubnormalsFlushed flushed;
  return Napi::Number::New(info.Env(), SoftmaxCrossEntropyKernel(logits.data, labels, grad.data, rows, cols));
}

// (1/N) sum (p - t)^2 in double; grad = 2 (p - t) / N.
double MeanSquaredErrorKernel(const float* __restrict p, const float* __restrict t, float* __restrict grad, size_t n) {
  double total = 0.0;
  if (grad != nullptr) {
    const float scale = static_cast<float>(2.0 / static_cast<double>(n));
#pragma omp simd reduction(+ : total)
    for (size_t i = 0; i < n; ++i) {
      const float d = p[i] - t[i];
      grad[i] = scale * d;
      total += static_cast<double>(d) * d;
    }
  } else {
#pragma omp simd reduction(+ : total)
    for (size_t i = 0; i < n; ++i) {
      const float d = p[i] - t[i];
      total += static_cast<double>(d) * d;
    }
  }
  return total / static_cast<double>(n);
}

Napi::Value MeanSquaredError(const Napi::CallbackInfo& info) {
  const char* k = "meanSquaredError";
  F32View pred = ArgF32(info, 0, k, "pred");
  F32View target = ArgF32(info, 1, k, "target");
  F32View grad = ArgF32(info, 2, k, "grad", /*nullable=*/true);
  RequireSame(info.Env(), k, "target", target.length, "pred", pred.length);
  if (grad.data != nullptr) RequireSame(info.Env(), k, "grad", grad.length, "pred", pred.length);
  if (pred.length == 0) return Napi::Number::New(info.Env(), NAN);
  SubnormalsFlushed flushed;
  return Napi::Number::New(info.Env(), MeanSquaredErrorKernel(pred.data, target.data, grad.data, pred.length));
}

// out[r] = first index of the largest x[r, :], or of the first NaN. Scalar on purpose: it runs on
// [batch, classes] once per evaluation batch, and the early exit on NaN defines the answer.
void ArgmaxRowsKernel(const float* __restrict x, int32_t* __restrict out, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * cols;
    size_t best = 0;
    for (size_t j = 0; j < cols; ++j) {
      const float v = row[j];
      if (v != v) {
        best = j;
        break;
      }
      if (v > row[best]) best = j;
    }
    out[r] = static_cast<int32_t>(best);
  }
}

Napi::Value ArgmaxRows(const Napi::CallbackInfo& info) {
  const char* k = "argmaxRows";
  F32View x = ArgF32(info, 0, k, "x");
  size_t outLength = 0;
  int32_t* out = ArgI32(info, 1, k, "out", &outLength);
  const size_t rows = ArgDim(info, 2, k, "rows");
  const size_t cols = ArgDim(info, 3, k, "cols");
  if (cols == 0 && rows > 0) Fail(info.Env(), k, "cols must be >= 1, a row with no entries has no argmax");
  if (cols > 2147483647u) Fail(info.Env(), k, "cols must fit an int32 index");
  RequireLength(info.Env(), k, "x", x.length, Product(info.Env(), k, rows, cols));
  RequireLength(info.Env(), k, "out", outLength, rows);
  ArgmaxRowsKernel(x.data, out, rows, cols);
  return info.Env().Undefined();
}

// ***** optimizers *****

// Adam / AdamW, PyTorch semantics, step t >= 1 (c1 = 1 - b1^t, c2 = 1 - b2^t):
//   decoupled: p *= 1 - lr wd;   coupled L2 (wd > 0): g += wd p
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= (lr / c1) m / (sqrt(v) / sqrt(c2) + eps)
// The decay variant is a template parameter so the loop body has no branch. Scalar coefficients
// (1 - b, lr / c1, ...) are formed in double and rounded once, as PyTorch does: 1 - float(0.999)
// would be 1.3e-5 off 0.001.
enum class Decay { kNone, kL2, kDecoupled };

// Below this many elements a thread team costs more than it saves.
constexpr size_t kParallelMin = size_t{1} << 16;

struct AdamCoefficients {
  float b1, oneMinusB1, b2, oneMinusB2, stepSize, invSqrtC2, eps, wd, shrink;
};

template <Decay kDecay>
void AdamKernel(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, size_t n,
                const AdamCoefficients& c) {
  const float b1 = c.b1, oneMinusB1 = c.oneMinusB1, b2 = c.b2, oneMinusB2 = c.oneMinusB2;
  const float stepSize = c.stepSize, invSqrtC2 = c.invSqrtC2, eps = c.eps, wd = c.wd, shrink = c.shrink;
  // Memory-bound (7 floats moved per element): large tensors are split over the calling thread's
  // OpenMP team, whose size setNumThreads sets. Elementwise, so the result does not depend on it.
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    float pi = p[i];
    float gi = g[i];
    if (kDecay == Decay::kDecoupled) pi *= shrink;
    if (kDecay == Decay::kL2) gi += wd * pi;
    // A moment below the smallest normal float is stored as zero (AdamStep runs flushed, see
    // subnormals.h): a dead ReLU unit decays its m and v geometrically into subnormals. A moment
    // that small moves its parameter by less than stepSize * FLT_MIN / eps (1e-30 of the step at
    // the default eps of 1e-8), so the flush changes no update that counts.
    const float mi = b1 * m[i] + oneMinusB1 * gi;
    const float vi = b2 * v[i] + oneMinusB2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - stepSize * mi / (std::sqrt(vi) * invSqrtC2 + eps);
  }
}

Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const char* k = "adamStep";
  F32View param = ArgF32(info, 0, k, "param");
  F32View grad = ArgF32(info, 1, k, "grad");
  F32View m = ArgF32(info, 2, k, "m");
  F32View v = ArgF32(info, 3, k, "v");
  Napi::Object attrs = ArgObject(info, 4, k, "attrs");
  const double lr = AttrNumber(attrs, k, "lr");
  const double b1 = AttrNumber(attrs, k, "beta1");
  const double b2 = AttrNumber(attrs, k, "beta2");
  const double eps = AttrNumber(attrs, k, "eps");
  const double wd = AttrNumber(attrs, k, "weightDecay");
  const bool decoupled = AttrBool(attrs, k, "decoupled");
  const double step = AttrNumber(attrs, k, "step");
  RequireSame(info.Env(), k, "grad", grad.length, "param", param.length);
  RequireSame(info.Env(), k, "m", m.length, "param", param.length);
  RequireSame(info.Env(), k, "v", v.length, "param", param.length);
  if (!(step >= 1) || step != std::floor(step)) Fail(info.Env(), k, "step must be an integer >= 1");
  const double c1 = 1.0 - std::pow(b1, step);
  const double c2 = 1.0 - std::pow(b2, step);
  const auto f = [](double x) { return static_cast<float>(x); };
  const AdamCoefficients coef{f(b1),  f(1.0 - b1), f(b2),           f(1.0 - b2), f(lr / c1), f(1.0 / std::sqrt(c2)),
                              f(eps), f(wd),       f(1.0 - lr * wd)};
  const size_t n = param.length;
  SignalsHeld held;           // the loop may start OpenMP workers, which must inherit the mask (signals.h)
  SubnormalsFlushed flushed;  // and so must the floating-point mode (subnormals.h)
  if (decoupled) {
    AdamKernel<Decay::kDecoupled>(param.data, grad.data, m.data, v.data, n, coef);
  } else if (wd > 0) {
    AdamKernel<Decay::kL2>(param.data, grad.data, m.data, v.data, n, coef);
  } else {
    AdamKernel<Decay::kNone>(param.data, grad.data, m.data, v.data, n, coef);
  }
  return info.Env().Undefined();
}

// SGD, PyTorch semantics with dampening 0:
//   g += wd p;  if momentum != 0: buf = momentum buf + g,  g = nesterov ? g + momentum buf : buf;  p -= lr g
enum class Momentum { kNone, kClassic, kNesterov };

template <Momentum kMomentum>
void SgdKernel(float* __restrict p, const float* __restrict g, float* __restrict buf, size_t n, float lr,
               float momentum, float wd) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (size_t i = 0; i < n; ++i) {
    float gi = g[i] + wd * p[i];
    if (kMomentum != Momentum::kNone) {
      const float b = momentum * buf[i] + gi;
      buf[i] = b;
      gi = kMomentum == Momentum::kNesterov ? gi + momentum * b : b;
    }
    p[i] -= lr * gi;
  }
}

Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  const char* k = "sgdStep";
  F32View param = ArgF32(info, 0, k, "param");
  F32View grad = ArgF32(info, 1, k, "grad");
  F32View buf = ArgF32(info, 2, k, "momentumBuffer");
  Napi::Object attrs = ArgObject(info, 3, k, "attrs");
  const float lr = static_cast<float>(AttrNumber(attrs, k, "lr"));
  const float momentum = static_cast<float>(AttrNumber(attrs, k, "momentum"));
  const float wd = static_cast<float>(AttrNumber(attrs, k, "weightDecay"));
  const bool nesterov = AttrBool(attrs, k, "nesterov");
  const size_t n = param.length;
  RequireSame(info.Env(), k, "grad", grad.length, "param", param.length);
  SignalsHeld held;           // the loop may start OpenMP workers, which must inherit the mask (signals.h)
  SubnormalsFlushed flushed;  // and so must the floating-point mode (subnormals.h)
  if (momentum == 0.0f) {
    SgdKernel<Momentum::kNone>(param.data, grad.data, nullptr, n, lr, momentum, wd);
    return info.Env().Undefined();
  }
  RequireSame(info.Env(), k, "momentumBuffer", buf.length, "param", param.length);
  if (nesterov) {
    SgdKernel<Momentum::kNesterov>(param.data, grad.data, buf.data, n, lr, momentum, wd);
  } else {
    SgdKernel<Momentum::kClassic>(param.data, grad.data, buf.data, n, lr, momentum, wd);
  }
  return info.Env().Undefined();
}

}  // namespace

void InitOwnKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("sumRows", Napi::Function::New(env, SumRows, "sumRows"));
  exports.Set("add", Napi::Function::New(env, Add, "add"));
  exports.Set("axpby", Napi::Function::New(env, Axpby, "axpby"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  exports.Set("meanSquaredError", Napi::Function::New(env, MeanSquaredError, "meanSquaredError"));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows, "gatherRows"));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows, "scatterAddRows"));
  exports.Set("argmaxRows", Napi::Function::New(env, ArgmaxRows, "argmaxRows"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep, "sgdStep"));
}

}  // namespace al
