// Barnes–Hut t-SNE (van der Maaten 2014, "Accelerating t-SNE using tree-based algorithms", JMLR
// 15; the method itself: van der Maaten & Hinton 2008, "Visualizing Data using t-SNE", JMLR 9).
//
// The work is split into stateless steps over caller-owned buffers, so TypeScript holds the whole
// state (embedding, update, gains, the sparse P) and can run the descent in chunks (progress bars,
// Ctrl-C) with a result that does not depend on how the iterations were chunked:
//   1. Affinities: exact k nearest neighbours (blocked Gram products through oneDNN) and, per
//      point, the Gaussian bandwidth whose conditional distribution p_{j|i} has the requested
//      perplexity (tsne_affinities.cc).
//   2. JointP: the symmetrised joint P_ij = (p_{j|i} + p_{i|j}) / 2n as a CSR matrix.
//   3. Gradient / Iterate: the KL gradient with exact attractive forces over P's non-zeros and
//      repulsive forces from a quadtree (tsne_gradient.cc); Iterate adds the momentum and gains
//      update.
// All results are deterministic for given inputs and independent of the thread count: threads
// only split per-point work, and every cross-point sum is taken serially in a fixed order.
#ifndef AL_NATIVE_TSNE_H_
#define AL_NATIVE_TSNE_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace al {

// ***** the C++ core (no Node-API) *****

// x [n, dims] row-major. Writes neighbours [n, k] (ascending distance, ties by index, never the
// point itself) and cond_p [n, k], p_{j|i} for those neighbours (rows sum to 1). Squared
// Euclidean distances, as in the papers.
void TsneAffinities(const float* x, int64_t n, int64_t dims, int64_t k, double perplexity, int32_t* neighbours,
                    float* cond_p);

// Symmetrises the k-NN conditionals into CSR: row_ptr [n + 1], cols and vals with room for 2nk
// entries, columns ascending within a row, values summing to 1. Returns the number of non-zeros.
int64_t TsneJointP(const int32_t* neighbours, const float* cond_p, int64_t n, int64_t k, int32_t* row_ptr,
                   int32_t* cols, float* vals);

// Sparse joint P in CSR form (validated by the caller).
struct SparseP {
  const int32_t* row_ptr;
  const int32_t* cols;
  const float* vals;
  int64_t n;
};

struct GradientAttrs {
  double theta;         // Barnes–Hut accuracy: 0 is exact
  double exaggeration;  // multiplies P in the attractive term
};

// grad [n, 2] = dC/dy for y [n, 2]. Returns KL(P || Q) at y (P without exaggeration, Z from the
// same tree, so approximate when theta > 0).
double TsneGradient(const float* y, const SparseP& p, const GradientAttrs& attrs, float* grad);

struct IterateAttrs {
  GradientAttrs gradient;
  int64_t iterations;
  double momentum;
  double learning_rate;
  double min_gain;
};

// `iterations` steps of gradient descent with momentum and per-coordinate gains (Jacobs' delta-
// bar-delta), updating y, update and gains [n, 2] in place and re-centring y. Returns the KL at
// the start of the last step.
double TsneIterate(float* y, float* update, float* gains, const SparseP& p, const IterateAttrs& attrs);

// ***** the addon's exports (tsne.cc) *****

// tsneAffinities(x, neighbours, condP, {n, dims, k, perplexity})
// tsneJointP(neighbours, condP, rowPtr, cols, vals, {n, k}) -> nnz
// tsneGradient(y, rowPtr, cols, vals, grad, {n, theta, exaggeration}) -> KL
// tsneIterate(y, update, gains, rowPtr, cols, vals, {n, iterations, theta, exaggeration, momentum,
//             learningRate, minGain}) -> KL
void InitTsne(Napi::Env env, Napi::Object exports);

}  // namespace al

#endif  // AL_NATIVE_TSNE_H_
