// The t-SNE gradient with Barnes–Hut repulsion, and the descent steps built on it.
//
// With w_ij = 1 / (1 + ||y_i - y_j||^2), Z = sum_{k != l} w_kl and q_ij = w_ij / Z, the gradient of
// C = KL(P || Q) splits into an attractive and a repulsive part (van der Maaten 2014, eq. 3-5):
//   dC/dy_i = 4 (alpha F_attr,i - F_rep,i),
//   F_attr,i = sum_j P_ij w_ij (y_i - y_j)        (exact, over the non-zeros of the sparse P)
//   F_rep,i  = (1/Z) sum_j w_ij^2 (y_i - y_j)    (Barnes–Hut, together with Z)
// where alpha is the early exaggeration. Barnes–Hut replaces the points of a quadtree cell by
// their centre of mass y_cell when the cell looks small from y_i: r_cell / ||y_i - y_cell|| < theta.
// We take r_cell as the cell's side (the diagonal would only rescale theta by sqrt 2), and never
// summarise a cell that contains y_i, so that no theta can fold a point's self-interaction into
// the sum. theta = 0 opens every cell and gives the exact O(n^2) gradient.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tsne.h"

namespace al {
namespace {

// ***** quadtree *****
// Built as a pointer tree (nodes in one vector, linked by index; a leaf holds a short list of
// points, or any number once splitting can no longer separate them), then flattened in
// depth-first order into compact cells that each know where their subtree ends. A traversal is
// then a forward scan that either steps into a cell (next index) or past it (its `skip`), with no
// stack, and the points of every subtree are one contiguous range of ranks, so "does this cell
// hold point i" is a range test on i's rank.

constexpr int kMaxDepth = 40;
// Points a leaf holds before it splits. Small leaves of nearby points cost a few direct terms
// where single-point leaves would cost a walk through several more cells.
constexpr int32_t kLeafCapacity = 8;

class QuadTree {
 public:
  // theta enters as each cell's opening distance, so the traversal needs no division.
  void Build(const float* y, int64_t n, double theta) {
    y_ = y;
    nodes_.clear();
    next_.assign(n, -1);
    double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
    double max_x = -min_x, max_y = -min_x;
    for (int64_t i = 0; i < n; ++i) {
      min_x = std::min<double>(min_x, y[2 * i]);
      max_x = std::max<double>(max_x, y[2 * i]);
      min_y = std::min<double>(min_y, y[2 * i + 1]);
      max_y = std::max<double>(max_y, y[2 * i + 1]);
    }
    // A little margin keeps the extreme points strictly inside the root cell.
    Node root;
    root.half = 0.5 * std::max(max_x - min_x, max_y - min_y) * (1.0 + 1e-6) + 1e-12;
    root.centre_x = 0.5 * (min_x + max_x);
    root.centre_y = 0.5 * (min_y + max_y);
    nodes_.push_back(root);
    for (int64_t i = 0; i < n; ++i) Insert(static_cast<int32_t>(i), y[2 * i], y[2 * i + 1]);

    cells_.clear();
    order_.clear();
    rank_.resize(n);
    sorted_.resize(2 * n);
    inv_theta2_ = theta > 0.0 ? 1.0 / (theta * theta) : std::numeric_limits<double>::infinity();
    Flatten(0);
  }

  // Points in depth-first order: neighbours in the plane are close in this order, so traversing
  // in it keeps successive traversals in the same cells.
  const std::vector<int32_t>& order() const { return order_; }

  // Sum over j != i of w_ij (returned) and of w_ij^2 (y_i - y_j) (into force).
  double Repulsion(int32_t i, double force[2]) const {
    const int32_t me = rank_[i];
    const float xi = y_[2 * i], yi = y_[2 * i + 1];
    const int32_t cells = static_cast<int32_t>(cells_.size());
    const float* sorted = sorted_.data();
    double z = 0.0, fx = 0.0, fy = 0.0;
    for (int32_t at = 0; at < cells;) {
      const Cell& c = cells_[at];
      const float dx = xi - c.com_x, dy = yi - c.com_y;
      const float d2 = dx * dx + dy * dy;
      if (d2 > c.open_d2 && (me < c.begin || me >= c.end)) {  // far enough: one summary term
        const float w = 1.0f / (1.0f + d2);
        const float mw = c.count * w;
        z += mw;
        fx += mw * w * dx;
        fy += mw * w * dy;
        at = c.skip;
      } else if (c.skip == at + 1) {  // an open leaf: its points one by one
        for (int32_t r = c.begin; r < c.end; ++r) {
          if (r == me) continue;
          const float ex = xi - sorted[2 * r], ey = yi - sorted[2 * r + 1];
          const float w = 1.0f / (1.0f + ex * ex + ey * ey);
          z += w;
          fx += w * w * ex;
          fy += w * w * ey;
        }
        at = c.skip;
      } else {
        at += 1;
      }
    }
    force[0] = fx;
    force[1] = fy;
    return z;
  }

