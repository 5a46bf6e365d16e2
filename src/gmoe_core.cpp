#include "gmoe_core.h"

#include "fast_exp.h"
#include "box_qp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace moerates {

namespace {

const double kLog2Pi = 1.8378770664093454836;

// log |v| through the largest entry, so that no square overflows; -inf for
// the zero vector.
double log_norm(const Eigen::VectorXd& v) {
  const double top = v.cwiseAbs().maxCoeff();
  if (!(top > 0)) return -std::numeric_limits<double>::infinity();
  return std::log(top) + 0.5 * std::log((v / top).squaredNorm());
}

// log(exp(a) + exp(b)), either may be -inf.
double log_add(double a, double b) {
  const double top = std::max(a, b);
  if (top == -std::numeric_limits<double>::infinity()) return top;
  return top + std::log1p(std::exp(std::min(a, b) - top));
}

}  // namespace

GmoeKernel::GmoeKernel(const GmoeParams& p, bool with_expert, bool avx2)
    : k_(p.k()), d_(p.d()), with_expert_(with_expert), avx2_(avx2),
      simd_(with_expert && d_ <= kSimdMaxD && avx2), linv_(k_), c_(p.c), a_(p.a), b_(p.b),
      half_inv_nu_(k_), log_nu_(k_), constant_(k_) {
  Eigen::LLT<Eigen::MatrixXd> llt(d_);
  for (int j = 0; j < k_; ++j) {
    llt.compute(p.gamma(j));
    if (llt.info() != Eigen::Success) {
      throw std::domain_error("the gate covariance of component " + std::to_string(j + 1) +
                              " is numerically singular");
    }
    if (!(p.pi(j) > 0) || !(p.nu(j) > 0) || !std::isfinite(0.5 / p.nu(j))) {
      throw std::domain_error("the weight or the expert variance of component " +
                              std::to_string(j + 1) + " is not a positive normal number");
    }
    linv_[j] = Eigen::MatrixXd::Identity(d_, d_);
    llt.matrixL().solveInPlace(linv_[j]);
    const double logdet = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
    constant_(j) = std::log(p.pi(j)) - 0.5 * (d_ * kLog2Pi + logdet);
    half_inv_nu_(j) = 0.5 / p.nu(j);
    log_nu_(j) = std::log(p.nu(j));
    if (with_expert_) constant_(j) -= 0.5 * (kLog2Pi + log_nu_(j));
  }
}

// log |L_j^{-1} (x - c_j)|^2, with x and c_j divided by their largest
// entry (at least 1) first, so that neither the difference nor the square
// overflows.
double GmoeKernel::log_mahalanobis(const double* x, int j) const {
  double scale = 1.0;
  for (int l = 0; l < d_; ++l) scale = std::max({scale, std::fabs(x[l]), std::fabs(c_(j, l))});
  Eigen::VectorXd w(d_);
  for (int l = 0; l < d_; ++l) w(l) = x[l] / scale - c_(j, l) / scale;
  const Eigen::VectorXd u = linv_[j].triangularView<Eigen::Lower>() * w;
  return 2.0 * (std::log(scale) + log_norm(u));
}

double GmoeKernel::log_scaled_residual(const double* x, double y, int j) const {
  // e = y - a'x - b as (y/A)/X - (b/A)/X - sum (a_l/A)(x_l/X) times A X, with
  // A and X the largest slope and value (at least 1): no term overflows.
  double A = 1.0, X = std::max({1.0, std::fabs(y), std::fabs(b_(j))});
  for (int l = 0; l < d_; ++l) {
    A = std::max(A, std::fabs(a_(j, l)));
    X = std::max(X, std::fabs(x[l]));
  }
  double e = (y / A) / X - (b_(j) / A) / X;
  for (int l = 0; l < d_; ++l) e -= (a_(j, l) / A) * (x[l] / X);
  if (e == 0) return -std::numeric_limits<double>::infinity();
  return 2.0 * (std::log(std::fabs(e)) + std::log(A) + std::log(X)) - log_nu_(j);
}

