// Numerical core of the Gaussian-gated mixture of experts. Plain C++ on
// Eigen: nothing here knows about R, so it can be tested and reused apart
// from the Rcpp layer (gmoe_rcpp.cpp), which converts and validates.
#ifndef MOERATES_GMOE_CORE_H
#define MOERATES_GMOE_CORE_H

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "fast_exp.h"

namespace moerates {

using ConstMat = Eigen::Ref<const Eigen::MatrixXd>;
using ConstVec = Eigen::Ref<const Eigen::VectorXd>;

// Same layout as in R: c and a are k x d, Gamma stacks the d x d blocks side
// by side (d x dk), which is the memory layout of R's d x d x k array.
struct GmoeParams {
  Eigen::VectorXd pi;
  Eigen::MatrixXd c;
  Eigen::MatrixXd Gamma;
  Eigen::MatrixXd a;
  Eigen::VectorXd b;
  Eigen::VectorXd nu;

  GmoeParams(int k, int d)
      : pi(k), c(k, d), Gamma(d, d * k), a(k, d), b(k), nu(k) {}
  int k() const { return static_cast<int>(pi.size()); }
  int d() const { return static_cast<int>(c.cols()); }
  Eigen::Block<Eigen::MatrixXd> gamma(int j) { return Gamma.block(0, j * d(), d(), d()); }
  Eigen::Block<const Eigen::MatrixXd> gamma(int j) const {
    return Gamma.block(0, j * d(), d(), d());
  }
};

// The compact parameter space of a fit, in the units the fit runs in (the
// caller maps bounds given in the data's units into these exactly).
struct Bounds {
  Eigen::VectorXd gamma;    // d: Gamma_j - diag(gamma) positive semidefinite
  double nu = 0;            // nu_j >= nu
  double weight = 0;        // pi_j >= weight (k * weight < 1)
  Eigen::VectorXd a_max;    // d: |a_jl| <= a_max(l), +inf where unbounded
  Eigen::VectorXd b_shift;  // d: the bound on the intercept is on b_j - b_shift' a_j
  double b_lo = -std::numeric_limits<double>::infinity();
  double b_hi = std::numeric_limits<double>::infinity();