 private:
  struct Node {
    double sum_x = 0.0, sum_y = 0.0;                    // sums of the points' coordinates
    double centre_x = 0.0, centre_y = 0.0, half = 0.0;  // the cell: a square of side 2 * half
    int32_t count = 0;
    int32_t child[4] = {-1, -1, -1, -1};
    int32_t first = -1;  // head of a leaf's point list (linked through next_)
    bool leaf = true;
  };

  // 32 bytes: two to a cache line.
  struct Cell {
    float com_x, com_y;  // centre of mass
    float open_d2;       // summarised when ||y_i - com||^2 > open_d2 = (side / theta)^2
    float count;
    int32_t skip;        // the index just past this cell's subtree
    int32_t begin, end;  // the subtree's points: ranks [begin, end)
    int32_t unused;
  };

  int32_t Child(int32_t at, int quadrant) {
    if (nodes_[at].child[quadrant] < 0) {
      Node c;
      c.half = 0.5 * nodes_[at].half;
      c.centre_x = nodes_[at].centre_x + ((quadrant & 1) ? c.half : -c.half);
      c.centre_y = nodes_[at].centre_y + ((quadrant & 2) ? c.half : -c.half);
      nodes_.push_back(c);  // may reallocate: no reference into nodes_ lives across this
      nodes_[at].child[quadrant] = static_cast<int32_t>(nodes_.size() - 1);
    }
    return nodes_[at].child[quadrant];
  }

  static int Quadrant(const Node& node, double x, double y) {
    return (x >= node.centre_x ? 1 : 0) | (y >= node.centre_y ? 2 : 0);
  }

  void Insert(int32_t point, double x, double y) {
    int32_t at = 0;
    for (int depth = 0;; ++depth) {
      Node& node = nodes_[at];
      node.count += 1;
      node.sum_x += x;
      node.sum_y += y;
      if (node.leaf && (node.count <= kLeafCapacity || depth >= kMaxDepth)) {
        next_[point] = node.first;
        node.first = point;
        return;
      }
      if (node.leaf) {  // split: the residents move one level down, the new point follows
        int32_t resident = node.first;
        node.first = -1;
        node.leaf = false;
        while (resident >= 0) {
          const int32_t following = next_[resident];
          const double rx = y_[2 * resident], ry = y_[2 * resident + 1];
          const int32_t c = Child(at, Quadrant(nodes_[at], rx, ry));
          Node& child = nodes_[c];
          child.count += 1;
          child.sum_x += rx;
          child.sum_y += ry;
          next_[resident] = child.first;
          child.first = resident;
          resident = following;
        }
      }
      at = Child(at, Quadrant(nodes_[at], x, y));
    }
  }

  // Depth-first, children in quadrant order; recursion depth is at most kMaxDepth + 1.
  void Flatten(int32_t at) {
    const int32_t index = static_cast<int32_t>(cells_.size());
    const Node& node = nodes_[at];
    const double side2 = 4.0 * node.half * node.half;
    Cell cell;
    cell.com_x = static_cast<float>(node.sum_x / node.count);
    cell.com_y = static_cast<float>(node.sum_y / node.count);
    cell.open_d2 = static_cast<float>(side2 * inv_theta2_);
    cell.count = static_cast<float>(node.count);
    cell.begin = static_cast<int32_t>(order_.size());
    cell.unused = 0;
    cells_.push_back(cell);
    if (node.leaf) {
      for (int32_t j = node.first; j >= 0; j = next_[j]) {
        rank_[j] = static_cast<int32_t>(order_.size());
        sorted_[2 * order_.size()] = y_[2 * j];
        sorted_[2 * order_.size() + 1] = y_[2 * j + 1];
        order_.push_back(j);
      }
    } else {
      const int32_t children[4] = {node.child[0], node.child[1], node.child[2], node.child[3]};
      for (int32_t c : children) {
        if (c >= 0) Flatten(c);
      }
    }
    cells_[index].end = static_cast<int32_t>(order_.size());
    cells_[index].skip = static_cast<int32_t>(cells_.size());
  }

