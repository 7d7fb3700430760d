// t-SNE input affinities: exact k nearest neighbours, the perplexity calibration of each point's
// Gaussian, and the symmetrised sparse joint distribution P (van der Maaten 2014, section 4.1).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "common.h"
#include "tsne.h"

namespace al {
namespace {

// ***** exact k nearest neighbours *****
// ||a - b||^2 = ||a||^2 + ||b||^2 - 2 a.b, with the Gram products a.b of a block of rows against
// all points taken as one oneDNN matmul. The data are centred first: the expansion subtracts
// large numbers when the points sit far from the origin, and centring keeps the norms as small
// as the spread of the data allows. Exact search is O(n^2 dims); at 5,000 MNIST images that is
// about 2e10 multiply-adds (a second or two here), and it stays practical to a few 10^4 points.

// Rows of the distance block: about 16 MB of float32 products, whatever n is.
int64_t BlockRows(int64_t n) { return std::clamp<int64_t>((int64_t(1) << 22) / n, 16, 1024); }

struct GramProduct {
  Prim prim;
  Bound a, b, c;
  // a [rows, dims] (a block of x) times x^T: x is [n, dims] read with strides (1, dims).
  GramProduct(int64_t rows, int64_t n, int64_t width) {
    using md = dnnl::memory::desc;
    md a_md({rows, width}, dt::f32, dims{width, 1});
    md b_md({width, n}, dt::f32, dims{1, width});
    md c_md({rows, n}, dt::f32, dims{n, 1});
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), UserScratchpadAttr(), Engine());
    prim = Prim(dnnl::matmul(pd), pd.scratchpad_desc());
    a = Bound(a_md);
    b = Bound(b_md);
    c = Bound(c_md);
  }
  void Run(const float* block, const float* x, float* out) {
    Execute(prim, {{DNNL_ARG_SRC, a.At(block)}, {DNNL_ARG_WEIGHTS, b.At(x)}, {DNNL_ARG_DST, c.At(out)}});
  }
};

std::vector<float> Centred(const float* x, int64_t n, int64_t dims) {
  std::vector<double> mean(dims, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t d = 0; d < dims; ++d) mean[d] += x[i * dims + d];
  }
  for (double& m : mean) m /= static_cast<double>(n);
  std::vector<float> out(static_cast<size_t>(n * dims));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t d = 0; d < dims; ++d) out[i * dims + d] = static_cast<float>(x[i * dims + d] - mean[d]);
  }
  return out;
}

// (squared distance, index): ordering by both makes ties between equidistant points resolve the
// same way on every run.
using Candidate = std::pair<float, int32_t>;

// The k smallest of row i's squared distances, ascending, skipping i itself.
void SelectNearest(const float* gram_row, const double* norms, int64_t n, int64_t i, int64_t k,
                   std::vector<Candidate>& heap, int32_t* neighbours, float* dist2) {
  heap.clear();
  const double ni = norms[i];
  for (int64_t j = 0; j < n; ++j) {
    if (j == i) continue;
    const float d = static_cast<float>(std::max(0.0, ni + norms[j] - 2.0 * gram_row[j]));
    const Candidate c{d, static_cast<int32_t>(j)};
    if (static_cast<int64_t>(heap.size()) < k) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end());
    } else if (c < heap.front()) {
      std::pop_heap(heap.begin(), heap.end());
      heap.back() = c;
      std::push_heap(heap.begin(), heap.end());
    }
  }
  std::sort_heap(heap.begin(), heap.end());
  for (int64_t t = 0; t < k; ++t) {
    dist2[t] = heap[t].first;
    neighbours[t] = heap[t].second;
  }
}

void KNearest(const float* x, int64_t n, int64_t dims, int64_t k, int32_t* neighbours, float* dist2) {
  const std::vector<float> xc = Centred(x, n, dims);
  std::vector<double> norms(n);
  for (int64_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (int64_t d = 0; d < dims; ++d) s += static_cast<double>(xc[i * dims + d]) * xc[i * dims + d];
    norms[i] = s;
  }
  const int64_t block = std::min(BlockRows(n), n);
  std::vector<float> gram(static_cast<size_t>(block * n));
  GramProduct full(block, n, dims);
  for (int64_t r0 = 0; r0 < n; r0 += block) {
    const int64_t rows = std::min(block, n - r0);
    if (rows == block) {
      full.Run(xc.data() + r0 * dims, xc.data(), gram.data());
    } else {
      GramProduct(rows, n, dims).Run(xc.data() + r0 * dims, xc.data(), gram.data());
    }
#pragma omp parallel
    {
      std::vector<Candidate> heap;
      heap.reserve(k);
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = r0 + r;
        SelectNearest(gram.data() + r * n, norms.data(), n, i, k, heap, neighbours + i * k, dist2 + i * k);
      }
    }
  }
}

