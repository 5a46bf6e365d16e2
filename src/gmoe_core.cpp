#include "gmoe_core.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace moerates {

namespace {

const double kLog2Pi = 1.8378770664093454836;

// Compile-time dimension for the common small d (1, 2, 3) so that the inner
// loops unroll; D = 0 falls back to the run-time d.
template <int D>
inline int dim(int d) {
  return D > 0 ? D : d;
}

// Calls visit(start, block, lp, w, lse) for consecutive blocks of
// observations, where lp holds the k log terms, w the responsibilities and
// lse = log sum_j exp(lp_j) of each row of the block (layout of Block);
// returns the sum of lse over all observations. This pass is the hot loop
// of the package: it reads each observation once and its buffers do not
// grow with n.
template <class Visit>
double for_each_block(const ConstMat& x, const double* y, const GmoeKernel& kernel,
                      Visit& visit) {
  const int n = static_cast<int>(x.rows());
  const int d = kernel.d();
  const int k = kernel.k();
  std::vector<double> z(static_cast<size_t>(d + 1) * kBlock, 0.0);
  std::vector<double> lp(static_cast<size_t>(k) * kBlock), w(lp.size()), lse(kBlock);
  double total = 0.0;
  for (int start = 0; start < n; start += kBlock) {
    const int m = std::min(kBlock, n - start);
    for (int l = 0; l < d; ++l) std::copy_n(x.col(l).data() + start, m, &z[l * kBlock]);
    if (y != nullptr) std::copy_n(y + start, m, &z[d * kBlock]);
    const Block block{m, z.data()};
    kernel.log_terms(block, lp.data());
    for (int i = 0; i < m; ++i) {
      double top = lp[i];
      for (int j = 1; j < k; ++j) top = std::max(top, lp[j * kBlock + i]);
      double sum = 0.0;
      for (int j = 0; j < k; ++j) {
        const double e = std::exp(lp[j * kBlock + i] - top);
        w[j * kBlock + i] = e;
        sum += e;
      }
      const double inv = 1.0 / sum;
      for (int j = 0; j < k; ++j) w[j * kBlock + i] *= inv;
      lse[i] = top + std::log(sum);
      total += lse[i];
    }
    visit(start, block, lp.data(), w.data(), lse.data());
  }
  return total;
}

// Weighted moments of one block for component j, with the accumulators in
// local arrays of compile-time size P = d + 1 (so they live in registers);
// P = 0 handles any d with heap arrays.
template <int P>
void add_moments(const Block& block, const double* r, int j, ComponentStats& st) {
  const int p = dim<P>(static_cast<int>(st.shift.rows()));
  constexpr int cap = P > 0 ? P : 1;
  double u_fixed[cap], acc_fixed[cap * (cap + 1)];
  std::vector<double> u_general(P > 0 ? 0 : p), acc_general(P > 0 ? 0 : p * (p + 1));
  double* u = P > 0 ? u_fixed : u_general.data();
  double* acc = P > 0 ? acc_fixed : acc_general.data();
  const double* m = st.shift.col(j).data();
  double acc0 = 0.0;
  for (int l = 0; l < p * (p + 1); ++l) acc[l] = 0.0;
  for (int i = 0; i < block.rows; ++i) {
    const double ri = r[i];
    acc0 += ri;
#pragma GCC unroll 4
    for (int l = 0; l < p; ++l) {
      u[l] = block.z[l * kBlock + i] - m[l];
      acc[l] += ri * u[l];
    }
#pragma GCC unroll 4
    for (int b = 0; b < p; ++b) {
      const double rb = ri * u[b];
#pragma GCC unroll 4
      for (int a = 0; a <= b; ++a) acc[p + b * p + a] += rb * u[a];
    }
  }
  st.s0(j) += acc0;
  for (int l = 0; l < p; ++l) st.s1(l, j) += acc[l];
  for (int b = 0; b < p; ++b) {
    for (int a = 0; a <= b; ++a) st.s2(b * p + a, j) += acc[p + b * p + a];
  }
}

}  // namespace

