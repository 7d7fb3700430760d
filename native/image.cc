// The CIFAR training augmentation (Backend.augmentImages), with the semantics of the reference
// backend (src/backend/reference/image.ts): per image, crop of the zero-padded image, optional
// left-right mirror, brightness delta, per-channel contrast, per-image standardisation.
//
// Three passes over each image, all in the output buffer: (1) copy the cropped, mirrored window
// plus the brightness delta, summing each channel; (2) contrast, summing values and squares;
// (3) standardise. Sums are in double, values in float. It runs on the calling thread, one image
// after another: a batch takes well under a millisecond, far below a training step, and a thread
// team here would compete with the step's own.
#include "image.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "napi_args.h"

namespace al {
namespace {

struct ImageShape {
  size_t h, w, c, pad;
};

void AugmentOne(const float* __restrict x, float* __restrict y, const ImageShape& s, int64_t top, int64_t left,
                bool flip, float delta, float factor, std::vector<double>& channelSum) {
  const size_t h = s.h, w = s.w, c = s.c;
  const int64_t pad = static_cast<int64_t>(s.pad);
  const size_t size = h * w * c;
  channelSum.assign(c, 0.0);
  double* sum = channelSum.data();

  // (1) y[r, col] = padded(x)[r + top, col' + left] + delta, col' = mirrored col.
  for (size_t r = 0; r < h; ++r) {
    const int64_t sr = static_cast<int64_t>(r) + top - pad;
    float* out = y + r * w * c;
    const bool rowInside = sr >= 0 && sr < static_cast<int64_t>(h);
    for (size_t col = 0; col < w; ++col) {
      const int64_t mirrored = flip ? static_cast<int64_t>(w - 1 - col) : static_cast<int64_t>(col);
      const int64_t sc = mirrored + left - pad;
      float* px = out + col * c;
      if (rowInside && sc >= 0 && sc < static_cast<int64_t>(w)) {
        const float* in = x + (static_cast<size_t>(sr) * w + static_cast<size_t>(sc)) * c;
        for (size_t ch = 0; ch < c; ++ch) {
          px[ch] = in[ch] + delta;
          sum[ch] += px[ch];
        }
      } else {
        for (size_t ch = 0; ch < c; ++ch) {
          px[ch] = delta;
          sum[ch] += delta;
        }
      }
    }
  }

  // (2) contrast: v = (v - mean_c) * factor + mean_c.
  const double pixels = static_cast<double>(h * w);
  std::vector<float> channelMean(c);
  for (size_t ch = 0; ch < c; ++ch) channelMean[ch] = static_cast<float>(sum[ch] / pixels);
  double total = 0.0, squares = 0.0;
  for (size_t p = 0; p < h * w; ++p) {
    float* px = y + p * c;
    for (size_t ch = 0; ch < c; ++ch) {
      const float m = channelMean[ch];
      const float v = (px[ch] - m) * factor + m;
      px[ch] = v;
      total += v;
      squares += static_cast<double>(v) * v;
    }
  }

  // (3) standardise: (v - mean) / max(std, 1/sqrt(size)).
  const double n = static_cast<double>(size);
  const double mean = total / n;
  const double variance = std::fmax(squares / n - mean * mean, 0.0);
  const float scale = static_cast<float>(1.0 / std::fmax(std::sqrt(variance), 1.0 / std::sqrt(n)));
  const float shift = static_cast<float>(mean);
#pragma omp simd
  for (size_t p = 0; p < size; ++p) y[p] = (y[p] - shift) * scale;
}

}  // namespace

Napi::Value AugmentImages(const Napi::CallbackInfo& info) {
  const char* k = "augmentImages";
  Napi::Env env = info.Env();
  F32View x = ArgF32(info, 0, k, "x");
  size_t cropLength = 0;
  const int32_t* crop = ArgI32(info, 1, k, "crop", &cropLength);
  F32View adjust = ArgF32(info, 2, k, "adjust");
  F32View y = ArgF32(info, 3, k, "y");
  Napi::Object attrs = ArgObject(info, 4, k, "attrs");
  const size_t n = static_cast<size_t>(AttrDim(attrs, k, "n", 0));
  const ImageShape s{static_cast<size_t>(AttrDim(attrs, k, "h", 0)), static_cast<size_t>(AttrDim(attrs, k, "w", 0)),
                     static_cast<size_t>(AttrDim(attrs, k, "c", 0)), static_cast<size_t>(AttrDim(attrs, k, "pad", 0))};
  size_t size = 0, total = 0;
  if (__builtin_mul_overflow(s.h * s.w, s.c, &size) || __builtin_mul_overflow(size, n, &total)) {
    Fail(env, k, "n * h * w * c overflows");
  }
  RequireLength(env, k, "x", x.length, total);
  RequireLength(env, k, "y", y.length, total);
  RequireLength(env, k, "crop", cropLength, 3 * n);
  RequireLength(env, k, "adjust", adjust.length, 2 * n);
  // Every draw is checked before any output is written: an offset outside the padded image would read out of bounds.
  const int64_t span = 2 * static_cast<int64_t>(s.pad);
  for (size_t i = 0; i < n; ++i) {
    const int64_t top = crop[3 * i], left = crop[3 * i + 1], flip = crop[3 * i + 2];
    if (top < 0 || top > span || left < 0 || left > span) {
      throw Napi::RangeError::New(env, std::string(k) + ": image " + std::to_string(i) + ": crop offsets (" +
                                           std::to_string(top) + ", " + std::to_string(left) + ") outside 0.." +
                                           std::to_string(span));
    }
    if (flip != 0 && flip != 1) {
      throw Napi::RangeError::New(
          env, std::string(k) + ": image " + std::to_string(i) + ": flip must be 0 or 1, got " + std::to_string(flip));
    }
  }
  if (size == 0) return env.Undefined();
  std::vector<double> channelSum;
  for (size_t i = 0; i < n; ++i) {
    AugmentOne(x.data + i * size, y.data + i * size, s, crop[3 * i], crop[3 * i + 1], crop[3 * i + 2] == 1,
               adjust.data[2 * i], adjust.data[2 * i + 1], channelSum);
  }
  return env.Undefined();
}

}  // namespace al