  const float* y_ = nullptr;
  std::vector<Node> nodes_;
  std::vector<int32_t> next_;  // leaf lists
  double inv_theta2_ = 0.0;
  std::vector<Cell> cells_;
  std::vector<int32_t> order_;  // rank -> point
  std::vector<int32_t> rank_;   // point -> rank
  std::vector<float> sorted_;   // [n, 2] positions by rank
};

// ***** gradient *****

// Below this many points a step takes well under a millisecond, and a thread team costs more than
// it saves: on a shared, loaded machine every step's closing barrier waits for whichever thread
// the OS has parked (measured here at load 7 on 2 cores: n = 400, 300 steps, 0.25 s on one
// thread, 2.3 s on two).
constexpr int64_t kParallelMinPoints = 2048;

// Per point, written by the parallel loop and summed serially in index order, so that no total
// depends on the thread count or the schedule.
struct Workspace {
  QuadTree tree;
  std::vector<double> z, repulsion, attraction, kl, p_sum;
};

// sum_j P_ij w_ij (y_i - y_j) over row i of P. Written for the vectoriser (gathers of y_j under
// AVX2): float terms, float partial sums over one row (about 3·perplexity to 6·perplexity terms).
void Attraction(const float* y, const SparseP& p, int32_t i, double out[2]) {
  const float xi = y[2 * i], yi = y[2 * i + 1];
  float ax = 0.0f, ay = 0.0f;
  const int32_t* cols = p.cols;
  const float* vals = p.vals;
#pragma omp simd reduction(+ : ax, ay)
  for (int64_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e) {
    const int32_t j = cols[e];
    const float dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
    const float pw = vals[e] / (1.0f + dx * dx + dy * dy);
    ax += pw * dx;
    ay += pw * dy;
  }
  out[0] = ax;
  out[1] = ay;
}

// sum_j P_ij ln(P_ij / w_ij) over row i, and sum_j P_ij into p_sum.
double KlTerms(const float* y, const SparseP& p, int32_t i, double* p_sum) {
  const float xi = y[2 * i], yi = y[2 * i + 1];
  double kl = 0.0, total = 0.0;
  for (int64_t e = p.row_ptr[i]; e < p.row_ptr[i + 1]; ++e) {
    const double pij = p.vals[e];
    if (!(pij > 0.0)) continue;
    const int32_t j = p.cols[e];
    const double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
    kl += pij * std::log(pij * (1.0 + dx * dx + dy * dy));
    total += pij;
  }
  *p_sum = total;
  return kl;
}

// KL(P || Q) = sum P_ij ln(P_ij Z / w_ij) = sum P_ij ln(P_ij / w_ij) + ln(Z) sum P_ij: the first
// sum needs no Z, so it is taken in the same pass as the forces.
double Gradient(const float* y, const SparseP& p, const GradientAttrs& attrs, float* grad, bool want_kl,
                Workspace& ws) {
  const int64_t n = p.n;
  ws.tree.Build(y, n, attrs.theta);
  ws.z.resize(n);
  ws.repulsion.resize(2 * n);
  ws.attraction.resize(2 * n);
  ws.kl.assign(n, 0.0);
  ws.p_sum.assign(n, 0.0);  // stay zero unless the KL is wanted
  const int32_t* order = ws.tree.order().data();
#pragma omp parallel for schedule(dynamic, 64) if (n >= kParallelMinPoints)
  for (int64_t r = 0; r < n; ++r) {
    const int32_t i = order[r];
    double f[2];
    ws.z[i] = ws.tree.Repulsion(i, f);
    ws.repulsion[2 * i] = f[0];
    ws.repulsion[2 * i + 1] = f[1];
    Attraction(y, p, i, &ws.attraction[2 * i]);
    if (want_kl) ws.kl[i] = KlTerms(y, p, i, &ws.p_sum[i]);
  }
  double z = 0.0, kl = 0.0, p_sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    z += ws.z[i];
    kl += ws.kl[i];
    p_sum += ws.p_sum[i];
  }
  const double inv_z = 1.0 / z;
  const double alpha = attrs.exaggeration;
  for (int64_t c = 0; c < 2 * n; ++c) {
    grad[c] = static_cast<float>(4.0 * (alpha * ws.attraction[c] - ws.repulsion[c] * inv_z));
  }
  return want_kl ? kl + std::log(z) * p_sum : 0.0;
}

int Sign(double v) { return (v > 0.0) - (v < 0.0); }

}  // namespace

double TsneGradient(const float* y, const SparseP& p, const GradientAttrs& attrs, float* grad) {
  Workspace ws;
  return Gradient(y, p, attrs, grad, /*want_kl=*/true, ws);
}

// Each step: gradient g; per coordinate, the gain grows by 0.2 when g's sign differs from the
// previous update's (the update keeps heading the same way downhill) and shrinks by 0.8 otherwise,
// floored at min_gain (delta-bar-delta, Jacobs 1988, as van der Maaten & Hinton 2008 use it);
// update = momentum * update - learning_rate * gain * g; y += update; then y is re-centred,
// which changes nothing in C (it depends only on differences) but keeps y near the origin.
double TsneIterate(float* y, float* update, float* gains, const SparseP& p, const IterateAttrs& attrs) {
  const int64_t n = p.n;
  Workspace ws;
  std::vector<float> grad(2 * n);
  double kl = 0.0;
  for (int64_t it = 0; it < attrs.iterations; ++it) {
    kl = Gradient(y, p, attrs.gradient, grad.data(), /*want_kl=*/it + 1 == attrs.iterations, ws);
    double mean[2] = {0.0, 0.0};
    for (int64_t c = 0; c < 2 * n; ++c) {
      const double g = grad[c];
      double gain = gains[c];
      gain = Sign(g) != Sign(update[c]) ? gain + 0.2 : gain * 0.8;
      gain = std::max(gain, attrs.min_gain);
      const double u = attrs.momentum * update[c] - attrs.learning_rate * gain * g;
      gains[c] = static_cast<float>(gain);
      update[c] = static_cast<float>(u);
      y[c] = static_cast<float>(y[c] + u);
      mean[c & 1] += y[c];
    }
    const float mx = static_cast<float>(mean[0] / n), my = static_cast<float>(mean[1] / n);
    for (int64_t i = 0; i < n; ++i) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
  }
  return kl;
}

}  // namespace al
