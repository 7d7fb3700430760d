// Normal draws for weight initialisation, step for step those of src/tensor/rng.ts
// (xoshiro128** and Marsaglia's polar method, in double precision, each value stored to float32),
// so a seed fills a tensor with the same numbers on either backend. (glibc's log and V8's Math.log
// may differ in a double's last bit, which reaches a float32 only when it sits on a rounding
// boundary: test/native/random.test.ts finds none in a million draws.) A network's initialisation
// draws tens of millions of them: in TypeScript that took seconds at every start, and again in
// every pipeline stage that builds its layers.
//
// The build is ISO C++17, under which GCC does not contract a * b + c into a fused
// multiply-add, so u * u + v * v rounds as it does in JavaScript.
#include "random.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "napi_args.h"

namespace al {
namespace {

inline uint32_t Rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

struct Xoshiro128 {
  uint32_t* s;

  uint32_t NextUint32() {
    const uint32_t result = Rotl(s[1] * 5u, 7) * 9u;
    const uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = Rotl(s[3], 11);
    return result;
  }

  double Next() { return static_cast<double>(NextUint32()) / 4294967296.0; }
};

// normalFill(out: Float32Array, state: Uint32Array(4), scale: number) -> number
// Fills out[i] = normal() * scale, advancing state; returns the unused second value of the last
// pair (unscaled) for the caller's next normal(), or NaN when none is left.
Napi::Value NormalFill(const Napi::CallbackInfo& info) {
  const char* k = "normalFill";
  F32View out = ArgF32(info, 0, k, "out");
  void* data = nullptr;
  size_t words = 0;
  if (!TypedArrayArg(info, 1, napi_uint32_array, &data, &words) || words != 4) {
    Fail(info.Env(), k, "expected a Uint32Array of 4 words for state");
  }
  const double scale = ArgNumber(info, 2, k, "scale");
  Xoshiro128 rng{static_cast<uint32_t*>(data)};
  double spare = std::numeric_limits<double>::quiet_NaN();
  bool haveSpare = false;
  for (size_t i = 0; i < out.length; i++) {
    if (haveSpare) {
      out.data[i] = static_cast<float>(spare * scale);
      haveSpare = false;
      continue;
    }
    for (;;) {
      const double u = 2 * rng.Next() - 1;
      const double v = 2 * rng.Next() - 1;
      const double s = u * u + v * v;
      if (s > 0 && s < 1) {
        const double f = std::sqrt((-2 * std::log(s)) / s);
        spare = v * f;
        haveSpare = true;
        out.data[i] = static_cast<float>(u * f * scale);
        break;
      }
    }
  }
  return Napi::Number::New(info.Env(), haveSpare ? spare : std::numeric_limits<double>::quiet_NaN());
}

}  // namespace

void InitRandom(Napi::Env env, Napi::Object exports) {
  exports.Set("normalFill", Napi::Function::New(env, NormalFill, "normalFill"));
}

}  // namespace al