// ***** perplexity calibration *****
// p_{j|i} = exp(-beta_i d_ij^2) / sum_l exp(-beta_i d_il^2) over i's k neighbours, with beta_i
// found by bisection so that the entropy H_i = -sum_j p_{j|i} ln p_{j|i} equals ln(perplexity)
// (perplexity = 2^H in bits = e^H in nats). Distances enter relative to the nearest one, which
// leaves p unchanged and keeps exp() from underflowing for every neighbour at once.

constexpr double kEntropyTolerance = 1e-6;  // nats; perplexity to a relative 1e-6
constexpr int kMaxBisections = 200;

void CalibrateRow(const float* dist2, int64_t k, double perplexity, float* p) {
  const double target = std::log(perplexity);
  const double nearest = dist2[0];
  double spread = 0.0;
  for (int64_t j = 0; j < k; ++j) spread += dist2[j] - nearest;
  spread /= static_cast<double>(k);
  // Start where beta * distance is of order one, so the bisection starts close on any data scale.
  double beta = spread > 0.0 ? 1.0 / spread : 1.0;
  double lo = 0.0;
  double hi = std::numeric_limits<double>::infinity();
  std::vector<double> e(k);
  double sum = 1.0;
  for (int step = 0; step < kMaxBisections; ++step) {
    sum = 0.0;
    double weighted = 0.0;
    for (int64_t j = 0; j < k; ++j) {
      const double delta = dist2[j] - nearest;
      e[j] = std::exp(-beta * delta);
      sum += e[j];
      weighted += delta * e[j];
    }
    const double entropy = std::log(sum) + beta * weighted / sum;
    if (std::fabs(entropy - target) < kEntropyTolerance) break;
    if (entropy > target) {  // too flat: narrow the Gaussian
      lo = beta;
      beta = std::isinf(hi) ? beta * 2.0 : 0.5 * (lo + hi);
    } else {
      hi = beta;
      beta = lo == 0.0 ? beta * 0.5 : 0.5 * (lo + hi);
    }
  }
  // A perplexity below what ties among the nearest allow ends at the closest reachable value.
  for (int64_t j = 0; j < k; ++j) p[j] = static_cast<float>(e[j] / sum);
}

}  // namespace

void TsneAffinities(const float* x, int64_t n, int64_t dims, int64_t k, double perplexity, int32_t* neighbours,
                    float* cond_p) {
  std::vector<float> dist2(static_cast<size_t>(n * k));
  KNearest(x, n, dims, k, neighbours, dist2.data());
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) CalibrateRow(dist2.data() + i * k, k, perplexity, cond_p + i * k);
}

// ***** symmetrised joint P *****
// P_ij = (p_{j|i} + p_{i|j}) / 2n on the union of the k-NN graph and its transpose: each
// directed edge i -> j lands in row i and in row j, and the two halves of a mutual pair meet in
// the merge. Serial: O(nk log k), a few milliseconds at n = 5,000.

int64_t TsneJointP(const int32_t* neighbours, const float* cond_p, int64_t n, int64_t k, int32_t* row_ptr,
                   int32_t* cols, float* vals) {
  std::vector<int64_t> start(n + 1, 0);
  for (int64_t i = 0; i < n; ++i) {
    start[i + 1] += k;
    for (int64_t t = 0; t < k; ++t) start[neighbours[i * k + t] + 1] += 1;
  }
  for (int64_t i = 0; i < n; ++i) start[i + 1] += start[i];
  std::vector<std::pair<int32_t, float>> entries(static_cast<size_t>(start[n]));
  std::vector<int64_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t t = 0; t < k; ++t) {
      const int32_t j = neighbours[i * k + t];
      const float v = cond_p[i * k + t];
      entries[fill[i]++] = {j, v};
      entries[fill[j]++] = {static_cast<int32_t>(i), v};
    }
  }
  const double scale = 1.0 / (2.0 * static_cast<double>(n));
  int64_t nnz = 0;
  row_ptr[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto first = entries.begin() + start[i];
    auto last = entries.begin() + start[i + 1];
    std::sort(first, last, [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = first; it != last;) {
      const int32_t col = it->first;
      double v = 0.0;
      for (; it != last && it->first == col; ++it) v += static_cast<double>(it->second);
      cols[nnz] = col;
      vals[nnz] = static_cast<float>(v * scale);
      ++nnz;
    }
    row_ptr[i + 1] = static_cast<int32_t>(nnz);
  }
  return nnz;
}

}  // namespace al