double GmoeKernel::log_terms_scaled(const BlockArray& z, int i, BlockArray& lp) const {
  // Only for the rare rows whose direct terms overflowed: no hot loop here.
  const Eigen::VectorXd xi = z.row(i).head(d_).transpose();
  // lq(j) = log q_j, q_j the squared distance in lp_j = constant_j - q_j / 2.
  Eigen::VectorXd lq(k_);
  for (int j = 0; j < k_; ++j) {
    lq(j) = log_mahalanobis(xi.data(), j);
    if (with_expert_) lq(j) = log_add(lq(j), log_scaled_residual(xi.data(), z(i, d_), j));
  }
  const double lq_min = lq.minCoeff();
  const double q_min = std::exp(lq_min);
  for (int j = 0; j < k_; ++j) {
    // q_j - q_min, exactly 0 for the nearest components (also when q_min
    // itself is infinite).
    const double excess = lq(j) == lq_min ? 0.0 : q_min * std::expm1(lq(j) - lq_min);
    lp(i, j) = constant_(j) - 0.5 * excess;
  }
  return 0.5 * q_min;
}

void GmoeKernel::log_terms(const Block& block, BlockArray& lp) const {
  const BlockArray& z = block.z;
  Eigen::Array<double, kBlock, 1> u;
  for (int j = 0; j < k_; ++j) {
    const Eigen::MatrixXd& L = linv_[j];
    auto q = lp.col(j);
    q.setConstant(constant_(j));
    // Mahalanobis distance through the rows of L^{-1}.
    for (int r = 0; r < d_; ++r) {
      u = L(r, 0) * (z.col(0) - c_(j, 0));
      for (int l = 1; l <= r; ++l) u += L(r, l) * (z.col(l) - c_(j, l));
      q -= 0.5 * u.square();
    }
    if (with_expert_) {
      u = z.col(d_) - b_(j);
      for (int l = 0; l < d_; ++l) u -= a_(j, l) * z.col(l);
      q -= half_inv_nu_(j) * u.square();
    }
  }
}

double GmoeKernel::block_weights(const BlockArray& z, int rows, BlockArray& lp,
                                 BlockArray& w) const {
#if defined(MOERATES_HAVE_AVX2)
  static_assert(kSimdMaxD == 3, "one case per d up to kSimdMaxD, here and in ComponentStats::add()");
  switch (d_) {
    case 1: return block_weights_avx2<1>(z, rows, lp, w);
    case 2: return block_weights_avx2<2>(z, rows, lp, w);
    case 3: return block_weights_avx2<3>(z, rows, lp, w);
  }
#endif
  throw std::logic_error("block_weights() without simd()");
}

#if defined(MOERATES_HAVE_AVX2)
// The AVX2 paths compute what log_terms(), the weights in for_each_block()
// and ComponentStats::add() compute, four rows at a time with every
// intermediate in registers (d fixed at compile time, so the loops over
// coordinates unroll); only the order of the additions differs, so the
// results agree up to rounding.
namespace {

MOERATES_TARGET_AVX2 inline double horizontal_sum(__m256d v) {
  const __m128d half = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
}

}  // namespace