  bool slope_bounded() const { return (a_max.array() < std::numeric_limits<double>::infinity()).any(); }
  bool intercept_bounded() const { return std::isfinite(b_lo) || std::isfinite(b_hi); }
  // The intercept as bounded: b_j - b_shift' a_j.
  double shifted_intercept(double b, const Eigen::Ref<const Eigen::RowVectorXd>& a) const {
    return b - a.dot(b_shift.transpose());
  }
};

// Below this fraction of the observations a component's summed
// responsibility carries no usable information on its atom: the component
// has collapsed.
constexpr double kCollapsedFraction = 1e-10;

// Which bounds hold with equality at p, per component (see bound_activity()).
struct BoundActivity {
  Eigen::Array<bool, Eigen::Dynamic, 1> weight, gamma, nu, a, b;
  explicit BoundActivity(int k)
      : weight(Eigen::Array<bool, Eigen::Dynamic, 1>::Constant(k, false)), gamma(weight),
        nu(weight), a(weight), b(weight) {}
  bool any(int j) const { return weight(j) || gamma(j) || nu(j) || a(j) || b(j); }
};

// The bounds active at p, up to rounding (relative 1e-9): M-steps and
// projections put parameters exactly on the bounds they meet.
BoundActivity bound_activity(const GmoeParams& p, const Bounds& bounds);

// Smallest eigenvalue of D^-1/2 Gamma_j D^-1/2, D = diag(bounds.gamma): the
// Gamma bound holds when it is >= 1.
double gamma_bound_margin(const GmoeParams& p, int j, const Bounds& bounds);

// Whether p lies in the bounds (up to the rounding of bound_activity()).
bool within_bounds(const GmoeParams& p, const Bounds& bounds);

struct EmDiagnostics {
  Eigen::VectorXi gamma_floor_hits;  // M-steps in which the Gamma_j bound was active
  Eigen::VectorXi nu_floor_hits;     // M-steps in which the nu_j bound was active
  Eigen::VectorXi collapsed_at;      // first M-step where j collapsed; 0: never
  int decreases = 0;                 // log-likelihood drops beyond rounding
  int squarem_fallbacks = 0;         // SQUAREM cycles that kept the plain EM step
  int passes = 0;                    // passes over the data (E-steps and information passes)
  int information_passes = 0;        // of which passes computing the observed information
  int newton_steps = 0;              // accepted Newton (trust-region) steps
  bool nonfinite = false;            // a step gave a non-finite likelihood
  explicit EmDiagnostics(int k)
      : gamma_floor_hits(Eigen::VectorXi::Zero(k)),
        nu_floor_hits(Eigen::VectorXi::Zero(k)),
        collapsed_at(Eigen::VectorXi::Zero(k)) {}
};

// Observations are processed in blocks of kBlock rows held in arrays of
// fixed height, so that every operation runs down a column of kBlock values
// and Eigen vectorises it; the buffers do not grow with n. The last block is
// padded with zero rows whose responsibilities are set to zero.
constexpr int kBlock = 128;

// Largest d for which the passes have AVX2 code (d is a template argument
// there, so that the loops over coordinates unroll).
constexpr int kSimdMaxD = 3;
using BlockArray = Eigen::Array<double, kBlock, Eigen::Dynamic>;

// A block of data: column l of z is coordinate l of the observations (x,
// then y); only the first `rows` rows are observations.
struct Block {
  int rows;
  const BlockArray& z;
};

// Per-component weighted moments of z = (x, y), accumulated around a shift
// close to the component mean so that the covariance does not suffer from
// cancellation.
struct ComponentStats {
  Eigen::VectorXd s0;     // k: summed responsibilities
  Eigen::MatrixXd shift;  // p x k, p = d + 1
  Eigen::MatrixXd s1;     // p x k: sum r (z - shift)
  Eigen::MatrixXd s2;     // p*p x k: sum r (z - shift)(z - shift)', upper triangle
  // avx2: add() through add_avx2() where d <= kSimdMaxD; only where
  // detail::avx2_supported().
  ComponentStats(const GmoeParams& p, bool avx2);
  void reset(const GmoeParams& p);
  // Adds a block whose responsibilities are the columns of r (zero on
  // padding rows).
  void add(const Block& block, const BlockArray& r);
  bool avx2() const { return avx2_; }

 private:
  BlockArray centred_, weighted_;  // kBlock x p scratch
  bool avx2_;                      // the fit's choice of kernels
  bool simd_;                      // add() through add_avx2()
#if defined(MOERATES_HAVE_AVX2)
  template <int P>
  MOERATES_TARGET_AVX2 void add_avx2(const BlockArray& z, const BlockArray& r);
#endif
};

using RowArray = Eigen::Array<double, kBlock, 1>;

// Log-density terms log(pi_j) + log phi_d(x; c_j, Gamma_j)
// [+ log phi(y; a_j'x + b_j, nu_j)], with every factorisation done once per
// parameter set. Throws std::domain_error when a Gamma_j is not numerically
// positive definite or a weight or variance is not positive.
class GmoeKernel {
 public:
  // avx2: use the AVX2 and FMA code (only where detail::avx2_supported()).
  GmoeKernel(const GmoeParams& p, bool with_expert, bool avx2);
  int k() const { return k_; }
  int d() const { return d_; }
  // Column j of lp: the log terms of component j for the block.
  void log_terms(const Block& block, BlockArray& lp) const;
  // For row i of a block whose log terms overflow (an observation so far
  // from every component that a squared distance exceeds the largest
  // double): row i of lp gets the log terms plus a common shift, computed
  // with every distance scaled so that nothing overflows, and the shift
  // (>= 0, +inf when it cannot be held in a double) is returned. The shift
  // cancels from gates and posteriors, so these stay finite.
  double log_terms_scaled(const BlockArray& z, int i, BlockArray& lp) const;
  // log of (y - a_j'x - b_j)^2 / nu_j without overflow (-inf when zero).
  double log_scaled_residual(const double* x, double y, int j) const;
  bool avx2() const { return avx2_; }
  // Whether block_weights() can be used: the processor has AVX2 and FMA,
  // the kernel has its expert and d <= kSimdMaxD.
  bool simd() const { return simd_; }
  // The E-step's work on a block in one pass with AVX2 and FMA: the log
  // terms into lp, the responsibilities into w (zero on padding rows), and
  // the block's log-likelihood returned. Only when simd().
  double block_weights(const BlockArray& z, int rows, BlockArray& lp, BlockArray& w) const;

