// Numerical core of the Gaussian-gated mixture of experts. Plain C++ on
// Eigen: nothing here knows about R, so it can be tested and reused apart
// from the Rcpp layer (gmoe_rcpp.cpp), which converts and validates.
#ifndef MOERATES_GMOE_CORE_H
#define MOERATES_GMOE_CORE_H

#include <Eigen/Dense>
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

// Absolute floors, computed by the caller from the scale of the data.
struct Floors {
  double gamma;   // smallest eigenvalue allowed in Gamma_j
  double nu;      // smallest nu_j
  double weight;  // n_j / n below which component j has collapsed
};

struct EmDiagnostics {
  Eigen::VectorXi gamma_floor_hits;  // M-steps in which Gamma_j was floored
  Eigen::VectorXi nu_floor_hits;     // M-steps in which nu_j was floored
  Eigen::VectorXi collapsed_at;      // first M-step where j collapsed; 0: never
  int decreases = 0;                 // log-likelihood drops beyond rounding
  int squarem_fallbacks = 0;         // SQUAREM cycles that kept the plain EM step
  int passes = 0;                    // E-steps, i.e. passes over the data: the cost
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

// M-step from accumulated statistics, with floors (see Floors).
void m_step(const ComponentStats& stats, int n, const Floors& floors,
            int iteration, GmoeParams& p, EmDiagnostics& diag);

struct EmResult {
  GmoeParams params;
  std::vector<double> loglik;  // at the start and after every iteration
  int iterations;
  bool converged;
  EmDiagnostics diag;
};

// EM from `start`: at most max_iter iterations, each a plain EM step or,
// with `accelerate` and max_iter > 1, a SQUAREM cycle (squarem.h); stops
// when the relative change |l_t - l_{t-1}| / (1 + |l_t|) falls below tol
// (never when tol = 0). l_t there is the log-likelihood plus
// `loglik_offset`: fit_gmoe() fits standardised data, and its rule is
// judged in the data's own units, as mclust judges it. A start whose
// log-likelihood is not finite is returned at once, with diag.nonfinite set
// and no iteration.
EmResult gmoe_em(const ConstMat& x, const ConstVec& y, const GmoeParams& start,
                 int max_iter, double tol, double loglik_offset, bool accelerate,
                 int threads, bool avx2, const Floors& floors);

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
