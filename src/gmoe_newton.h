// The score and observed information of the GMoE log-likelihood in an
// unconstrained parametrisation, and the trust-region Newton step built on
// them. Plain C++ on Eigen, like gmoe_core.
#ifndef MOERATES_GMOE_NEWTON_H
#define MOERATES_GMOE_NEWTON_H

#include <Eigen/Dense>
#include <vector>

#include "gmoe_core.h"

namespace moerates {

// The parametrisation theta of a GMoE with k components and d covariates:
//   alpha_j = log(pi_j / pi_r) for the components j whose weights are free,
//     except r, the last of them (held weights stay as they are, and the
//     free ones share what is left);
//   then for each component j = 1..k, a block of d(d+3)/2 + d + 2 values:
//     c_j (d); R_j, the lower-triangular factor with positive diagonal of
//     Gamma_j^-1 = R_j'R_j (R_j = L_j^-1, L_j the Cholesky factor of
//     Gamma_j), column by column, its diagonal entries as their logs
//     (d(d+1)/2); a_j (d); b_j; log nu_j.
// Every theta is a valid parameter. Per observation the log term of
// component j is then
//   log pi_j + sum_l log R_j,ll - |R_j (x - c_j)|^2 / 2 - log(nu_j) / 2
//     - (y - a_j'x - b_j)^2 / (2 nu_j) - (d + 1) log(2 pi) / 2.
class ThetaLayout {
 public:
  // weight_free: which components' weights theta carries (all, for the
  // information of a fit); at least one.
  ThetaLayout(int k, int d, const std::vector<bool>& weight_free);
  int k() const { return k_; }
  int d() const { return d_; }
  int size() const { return n_alpha_ + k_ * block_size_; }
  int n_alpha() const { return n_alpha_; }
  int block_size() const { return block_size_; }
  // Index of component j's first parameter (its c_j).
  int block(int j) const { return n_alpha_ + j * block_size_; }
  // Index of alpha_j in theta, or -1 (held weight, or the reference).
  int alpha(int j) const { return alpha_[j]; }
  bool weight_free(int j) const { return weight_free_[j]; }
  // Offsets within a block.
  int c_at(int l) const { return l; }
  int r_at(int l, int m) const;  // l >= m
  int a_at(int l) const { return d_ + tri_ + l; }
  int b_at() const { return 2 * d_ + tri_; }
  int log_nu_at() const { return 2 * d_ + tri_ + 1; }

  Eigen::VectorXd pack(const GmoeParams& p) const;
  // Held weights are taken from `like`.
  GmoeParams unpack(const Eigen::VectorXd& theta, const GmoeParams& like) const;

 private:
  int k_, d_, tri_, block_size_, n_alpha_;
  std::vector<bool> weight_free_;
  std::vector<int> alpha_;
};

struct Information {
  double loglik = 0;
  Eigen::VectorXd score;    // d loglik / d theta
  Eigen::MatrixXd hessian;  // d^2 loglik / d theta d theta' (the observed information's negative)
  Eigen::VectorXd counts;   // per component, the summed responsibility
};

// Log-likelihood, score and Hessian at p in the parametrisation `layout`,
// in one pass over the data: the score and Hessian of the log-likelihood
// as sum_i log sum_j exp(l_ij) are
//   g = sum_i gbar_i,  H = sum_i [sum_j r_ij (grad^2 l_ij + s_ij s_ij') - gbar_i gbar_i'],
// with s_ij = grad l_ij and gbar_i = sum_j r_ij s_ij; the terms
// sum_i r_ij grad^2 l_ij come from weighted moments, the others from the
// per-observation scores, summed block by block as rank updates. Throws
// std::domain_error where GmoeKernel does.
Information information(const ConstMat& x, const ConstVec& y, const GmoeParams& p,
                        const ThetaLayout& layout, int threads, bool avx2);

// The score at p from the E-step statistics at p (ComponentStats, whose
// shift is (c_j, a_j'c_j + b_j)): by Fisher's identity the score is the
// gradient of the EM Q-function at p, a function of the weighted moments
// the E-step accumulates, so it costs no pass of its own.
Eigen::VectorXd score_from_stats(const ComponentStats& stats, const GmoeParams& p,
                                 const ThetaLayout& layout);

// The quadratic model of the log-likelihood around a point, restricted to
// some coordinates: m(s) = g's - s'As / 2 with A = -H, through the
// eigendecomposition of A.
class QuadraticModel {
 public:
  QuadraticModel(const Eigen::MatrixXd& A, const Eigen::VectorXd& g);
  // The Newton decrement g'A^-1 g / 2, the model's estimate of how far the
  // log-likelihood lies below its maximum; +inf unless A is positive
  // definite.
  double decrement() const { return decrement_; }
  // The step maximising the model within |s| <= radius (Moré and Sorensen
  // 1983, through the eigendecomposition; the hard case by a move along
  // the eigenvector of the smallest eigenvalue).
  Eigen::VectorXd step(double radius) const;
  double gain(const Eigen::VectorXd& s) const;

 private:
  Eigen::VectorXd lambda_, coef_;  // eigenvalues of A; eigenvector coordinates of g
  Eigen::MatrixXd vectors_;
  const Eigen::MatrixXd A_;
  const Eigen::VectorXd g_;
  double decrement_;
};

}  // namespace moerates

#endif