template <int D>
double GmoeKernel::block_weights_avx2(const BlockArray& z, int rows, BlockArray& lp,
                                      BlockArray& w) const {
  double* lpd = lp.data();
  double* wd = w.data();
  const double* zd = z.data();
  for (int j = 0; j < k_; ++j) {
    double L[D][D], c[D], a[D];
    for (int r = 0; r < D; ++r) {
      c[r] = c_(j, r);
      a[r] = a_(j, r);
      for (int l = 0; l <= r; ++l) L[r][l] = linv_[j](r, l);
    }
    const __m256d constant = _mm256_set1_pd(constant_(j));
    const __m256d half_inv_nu = _mm256_set1_pd(half_inv_nu_(j));
    const __m256d half = _mm256_set1_pd(0.5);
    const __m256d b = _mm256_set1_pd(b_(j));
    for (int i = 0; i < kBlock; i += 4) {
      __m256d centred[D];
      __m256d e = _mm256_sub_pd(_mm256_loadu_pd(zd + D * kBlock + i), b);
      for (int l = 0; l < D; ++l) {
        const __m256d zl = _mm256_loadu_pd(zd + l * kBlock + i);
        centred[l] = _mm256_sub_pd(zl, _mm256_set1_pd(c[l]));
        e = _mm256_fnmadd_pd(_mm256_set1_pd(a[l]), zl, e);
      }
      __m256d q = _mm256_fnmadd_pd(_mm256_mul_pd(half_inv_nu, e), e, constant);
      for (int r = 0; r < D; ++r) {
        __m256d u = _mm256_mul_pd(_mm256_set1_pd(L[r][0]), centred[0]);
        for (int l = 1; l <= r; ++l) u = _mm256_fmadd_pd(_mm256_set1_pd(L[r][l]), centred[l], u);
        q = _mm256_fnmadd_pd(_mm256_mul_pd(half, u), u, q);
      }
      _mm256_storeu_pd(lpd + j * kBlock + i, q);
    }
  }
  double top[kBlock];
  double sum[kBlock];
  for (int i = 0; i < kBlock; i += 4) {
    __m256d t = _mm256_loadu_pd(lpd + i);
    for (int j = 1; j < k_; ++j) t = _mm256_max_pd(t, _mm256_loadu_pd(lpd + j * kBlock + i));
    __m256d s = _mm256_setzero_pd();
    for (int j = 0; j < k_; ++j) {
      const __m256d e = detail::exp_nonpositive_pd4(_mm256_sub_pd(_mm256_loadu_pd(lpd + j * kBlock + i), t));
      _mm256_storeu_pd(wd + j * kBlock + i, e);
      s = _mm256_add_pd(s, e);
    }
    _mm256_storeu_pd(top + i, t);
    _mm256_storeu_pd(sum + i, s);
    const __m256d inv = _mm256_div_pd(_mm256_set1_pd(1.0), s);
    for (int j = 0; j < k_; ++j) {
      _mm256_storeu_pd(wd + j * kBlock + i, _mm256_mul_pd(_mm256_loadu_pd(wd + j * kBlock + i), inv));
    }
  }
  double total = 0.0;
  for (int i = 0; i < rows; ++i) total += top[i];
  // As in for_each_block(): each sum lies in [1, k], so 16 of them multiply
  // without overflow.
  for (int c = 0; c < rows; c += 16) {
    double prod = 1.0;
    for (int i = c; i < std::min(rows, c + 16); ++i) prod *= sum[i];
    total += std::log(prod);
  }
  if (rows < kBlock) w.bottomRows(kBlock - rows).setZero();
  return total;
}

template <int P>
void ComponentStats::add_avx2(const BlockArray& z, const BlockArray& r) {
  constexpr int kPairs = P * (P + 1) / 2;
  const double* zd = z.data();
  for (int j = 0; j < s0.size(); ++j) {
    const double* rj = r.data() + j * kBlock;
    __m256d shift_j[P];
    for (int l = 0; l < P; ++l) shift_j[l] = _mm256_set1_pd(shift(l, j));
    __m256d acc0 = _mm256_setzero_pd(), acc1[P], acc2[kPairs];
    for (int l = 0; l < P; ++l) acc1[l] = _mm256_setzero_pd();
    for (int l = 0; l < kPairs; ++l) acc2[l] = _mm256_setzero_pd();
    for (int i = 0; i < kBlock; i += 4) {
      const __m256d rr = _mm256_loadu_pd(rj + i);
      acc0 = _mm256_add_pd(acc0, rr);
      __m256d centred[P], weighted[P];
      for (int l = 0; l < P; ++l) {
        centred[l] = _mm256_sub_pd(_mm256_loadu_pd(zd + l * kBlock + i), shift_j[l]);
        weighted[l] = _mm256_mul_pd(rr, centred[l]);
        acc1[l] = _mm256_add_pd(acc1[l], weighted[l]);
      }
      int at = 0;
      for (int b = 0; b < P; ++b) {
        for (int a = 0; a <= b; ++a, ++at) acc2[at] = _mm256_fmadd_pd(weighted[b], centred[a], acc2[at]);
      }
    }
    s0(j) += horizontal_sum(acc0);
    for (int l = 0; l < P; ++l) s1(l, j) += horizontal_sum(acc1[l]);
    int at = 0;
    for (int b = 0; b < P; ++b) {
      for (int a = 0; a <= b; ++a, ++at) s2(b * P + a, j) += horizontal_sum(acc2[at]);
    }
  }
}
#endif