 private:
#if defined(MOERATES_HAVE_AVX2)
  template <int D>
  MOERATES_TARGET_AVX2 double block_weights_avx2(const BlockArray& z, int rows, BlockArray& lp,
                                                 BlockArray& w) const;
#endif
  double log_mahalanobis(const double* x, int j) const;

  int k_, d_;
  bool with_expert_, avx2_, simd_;
  std::vector<Eigen::MatrixXd> linv_;  // inverse Cholesky factors of Gamma_j
  Eigen::MatrixXd c_, a_;              // k x d
  Eigen::VectorXd b_, half_inv_nu_, log_nu_, constant_;
};

// E-step fused with the accumulation of the M-step statistics: one pass over
// the data. Returns the log-likelihood of p.
// With threads > 1 (and OpenMP), the observations are split into that many
// contiguous runs of blocks.
// The kernels (AVX2 or not) are those of `stats`.
double e_step(const ConstMat& x, const ConstVec& y, const GmoeParams& p,
              ComponentStats& stats, int threads);

// The M-step: from the accumulated statistics, the exact maximiser of the
// EM Q-function over the parameters within `bounds`. The blocks separate:
// weights by water-filling (pi_j = max(weight, n_j / lambda)); c_j, the
// weighted mean; Gamma_j, the weighted covariance with the eigenvalues of
// D^-1/2 S D^-1/2 clipped below at 1 (D = diag(bounds.gamma)); (a_j, b_j)
// by least squares within their box (box_qp.h); nu_j, the mean squared
// residual or its floor. A component whose summed responsibility is below
// 1e-10 n has collapsed: it keeps its atom (brought within the bounds; a
// generalised EM step, so the log-likelihood still does not decrease) and
// the iteration is recorded. Counts the active Gamma and nu bounds in diag.
void m_step(const ComponentStats& stats, int n, const Bounds& bounds,
            int iteration, GmoeParams& p, EmDiagnostics& diag);

// Splits n observations into `parts` contiguous runs of whole blocks and
// calls pass(t, first, last) for each (in parallel with OpenMP), so that
// sums made per part and added in order t = 0, 1, ... do not depend on the
// scheduling.
template <class Pass>
void over_parts(int n, int parts, const Pass& pass) {
  const int blocks = (n + kBlock - 1) / kBlock;
#ifdef _OPENMP
#pragma omp parallel for num_threads(parts) schedule(static, 1)
#endif
  for (int t = 0; t < parts; ++t) {
    const int first = kBlock * static_cast<int>(static_cast<long long>(blocks) * t / parts);
    const int last =
        std::min(n, kBlock * static_cast<int>(static_cast<long long>(blocks) * (t + 1) / parts));
    pass(t, first, last);
  }
}

// The number of parts over_parts() uses for n observations and `threads`.
inline int pass_parts(int n, int threads) {
  const int blocks = (n + kBlock - 1) / kBlock;
  return std::max(1, std::min(threads, blocks));
}

namespace detail {

// Calls visit(start, block, lp, w, lse, shift) for consecutive blocks of
// observations first..last-1 (last < 0: to the end), where column j of lp
// holds the log terms of component j and w the responsibilities (zero on
// padding rows); lse = log sum_j exp(lp_j) per row is filled only when
// row_lse is true, since the E-step needs only its sum. With row_lse, a row
// whose log terms overflow is recomputed by
// GmoeKernel::log_terms_scaled(): its lp and lse then both hold the common
// shift, so lp - lse is right, and the true log sum is lse - shift (shift
// is zero on the other rows). Returns the sum of the true log sums. This
// pass is the hot loop of the package: it reads each observation once.
template <class Visit>
double for_each_block(const ConstMat& x, const double* y, const GmoeKernel& kernel,
                      bool row_lse, Visit& visit, int first = 0, int last = -1) {
  const int n = last < 0 ? static_cast<int>(x.rows()) : last;
  const int d = kernel.d();
  const int k = kernel.k();
  BlockArray z = BlockArray::Zero(kBlock, d + 1);
  BlockArray lp(kBlock, k), w(kBlock, k);
  RowArray top, sum, lse, shift = RowArray::Zero();
  double total = 0.0;
  for (int start = first; start < n; start += kBlock) {
    const int m = std::min(kBlock, n - start);
    if (m < kBlock) z.setZero();
    for (int l = 0; l < d; ++l) z.col(l).head(m) = x.col(l).segment(start, m).array();
    if (y != nullptr) {
      z.col(d).head(m) = Eigen::Map<const Eigen::ArrayXd>(y + start, m);
    }
    const Block block{m, z};
    if (!row_lse && kernel.simd()) {
      total += kernel.block_weights(z, m, lp, w);
      visit(start, block, lp, w, lse, shift);
      continue;
    }
    kernel.log_terms(block, lp);
    if (row_lse) {
      shift.setZero();
      if (!lp.topRows(m).allFinite()) {
        for (int i = 0; i < m; ++i) {
          if (!lp.row(i).allFinite()) shift(i) = kernel.log_terms_scaled(z, i, lp);
        }
        total -= shift.head(m).sum();
      }
    }
    top = lp.col(0);
    for (int j = 1; j < k; ++j) top = top.max(lp.col(j));
    for (int j = 0; j < k; ++j) {
      w.col(j) = lp.col(j) - top;
      exp_nonpositive(w.col(j).data(), kBlock, kernel.avx2());
    }
    sum = w.col(0);
    for (int j = 1; j < k; ++j) sum += w.col(j);
    total += top.head(m).sum();
    if (row_lse) {
      lse = top + sum.log();
    }
    // Each sum lies in [1, k], so a product of 16 of them cannot overflow:
    // one log per 16 observations instead of one per observation.
    for (int c = 0; c < m; c += 16) total += std::log(sum.segment(c, std::min(16, m - c)).prod());
    sum = sum.inverse();
    for (int j = 0; j < k; ++j) w.col(j) *= sum;
    if (m < kBlock) w.bottomRows(kBlock - m).setZero();
    visit(start, block, lp, w, lse, shift);
  }
  return total;
}

}  // namespace detail

// n x k responsibilities (log = false) or log gate/posterior probabilities
// (log = true) at p; with y null, the gates alone.
// Finite wherever the parameters are valid, however far x lies from the
// components (see GmoeKernel::log_terms_scaled()).
Eigen::MatrixXd posterior(const ConstMat& x, const double* y, const GmoeParams& p,
                          bool log, bool avx2);

// Per-observation log p(x, y) (y given) or log p(x) (y null); -inf where
// the density is below the smallest double.
Eigen::VectorXd log_density(const ConstMat& x, const double* y, const GmoeParams& p,
                            bool avx2);

// Per-observation log p(y | x) = log sum_j g_j(x) phi(y; a_j'x + b_j, nu_j),
// from the gates of posterior(), so finite however far x lies from the
// gates' components.
Eigen::VectorXd log_conditional(const ConstMat& x, const double* y, const GmoeParams& p,
                                bool avx2);

// M-step statistics from given responsibilities (n x k).
void accumulate(const ConstMat& x, const ConstVec& y, const ConstMat& resp,
                ComponentStats& stats);

}  // namespace moerates

#endif