GmoeKernel::GmoeKernel(const GmoeParams& p, bool with_expert)
    : k_(p.k()), d_(p.d()), with_expert_(with_expert),
      linv_(static_cast<size_t>(k_) * d_ * d_), c_(static_cast<size_t>(k_) * d_),
      a_(static_cast<size_t>(k_) * d_), b_(k_), half_inv_nu_(k_), constant_(k_) {
  Eigen::LLT<Eigen::MatrixXd> llt(d_);
  Eigen::MatrixXd linv(d_, d_);
  for (int j = 0; j < k_; ++j) {
    llt.compute(p.gamma(j));
    if (llt.info() != Eigen::Success || !(p.pi(j) > 0) || !(p.nu(j) > 0)) {
      throw std::runtime_error(
          "invalid parameters: a gate covariance is not positive definite, or "
          "a weight or an expert variance is not positive");
    }
    linv.setIdentity();
    llt.matrixL().solveInPlace(linv);
    for (int r = 0; r < d_; ++r) {
      for (int l = 0; l < d_; ++l) linv_[(j * d_ + r) * d_ + l] = linv(r, l);
      c_[j * d_ + r] = p.c(j, r);
      a_[j * d_ + r] = p.a(j, r);
    }
    const double logdet = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    constant_[j] = std::log(p.pi(j)) - 0.5 * (d_ * kLog2Pi + logdet);
    b_[j] = p.b(j);
    half_inv_nu_[j] = 0.5 / p.nu(j);
    if (with_expert_) constant_[j] -= 0.5 * (kLog2Pi + std::log(p.nu(j)));
  }
}

void GmoeKernel::log_terms(const Block& block, double* lp) const {
  switch (d_) {
    case 1: log_terms_d<1>(block, lp); break;
    case 2: log_terms_d<2>(block, lp); break;
    case 3: log_terms_d<3>(block, lp); break;
    default: log_terms_d<0>(block, lp);
  }
}

template <int D>
void GmoeKernel::log_terms_d(const Block& block, double* lp) const {
  const int d = dim<D>(d_);
  const double* z = block.z;
  for (int j = 0; j < k_; ++j) {
    const double* L = &linv_[static_cast<size_t>(j) * d * d];
    const double* c = &c_[static_cast<size_t>(j) * d];
    const double* a = &a_[static_cast<size_t>(j) * d];
    double* out = lp + j * kBlock;
    for (int i = 0; i < block.rows; ++i) {
      double q = 0.0;
#pragma GCC unroll 4
      for (int r = 0; r < d; ++r) {
        double u = 0.0;
#pragma GCC unroll 4
        for (int l = 0; l <= r; ++l) u += L[r * d + l] * (z[l * kBlock + i] - c[l]);
        q += u * u;
      }
      double v = constant_[j] - 0.5 * q;
      if (with_expert_) {
        double e = z[d * kBlock + i] - b_[j];
#pragma GCC unroll 4
        for (int l = 0; l < d; ++l) e -= a[l] * z[l * kBlock + i];
        v -= half_inv_nu_[j] * e * e;
      }
      out[i] = v;
    }
  }
}

ComponentStats::ComponentStats(const GmoeParams& p)
    : s0(p.k()), shift(p.d() + 1, p.k()), s1(p.d() + 1, p.k()),
      s2((p.d() + 1) * (p.d() + 1), p.k()) {
  reset(p);
}

void ComponentStats::reset(const GmoeParams& p) {
  const int d = p.d();
  s0.setZero();
  s1.setZero();
  s2.setZero();
  for (int j = 0; j < p.k(); ++j) {
    shift.col(j).head(d) = p.c.row(j).transpose();
    shift(d, j) = p.a.row(j).dot(p.c.row(j)) + p.b(j);
  }
}

void ComponentStats::add(const Block& block, const double* r) {
  for (int j = 0; j < s0.size(); ++j) {
    const double* rj = r + j * kBlock;
    switch (shift.rows()) {
      case 2: add_moments<2>(block, rj, j, *this); break;
      case 3: add_moments<3>(block, rj, j, *this); break;
      case 4: add_moments<4>(block, rj, j, *this); break;
      default: add_moments<0>(block, rj, j, *this);
    }
  }
}

double e_step(const ConstMat& x, const ConstVec& y, const GmoeParams& p,
              ComponentStats& stats) {
  const GmoeKernel kernel(p, true);
  stats.reset(p);
  auto visit = [&](int, const Block& block, const double*, const double* w,
                   const double*) { stats.add(block, w); };
  return for_each_block(x, y.data(), kernel, visit);
}

void accumulate(const ConstMat& x, const ConstVec& y, const ConstMat& resp,
                ComponentStats& stats) {
  const int n = static_cast<int>(x.rows());
  const int d = static_cast<int>(x.cols());
  const int k = static_cast<int>(resp.cols());
  std::vector<double> z(static_cast<size_t>(d + 1) * kBlock, 0.0);
  std::vector<double> r(static_cast<size_t>(k) * kBlock);
  for (int start = 0; start < n; start += kBlock) {
    const int m = std::min(kBlock, n - start);
    for (int l = 0; l < d; ++l) std::copy_n(x.col(l).data() + start, m, &z[l * kBlock]);
    std::copy_n(y.data() + start, m, &z[d * kBlock]);
    for (int j = 0; j < k; ++j) std::copy_n(resp.col(j).data() + start, m, &r[j * kBlock]);
    stats.add(Block{m, z.data()}, r.data());
  }
}