ComponentStats::ComponentStats(const GmoeParams& p, bool avx2)
    : s0(p.k()), shift(p.d() + 1, p.k()), s1(p.d() + 1, p.k()),
      s2((p.d() + 1) * (p.d() + 1), p.k()), centred_(kBlock, p.d() + 1),
      weighted_(kBlock, p.d() + 1), avx2_(avx2), simd_(p.d() <= kSimdMaxD && avx2) {
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

void ComponentStats::add(const Block& block, const BlockArray& r) {
  const int p = static_cast<int>(shift.rows());
#if defined(MOERATES_HAVE_AVX2)
  if (simd_) {
    switch (p) {
      case 2: return add_avx2<2>(block.z, r);
      case 3: return add_avx2<3>(block.z, r);
      case 4: return add_avx2<4>(block.z, r);
    }
  }
#endif
  for (int j = 0; j < s0.size(); ++j) {
    s0(j) += r.col(j).sum();
    for (int l = 0; l < p; ++l) {
      centred_.col(l) = block.z.col(l) - shift(l, j);
      weighted_.col(l) = r.col(j) * centred_.col(l);
      s1(l, j) += weighted_.col(l).sum();
    }
    for (int b = 0; b < p; ++b) {
      for (int a = 0; a <= b; ++a) {
        s2(b * p + a, j) += (weighted_.col(b) * centred_.col(a)).sum();
      }
    }
  }
}

double e_step(const ConstMat& x, const ConstVec& y, const GmoeParams& p,
              ComponentStats& stats, int threads) {
  const GmoeKernel kernel(p, true, stats.avx2());
  stats.reset(p);
  const int n = static_cast<int>(x.rows());
  const int parts = pass_parts(n, threads);
  if (parts == 1) {
    auto visit = [&](int, const Block& block, const BlockArray&, const BlockArray& w,
                     const RowArray&, const RowArray&) { stats.add(block, w); };
    return detail::for_each_block(x, y.data(), kernel, false, visit);
  }
  // Each thread takes a contiguous run of blocks with its own statistics;
  // they are summed in a fixed order, so the result does not depend on the
  // scheduling, only (through rounding) on the number of threads.
  std::vector<ComponentStats> part(parts, stats);
  std::vector<double> total(parts, 0.0);
  over_parts(n, parts, [&](int t, int first, int last) {
    ComponentStats& mine = part[t];
    auto visit = [&mine](int, const Block& block, const BlockArray&, const BlockArray& w,
                         const RowArray&, const RowArray&) { mine.add(block, w); };
    total[t] = detail::for_each_block(x, y.data(), kernel, false, visit, first, last);
  });
  double sum = 0.0;
  for (int t = 0; t < parts; ++t) {
    stats.s0 += part[t].s0;
    stats.s1 += part[t].s1;
    stats.s2 += part[t].s2;
    sum += total[t];
  }
  return sum;
}

void accumulate(const ConstMat& x, const ConstVec& y, const ConstMat& resp,
                ComponentStats& stats) {
  const int n = static_cast<int>(x.rows());
  const int d = static_cast<int>(x.cols());
  BlockArray z(kBlock, d + 1), r(kBlock, resp.cols());
  for (int start = 0; start < n; start += kBlock) {
    const int m = std::min(kBlock, n - start);
    z.setZero();
    r.setZero();
    z.leftCols(d).topRows(m) = x.middleRows(start, m).array();
    z.col(d).head(m) = y.segment(start, m).array();
    r.topRows(m) = resp.middleRows(start, m).array();
    stats.add(Block{m, z}, r);
  }
}

namespace {

// The covariance nearest s in the Gaussian likelihood under the bound
// gamma - diag(bounds.gamma) >= 0: the eigenvalues of D^-1/2 s D^-1/2
// clipped below at 1 (D = diag(bounds.gamma)). Returns whether the bound
// was active; `out` is s itself otherwise.
bool bound_gamma(const Eigen::MatrixXd& s, const Bounds& bounds, Eigen::MatrixXd& out) {
  const Eigen::VectorXd root = bounds.gamma.cwiseSqrt();
  const Eigen::MatrixXd inv_root2 = root.cwiseInverse() * root.cwiseInverse().transpose();
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(s.cwiseProduct(inv_root2));
  out = s;
  if (!(eig.eigenvalues().minCoeff() < 1.0)) return false;
  out.noalias() = eig.eigenvectors() * eig.eigenvalues().cwiseMax(1.0).asDiagonal() *
                  eig.eigenvectors().transpose();
  out = out.cwiseProduct(root * root.transpose());
  return true;
}

// A collapsed component's atom, brought within the bounds (it already is
// for every iterate but a start made from a partition).
void bound_atom(int j, const Bounds& bounds, GmoeParams& p) {
  Eigen::MatrixXd gam;
  bound_gamma(p.gamma(j), bounds, gam);
  p.gamma(j) = gam;
  p.nu(j) = std::max(p.nu(j), bounds.nu);
  for (int l = 0; l < p.d(); ++l) {
    p.a(j, l) = std::min(std::max(p.a(j, l), -bounds.a_max(l)), bounds.a_max(l));
  }
  if (bounds.intercept_bounded()) {
    const double beta = bounds.shifted_intercept(p.b(j), p.a.row(j));
    p.b(j) += std::min(std::max(beta, bounds.b_lo), bounds.b_hi) - beta;
  }
}

// Weights maximising sum_j n_j log pi_j over the simplex with pi_j >= floor
// (k * floor < 1): pi_j = max(floor, n_j / lambda), the components below the
// floor being those with the smallest n_j. When no weight reaches the floor
// this is n_j / n, normalised as plain EM normalises it.
void water_fill(const Eigen::VectorXd& nk, int n, double floor, Eigen::VectorXd& pi) {
  const int k = static_cast<int>(nk.size());
  pi = nk / n;
  if ((pi.array() >= floor).all()) {
    pi /= pi.sum();
    return;
  }
  std::vector<int> order(k);
  for (int j = 0; j < k; ++j) order[j] = j;
  std::sort(order.begin(), order.end(), [&nk](int i, int j) { return nk(i) < nk(j); });
  double rest = nk.sum();
  for (int m = 0; m < k; ++m) {
    // the m smallest at the floor, the others in proportion to n_j
    const double lambda = rest / (1.0 - m * floor);
    if (nk(order[m]) >= floor * lambda) {
      for (int i = 0; i < k; ++i) pi(order[i]) = i < m ? floor : nk(order[i]) / lambda;
      return;
    }
    rest -= nk(order[m]);
  }
  pi.setConstant(1.0 / k);
}

}  // namespace

void m_step(const ComponentStats& stats, int n, const Bounds& bounds,
            int iteration, GmoeParams& p, EmDiagnostics& diag) {
  const int d = p.d();
  const int q = d + 1;
  const double inf = std::numeric_limits<double>::infinity();
  const bool slope_bounded = bounds.slope_bounded();
  const bool intercept_bounded = bounds.intercept_bounded();
  Eigen::VectorXd mean(q), sxy(d), a(d), pi(p.k());
  Eigen::MatrixXd s(q, q), gam(d, d);
  Eigen::LLT<Eigen::MatrixXd> llt(d);
  // (a, beta) with beta = b - b_shift'a, for the intercept bound
  Eigen::MatrixXd h_ab(q, q);
  Eigen::VectorXd g_ab(q), t_ab(q), lo_ab(q), hi_ab(q);
  lo_ab << -bounds.a_max, bounds.b_lo;
  hi_ab << bounds.a_max, bounds.b_hi;
  water_fill(stats.s0, n, bounds.weight, pi);
  for (int j = 0; j < p.k(); ++j) {
    const double nk = stats.s0(j);
    if (!(nk >= kCollapsedFraction * n)) {
      // A collapsed component keeps its atom, so it stays in the fit (and in
      // the diagnostics) instead of turning into NaN or being dropped.
      if (diag.collapsed_at(j) == 0) diag.collapsed_at(j) = iteration;
      bound_atom(j, bounds, p);
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

    if (bound_gamma(sxx, bounds, gam)) ++diag.gamma_floor_hits(j);

    // The expert: least squares, within the bounds on (a, b) when there are any.
    double b_j, nu;
    if (!slope_bounded && !intercept_bounded) {
      llt.compute(sxx);
      if (llt.info() == Eigen::Success) {
        a = llt.solve(sxy);
      } else {
        a = p.a.row(j).transpose();
        box_qp(sxx, sxy, Eigen::VectorXd::Constant(d, -inf), Eigen::VectorXd::Constant(d, inf), a);
      }
      b_j = mean(d) - a.dot(mean.head(d));
      // weighted mean squared residual of y on (1, x) at this slope
      nu = syy - 2.0 * a.dot(sxy) + a.dot(sxx * a);
    } else if (!intercept_bounded) {
      a = p.a.row(j).transpose();
      box_qp(sxx, sxy, -bounds.a_max, bounds.a_max, a);
      b_j = mean(d) - a.dot(mean.head(d));
      nu = syy - 2.0 * a.dot(sxy) + a.dot(sxx * a);
    } else {
      // mean squared residual: syy - 2a'sxy + a'sxx a + (beta + a'mu - m_y)^2
      const Eigen::VectorXd mu = mean.head(d) + bounds.b_shift;
      h_ab.topLeftCorner(d, d) = sxx + mu * mu.transpose();
      h_ab.col(d).head(d) = mu;
      h_ab.row(d).head(d) = mu.transpose();
      h_ab(d, d) = 1.0;
      g_ab << sxy + mean(d) * mu, mean(d);
      t_ab << p.a.row(j).transpose(), bounds.shifted_intercept(p.b(j), p.a.row(j));
      box_qp(h_ab, g_ab, lo_ab, hi_ab, t_ab);
      a = t_ab.head(d);
      b_j = t_ab(d) + a.dot(bounds.b_shift);
      const double centre = mean(d) - a.dot(mean.head(d)) - b_j;
      nu = syy - 2.0 * a.dot(sxy) + a.dot(sxx * a) + centre * centre;
    }
    if (!(nu >= bounds.nu)) {
      nu = bounds.nu;
      ++diag.nu_floor_hits(j);
    }
    p.c.row(j) = mean.head(d).transpose();
    p.gamma(j) = gam;
    p.a.row(j) = a.transpose();
    p.b(j) = b_j;
    p.nu(j) = nu;
  }
  p.pi = pi;
}

double gamma_bound_margin(const GmoeParams& p, int j, const Bounds& bounds) {
  const Eigen::VectorXd inv_root = bounds.gamma.cwiseSqrt().cwiseInverse();
  const Eigen::MatrixXd scaled = p.gamma(j).cwiseProduct(inv_root * inv_root.transpose());
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(scaled, Eigen::EigenvaluesOnly)
      .eigenvalues()
      .minCoeff();
}

namespace {

// Relative tolerance of bound_activity() and within_bounds().
const double kBoundSlack = 1e-9;

// Whether the shifted intercept sits on a (finite) bound.
bool intercept_at(double beta, double bound) {
  return std::isfinite(bound) && std::fabs(beta - bound) <= kBoundSlack * std::max(1.0, std::fabs(bound));
}

}  // namespace

BoundActivity bound_activity(const GmoeParams& p, const Bounds& bounds) {
  BoundActivity act(p.k());
  for (int j = 0; j < p.k(); ++j) {
    act.weight(j) = p.pi(j) <= bounds.weight * (1 + kBoundSlack);
    act.gamma(j) = gamma_bound_margin(p, j, bounds) <= 1 + kBoundSlack;
    act.nu(j) = p.nu(j) <= bounds.nu * (1 + kBoundSlack);
    act.a(j) = (p.a.row(j).transpose().array().abs() >= bounds.a_max.array() * (1 - kBoundSlack)).any();
    if (bounds.intercept_bounded()) {
      const double beta = bounds.shifted_intercept(p.b(j), p.a.row(j));
      act.b(j) = intercept_at(beta, bounds.b_lo) || intercept_at(beta, bounds.b_hi);
    }
  }
  return act;
}

bool within_bounds(const GmoeParams& p, const Bounds& bounds) {
  for (int j = 0; j < p.k(); ++j) {
    if (!(p.pi(j) >= bounds.weight * (1 - kBoundSlack)) ||
        !(p.nu(j) >= bounds.nu * (1 - kBoundSlack)) ||
        !(gamma_bound_margin(p, j, bounds) >= 1 - kBoundSlack) ||
        !(p.a.row(j).transpose().array().abs() <= bounds.a_max.array() * (1 + kBoundSlack)).all()) {
      return false;
    }
    if (bounds.intercept_bounded()) {
      const double beta = bounds.shifted_intercept(p.b(j), p.a.row(j));
      if (!(beta >= bounds.b_lo - kBoundSlack * std::max(1.0, std::fabs(bounds.b_lo))) ||
          !(beta <= bounds.b_hi + kBoundSlack * std::max(1.0, std::fabs(bounds.b_hi)))) {
        return false;
      }
    }
  }
  return true;
}

Eigen::MatrixXd posterior(const ConstMat& x, const double* y, const GmoeParams& p,
                          bool log, bool avx2) {
  const GmoeKernel kernel(p, y != nullptr, avx2);
  Eigen::MatrixXd out(x.rows(), p.k());
  auto visit = [&](int start, const Block& block, const BlockArray& lp,
                   const BlockArray& w, const RowArray& lse, const RowArray&) {
    for (int j = 0; j < p.k(); ++j) {
      auto dest = out.col(j).segment(start, block.rows).array();
      if (log) {
        dest = (lp.col(j) - lse).head(block.rows);
      } else {
        dest = w.col(j).head(block.rows);
      }
    }
  };
  detail::for_each_block(x, y, kernel, true, visit);
  return out;
}

Eigen::VectorXd log_density(const ConstMat& x, const double* y, const GmoeParams& p,
                            bool avx2) {
  const GmoeKernel kernel(p, y != nullptr, avx2);
  Eigen::VectorXd out(x.rows());
  auto visit = [&](int start, const Block& block, const BlockArray&, const BlockArray&,
                   const RowArray& lse, const RowArray& shift) {
    out.segment(start, block.rows) = (lse - shift).head(block.rows).matrix();
  };
  detail::for_each_block(x, y, kernel, true, visit);
  return out;
}

Eigen::VectorXd log_conditional(const ConstMat& x, const double* y, const GmoeParams& p,
                                bool avx2) {
  const Eigen::MatrixXd log_gate = posterior(x, nullptr, p, true, avx2);
  const GmoeKernel experts(p, true, avx2);
  const int n = static_cast<int>(x.rows()), d = p.d(), k = p.k();
  const double inf = std::numeric_limits<double>::infinity();
  Eigen::VectorXd out(n), xi(d), terms(k);
  for (int i = 0; i < n; ++i) {
    xi = x.row(i).transpose();
    for (int j = 0; j < k; ++j) {
      terms(j) = log_gate(i, j) - 0.5 * (kLog2Pi + std::log(p.nu(j))) -
                 0.5 * std::exp(experts.log_scaled_residual(xi.data(), y[i], j));
    }
    const double top = terms.maxCoeff();
    out(i) = top == -inf ? top : top + std::log((terms.array() - top).exp().sum());
  }
  return out;
}

}  // namespace moerates
