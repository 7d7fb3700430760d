// Node-API bindings of the t-SNE core (tsne.h). The TypeScript wrapper (src/analysis/tsne.ts)
// checks arguments and gives the messages meant for people; the checks here guard memory: every
// buffer must hold what the sizes say and every index must point inside the embedding.
//
// The computations fan out over OpenMP threads (the addon's thread count, setNumThreads): unlike
// the training kernels, a t-SNE run is one long job on an otherwise idle process.
#include "tsne.h"

#include <cmath>
#include <string>

#include "common.h"
#include "napi_args.h"

namespace al {
namespace {

constexpr const char* kAffinities = "tsneAffinities";
constexpr const char* kJointP = "tsneJointP";
constexpr const char* kGradient = "tsneGradient";
constexpr const char* kIterate = "tsneIterate";

int32_t* ArgIndices(const Napi::CallbackInfo& info, size_t index, const char* kernel, const char* name, size_t needed) {
  size_t length = 0;
  int32_t* data = ArgI32(info, index, kernel, name, &length);
  RequireLength(info.Env(), kernel, name, length, needed);
  return data;
}

double AttrFinite(const Napi::Object& attrs, const char* kernel, const char* key, double min) {
  const double v = AttrNumber(attrs, kernel, key);
  if (!std::isfinite(v) || v < min) {
    Fail(attrs.Env(), kernel,
         std::string("expected a finite number >= ") + std::to_string(min) + " for attribute " + key + ", got " +
             std::to_string(v));
  }
  return v;
}

// The embedding size: at least two points, so that Z (a sum over pairs) is positive.
int64_t AttrPoints(const Napi::Object& attrs, const char* kernel) {
  const int64_t n = AttrDim(attrs, kernel, "n", 2);
  if (n > (int64_t(1) << 30)) Fail(attrs.Env(), kernel, "n is too large for 32-bit indices");
  return n;
}

// rowPtr [n + 1], non-decreasing from 0, cols within [0, n), both arrays long enough.
SparseP ArgSparseP(const Napi::CallbackInfo& info, size_t first, const char* kernel, int64_t n) {
  const Napi::Env env = info.Env();
  const int32_t* row_ptr = ArgIndices(info, first, kernel, "rowPtr", n + 1);
  size_t cols_length = 0;
  const int32_t* cols = ArgI32(info, first + 1, kernel, "cols", &cols_length);
  F32View vals = ArgF32(info, first + 2, kernel, "vals");
  if (row_ptr[0] != 0) Fail(env, kernel, "rowPtr[0] must be 0");
  for (int64_t i = 0; i < n; ++i) {
    if (row_ptr[i + 1] < row_ptr[i]) Fail(env, kernel, "rowPtr must be non-decreasing");
  }
  const size_t nnz = static_cast<size_t>(row_ptr[n]);
  RequireLength(env, kernel, "cols", cols_length, nnz);
  RequireLength(env, kernel, "vals", vals.length, nnz);
  for (size_t e = 0; e < nnz; ++e) {
    if (cols[e] < 0 || cols[e] >= n) Fail(env, kernel, "cols[" + std::to_string(e) + "] is outside [0, n)");
  }
  return SparseP{row_ptr, cols, vals.data, n};
}

GradientAttrs ArgGradientAttrs(const Napi::Object& attrs, const char* kernel) {
  return GradientAttrs{AttrFinite(attrs, kernel, "theta", 0.0), AttrFinite(attrs, kernel, "exaggeration", 0.0)};
}

Napi::Value Affinities(const Napi::CallbackInfo& info) {
  return Guarded(info, kAffinities, [&]() -> Napi::Value {
    const char* k = kAffinities;
    F32View x = ArgF32(info, 0, k, "x");
    Napi::Object attrs = ArgObject(info, 3, k, "attrs");
    const int64_t n = AttrPoints(attrs, k);
    const int64_t dims = AttrDim(attrs, k, "dims");
    const int64_t neighbours_per_point = AttrDim(attrs, k, "k");
    const double perplexity = AttrFinite(attrs, k, "perplexity", 1.0);
    if (neighbours_per_point >= n) Fail(info.Env(), k, "k must be below n");
    RequireLength(info.Env(), k, "x", x.length, n * dims);
    int32_t* neighbours = ArgIndices(info, 1, k, "neighbours", n * neighbours_per_point);
    F32View cond_p = ArgF32(info, 2, k, "condP");
    RequireLength(info.Env(), k, "condP", cond_p.length, n * neighbours_per_point);
    TsneAffinities(x.data, n, dims, neighbours_per_point, perplexity, neighbours, cond_p.data);
    return info.Env().Undefined();
  });
}

Napi::Value JointP(const Napi::CallbackInfo& info) {
  return Guarded(info, kJointP, [&]() -> Napi::Value {
    const char* k = kJointP;
    const Napi::Env env = info.Env();
    Napi::Object attrs = ArgObject(info, 5, k, "attrs");
    const int64_t n = AttrPoints(attrs, k);
    const int64_t per_point = AttrDim(attrs, k, "k");
    if (per_point >= n) Fail(env, k, "k must be below n");
    const int64_t capacity = 2 * n * per_point;
    if (capacity > INT32_MAX) Fail(env, k, "2 n k is too large for 32-bit indices");
    const int32_t* neighbours = ArgIndices(info, 0, k, "neighbours", n * per_point);
    for (int64_t e = 0; e < n * per_point; ++e) {
      if (neighbours[e] < 0 || neighbours[e] >= n)
        Fail(env, k, "neighbours[" + std::to_string(e) + "] is outside [0, n)");
    }
    F32View cond_p = ArgF32(info, 1, k, "condP");
    RequireLength(env, k, "condP", cond_p.length, n * per_point);
    int32_t* row_ptr = ArgIndices(info, 2, k, "rowPtr", n + 1);
    int32_t* cols = ArgIndices(info, 3, k, "cols", capacity);
    F32View vals = ArgF32(info, 4, k, "vals");
    RequireLength(env, k, "vals", vals.length, capacity);
    const int64_t nnz = TsneJointP(neighbours, cond_p.data, n, per_point, row_ptr, cols, vals.data);
    return Napi::Number::New(env, static_cast<double>(nnz));
  });
}

Napi::Value Gradient(const Napi::CallbackInfo& info) {
  return Guarded(info, kGradient, [&]() -> Napi::Value {
    const char* k = kGradient;
    Napi::Object attrs = ArgObject(info, 5, k, "attrs");
    const int64_t n = AttrPoints(attrs, k);
    F32View y = ArgF32(info, 0, k, "y");
    RequireLength(info.Env(), k, "y", y.length, 2 * n);
    const SparseP p = ArgSparseP(info, 1, k, n);
    F32View grad = ArgF32(info, 4, k, "grad");
    RequireLength(info.Env(), k, "grad", grad.length, 2 * n);
    const double kl = TsneGradient(y.data, p, ArgGradientAttrs(attrs, k), grad.data);
    return Napi::Number::New(info.Env(), kl);
  });
}

Napi::Value Iterate(const Napi::CallbackInfo& info) {
  return Guarded(info, kIterate, [&]() -> Napi::Value {
    const char* k = kIterate;
    const Napi::Env env = info.Env();
    Napi::Object attrs = ArgObject(info, 6, k, "attrs");
    const int64_t n = AttrPoints(attrs, k);
    F32View y = ArgF32(info, 0, k, "y");
    F32View update = ArgF32(info, 1, k, "update");
    F32View gains = ArgF32(info, 2, k, "gains");
    RequireLength(env, k, "y", y.length, 2 * n);
    RequireLength(env, k, "update", update.length, 2 * n);
    RequireLength(env, k, "gains", gains.length, 2 * n);
    const SparseP p = ArgSparseP(info, 3, k, n);
    IterateAttrs a;
    a.gradient = ArgGradientAttrs(attrs, k);
    a.iterations = AttrDim(attrs, k, "iterations", 1);
    a.momentum = AttrFinite(attrs, k, "momentum", 0.0);
    a.learning_rate = AttrFinite(attrs, k, "learningRate", 0.0);
    a.min_gain = AttrFinite(attrs, k, "minGain", 0.0);
    const double kl = TsneIterate(y.data, update.data, gains.data, p, a);
    return Napi::Number::New(env, kl);
  });
}

}  // namespace

void InitTsne(Napi::Env env, Napi::Object exports) {
  exports.Set(kAffinities, Napi::Function::New(env, Affinities, kAffinities));
  exports.Set(kJointP, Napi::Function::New(env, JointP, kJointP));
  exports.Set(kGradient, Napi::Function::New(env, Gradient, kGradient));
  exports.Set(kIterate, Napi::Function::New(env, Iterate, kIterate));
}

}  // namespace al