void m_step(const ComponentStats& stats, int n, const Floors& floors,
            int iteration, GmoeParams& p, EmDiagnostics& diag) {
  const int d = p.d();
  const int q = d + 1;
  Eigen::VectorXd mean(q), sxy(d), a(d);
  Eigen::MatrixXd s(q, q), gam(d, d);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(d);
  Eigen::LLT<Eigen::MatrixXd> llt(d);
  for (int j = 0; j < p.k(); ++j) {
    const double nk = stats.s0(j);
    if (!(nk >= floors.weight * n)) {
      // A collapsed component keeps its last atom and the floor weight, so
      // it stays in the fit (and in the diagnostics) instead of turning into
      // NaN or being dropped.
      p.pi(j) = floors.weight;
      if (diag.collapsed_at(j) == 0) diag.collapsed_at(j) = iteration;
      continue;
    }
    const Eigen::VectorXd off = stats.s1.col(j) / nk;
    mean = stats.shift.col(j) + off;
    for (int b = 0; b < q; ++b) {
      for (int a2 = 0; a2 <= b; ++a2) {
        s(a2, b) = s(b, a2) = stats.s2(b * q + a2, j) / nk - off(a2) * off(b);
      }
    }
    const Eigen::MatrixXd sxx = s.topLeftCorner(d, d);
    sxy = s.col(d).head(d);
    const double syy = s(d, d);

    gam = sxx;
    eig.compute(sxx);
    if (eig.eigenvalues().minCoeff() < floors.gamma) {
      gam.noalias() = eig.eigenvectors() *
                      eig.eigenvalues().cwiseMax(floors.gamma).asDiagonal() *
                      eig.eigenvectors().transpose();
      ++diag.gamma_floor_hits(j);
    }
    llt.compute(gam);
    a = llt.solve(sxy);
    // Weighted mean squared residual of y on (1, x) at this slope; equal to
    // syy - sxy'a when Gamma was not floored.
    double nu = syy - 2.0 * a.dot(sxy) + a.dot(sxx * a);
    if (!(nu >= floors.nu)) {
      nu = floors.nu;
      ++diag.nu_floor_hits(j);
    }
    p.pi(j) = nk / n;
    p.c.row(j) = mean.head(d).transpose();
    p.gamma(j) = gam;
    p.a.row(j) = a.transpose();
    p.b(j) = mean(d) - a.dot(mean.head(d));
    p.nu(j) = nu;
  }
  p.pi /= p.pi.sum();
}

EmResult gmoe_em(const ConstMat& x, const ConstVec& y, const GmoeParams& start,
                 int max_iter, double tol, const Floors& floors) {
  const int n = static_cast<int>(x.rows());
  EmResult res{start, {}, 0, false, EmDiagnostics(start.k())};
  ComponentStats stats(start);
  GmoeParams previous = start;
  res.loglik.reserve(static_cast<size_t>(max_iter) + 1);

  double ll_prev = e_step(x, y, res.params, stats);
  res.loglik.push_back(ll_prev);
  for (int it = 1; it <= max_iter; ++it) {
    previous = res.params;
    m_step(stats, n, floors, it, res.params, res.diag);
    const double ll = e_step(x, y, res.params, stats);
    if (!std::isfinite(ll)) {
      res.diag.nonfinite = true;
      res.params = previous;
      break;
    }
    res.loglik.push_back(ll);
    res.iterations = it;
    if (ll < ll_prev - 1e-10 * (1.0 + std::fabs(ll_prev))) ++res.diag.decreases;
    if (std::fabs(ll - ll_prev) / (1.0 + std::fabs(ll)) < tol) {
      res.converged = true;
      break;
    }
    ll_prev = ll;
  }
  return res;
}

Eigen::MatrixXd posterior(const ConstMat& x, const double* y, const GmoeParams& p,
                          bool log) {
  const GmoeKernel kernel(p, y != nullptr);
  Eigen::MatrixXd out(x.rows(), p.k());
  auto visit = [&](int start, const Block& block, const double* lp, const double* w,
                   const double* lse) {
    for (int j = 0; j < p.k(); ++j) {
      for (int i = 0; i < block.rows; ++i) {
        out(start + i, j) = log ? lp[j * kBlock + i] - lse[i] : w[j * kBlock + i];
      }
    }
  };
  for_each_block(x, y, kernel, visit);
  return out;
}

Eigen::VectorXd log_density(const ConstMat& x, const double* y, const GmoeParams& p) {
  const GmoeKernel kernel(p, y != nullptr);
  Eigen::VectorXd out(x.rows());
  auto visit = [&](int start, const Block& block, const double*, const double*,
                   const double* lse) {
    std::copy_n(lse, block.rows, out.data() + start);
  };
  for_each_block(x, y, kernel, visit);
  return out;
}

}  // namespace moerates
