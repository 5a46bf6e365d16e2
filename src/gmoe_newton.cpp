#include "gmoe_newton.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace moerates {

ThetaLayout::ThetaLayout(int k, int d, const std::vector<bool>& weight_free)
    : k_(k), d_(d), tri_(d * (d + 1) / 2), block_size_(2 * d + d * (d + 1) / 2 + 2), n_alpha_(0),
      weight_free_(weight_free), alpha_(k, -1) {
  int last = -1;
  for (int j = 0; j < k; ++j) {
    if (weight_free_[j]) last = j;
  }
  if (last < 0) throw std::invalid_argument("no free weight");
  for (int j = 0; j < k; ++j) {
    if (weight_free_[j] && j != last) alpha_[j] = n_alpha_++;
  }
}

int ThetaLayout::r_at(int l, int m) const {
  // column m of the lower triangle starts after columns 0..m-1
  return d_ + m * d_ - m * (m - 1) / 2 + (l - m);
}

namespace {

// R = L^-1, L the Cholesky factor of Gamma: Gamma^-1 = R'R.
Eigen::MatrixXd precision_factor(const Eigen::MatrixXd& gamma) {
  Eigen::LLT<Eigen::MatrixXd> llt(gamma);
  if (llt.info() != Eigen::Success) {
    throw std::domain_error("a gate covariance is numerically singular");
  }
  Eigen::MatrixXd r = Eigen::MatrixXd::Identity(gamma.rows(), gamma.cols());
  llt.matrixL().solveInPlace(r);
  return r;
}

}  // namespace

Eigen::VectorXd ThetaLayout::pack(const GmoeParams& p) const {
  Eigen::VectorXd theta(size());
  int ref = -1;
  for (int j = 0; j < k_; ++j) {
    if (weight_free_[j]) ref = j;
  }
  for (int j = 0; j < k_; ++j) {
    if (alpha_[j] >= 0) theta(alpha_[j]) = std::log(p.pi(j)) - std::log(p.pi(ref));
  }
  for (int j = 0; j < k_; ++j) {
    const int at = block(j);
    const Eigen::MatrixXd r = precision_factor(p.gamma(j));
    for (int l = 0; l < d_; ++l) theta(at + c_at(l)) = p.c(j, l);
    for (int m = 0; m < d_; ++m) {
      for (int l = m; l < d_; ++l) theta(at + r_at(l, m)) = l == m ? std::log(r(l, l)) : r(l, m);
    }
    for (int l = 0; l < d_; ++l) theta(at + a_at(l)) = p.a(j, l);
    theta(at + b_at()) = p.b(j);
    theta(at + log_nu_at()) = std::log(p.nu(j));
  }
  return theta;
}

GmoeParams ThetaLayout::unpack(const Eigen::VectorXd& theta, const GmoeParams& like) const {
  GmoeParams p = like;
  double held = 0.0, top = 0.0;
  for (int j = 0; j < k_; ++j) {
    if (!weight_free_[j]) held += like.pi(j);
    if (alpha_[j] >= 0) top = std::max(top, theta(alpha_[j]));
  }
  double total = 0.0;
  for (int j = 0; j < k_; ++j) {
    if (!weight_free_[j]) continue;
    p.pi(j) = std::exp((alpha_[j] >= 0 ? theta(alpha_[j]) : 0.0) - top);
    total += p.pi(j);
  }
  for (int j = 0; j < k_; ++j) {
    if (weight_free_[j]) p.pi(j) *= (1.0 - held) / total;
  }
  Eigen::MatrixXd r(d_, d_);
  for (int j = 0; j < k_; ++j) {
    const int at = block(j);
    r.setZero();
    for (int l = 0; l < d_; ++l) p.c(j, l) = theta(at + c_at(l));
    for (int m = 0; m < d_; ++m) {
      for (int l = m; l < d_; ++l) {
        r(l, m) = l == m ? std::exp(theta(at + r_at(l, m))) : theta(at + r_at(l, m));
      }
    }
    Eigen::MatrixXd chol = Eigen::MatrixXd::Identity(d_, d_);
    r.triangularView<Eigen::Lower>().solveInPlace(chol);
    p.gamma(j).noalias() = chol * chol.transpose();
    for (int l = 0; l < d_; ++l) p.a(j, l) = theta(at + a_at(l));
    p.b(j) = theta(at + b_at());
    p.nu(j) = std::exp(theta(at + log_nu_at()));
  }
  return p;
}

namespace {

// What one part of the observations adds to the information.
struct InformationSums {
  double loglik = 0;
  Eigen::MatrixXd outer;             // sum_i gbar_i gbar_i' (lower triangle)
  // per component j, the lower triangle of sum_i r_ij v_ij v_ij' with
  // v_ij = (S_ij, 1, x_i - c_j, e_ij): the S S' block, and the weighted
  // moments of (x - c_j, e) from which the second derivatives are made
  std::vector<Eigen::MatrixXd> own;
  Eigen::VectorXd score;

  InformationSums(int size, int k, int width)
      : outer(Eigen::MatrixXd::Zero(size, size)),
        own(k, Eigen::MatrixXd::Zero(width, width)),
        score(Eigen::VectorXd::Zero(size)) {}
  void add(const InformationSums& other) {
    loglik += other.loglik;
    outer += other.outer;
    score += other.score;
    for (size_t j = 0; j < own.size(); ++j) own[j] += other.own[j];
  }
};

// Rows of gbar_i and of sqrt(r_ij) v_ij are gathered for this many
// observations before each rank update, so that the updates run as
// matrix products of useful size.
constexpr int kGather = 8 * kBlock;

#if defined(MOERATES_HAVE_AVX2)
MOERATES_TARGET_AVX2 inline double sum_lanes(__m256d v) {
  const __m128d half = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
}

// The lower triangle of c += a'a, for the first `rows` rows (a multiple of
// 4) of the column-major a: every entry a dot product of two columns, eight
// entries of one column of c at a time, with fused multiply-adds.
MOERATES_TARGET_AVX2 void gram_update_avx2(const Eigen::MatrixXd& a, int rows, Eigen::MatrixXd& c) {
  const int cols = static_cast<int>(a.cols());
  const int lda = static_cast<int>(a.rows());
  const double* base = a.data();
  for (int q = 0; q < cols; ++q) {
    const double* aq = base + q * lda;
    int p = q;
    for (; p + 8 <= cols; p += 8) {
      __m256d s[8];
      for (int u = 0; u < 8; ++u) s[u] = _mm256_setzero_pd();
      for (int i = 0; i < rows; i += 4) {
        const __m256d x = _mm256_loadu_pd(aq + i);
        for (int u = 0; u < 8; ++u) {
          s[u] = _mm256_fmadd_pd(_mm256_loadu_pd(base + (p + u) * lda + i), x, s[u]);
        }
      }
      for (int u = 0; u < 8; ++u) c(p + u, q) += sum_lanes(s[u]);
    }
    for (; p < cols; ++p) {
      const double* ap = base + p * lda;
      __m256d s0 = _mm256_setzero_pd();
      for (int i = 0; i < rows; i += 4) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(ap + i), _mm256_loadu_pd(aq + i), s0);
      }
      c(p, q) += sum_lanes(s0);
    }
  }
}
#endif

// The lower triangle of c += a'a over the first `rows` rows of a.
void gram_update(const Eigen::MatrixXd& a, int rows, bool avx2, Eigen::MatrixXd& c) {
#if defined(MOERATES_HAVE_AVX2)
  if (avx2) return gram_update_avx2(a, rows, c);
#endif
  c.selfadjointView<Eigen::Lower>().rankUpdate(a.topRows(rows).transpose());
}

}  // namespace

Information information(const ConstMat& x, const ConstVec& y, const GmoeParams& p,
                        const ThetaLayout& layout, int threads, bool avx2) {
  const GmoeKernel kernel(p, true, avx2);
  const int n = static_cast<int>(x.rows());
  const int k = p.k(), d = p.d(), size = layout.size(), pb = layout.block_size();
  std::vector<Eigen::MatrixXd> r(k);
  for (int j = 0; j < k; ++j) r[j] = precision_factor(p.gamma(j));
  // shares of the free weights, pi~_j = pi_j / sum of the free pi
  Eigen::VectorXd share = Eigen::VectorXd::Zero(k);
  for (int j = 0; j < k; ++j) {
    if (layout.weight_free(j)) share(j) = p.pi(j);
  }
  share /= share.sum();

  const int parts = pass_parts(n, threads);
  const int width = pb + d + 2;
  std::vector<InformationSums> sums(parts, InformationSums(size, k, width));
  over_parts(n, parts, [&](int t, int first, int last) {
    InformationSums& mine = sums[t];
    Eigen::MatrixXd g(kGather, size);
    std::vector<Eigen::MatrixXd> v(k, Eigen::MatrixXd(kGather, width));
    Eigen::MatrixXd s(kBlock, pb), xc(kBlock, d), u(kBlock, d);
    Eigen::VectorXd e(kBlock), root(kBlock), free_total(kBlock);
    int filled = 0;
    auto flush = [&]() {
      if (filled == 0) return;
      gram_update(g, filled, avx2, mine.outer);
      mine.score += g.topRows(filled).colwise().sum().transpose();
      for (int j = 0; j < k; ++j) gram_update(v[j], filled, avx2, mine.own[j]);
      filled = 0;
    };
    auto visit = [&](int, const Block& block, const BlockArray&, const BlockArray& w,
                     const RowArray&, const RowArray&) {
      free_total.setZero();
      for (int j = 0; j < k; ++j) {
        if (layout.weight_free(j)) free_total += w.col(j).matrix();
      }
      auto rows = g.middleRows(filled, kBlock);
      for (int j = 0; j < k; ++j) {
        if (layout.alpha(j) >= 0) rows.col(layout.alpha(j)) = w.col(j).matrix() - share(j) * free_total;
      }
      const auto xs = block.z.leftCols(d).matrix();
      for (int j = 0; j < k; ++j) {
        const double inv_nu = 1.0 / p.nu(j);
        // column by column: d is small, and products of such thin
        // matrices would go through the general matrix product
        const Eigen::MatrixXd& rj = r[j];
        e = block.z.col(d).matrix();
        e.array() -= p.b(j);
        for (int l = 0; l < d; ++l) {
          xc.col(l) = xs.col(l).array() - p.c(j, l);
          e -= p.a(j, l) * xs.col(l);
        }
        for (int l = 0; l < d; ++l) {
          u.col(l) = rj(l, 0) * xc.col(0);
          for (int m = 1; m <= l; ++m) u.col(l) += rj(l, m) * xc.col(m);
        }
        for (int m = 0; m < d; ++m) {
          s.col(m) = rj(m, m) * u.col(m);
          for (int l = m + 1; l < d; ++l) s.col(m) += rj(l, m) * u.col(l);
        }
        for (int m = 0; m < d; ++m) {
          for (int l = m; l < d; ++l) {
            auto col = s.col(layout.r_at(l, m));
            if (l == m) {
              col = (1.0 - r[j](l, l) * u.col(l).array() * xc.col(m).array()).matrix();
            } else {
              col = -u.col(l).cwiseProduct(xc.col(m));
            }
          }
        }
        for (int l = 0; l < d; ++l) s.col(layout.a_at(l)) = inv_nu * e.cwiseProduct(xs.col(l));
        s.col(layout.b_at()) = inv_nu * e;
        s.col(layout.log_nu_at()) = (0.5 * inv_nu * e.array().square() - 0.5).matrix();
        const auto wj = w.col(j).matrix();
        rows.middleCols(layout.block(j), pb).noalias() = wj.asDiagonal() * s;
        root = wj.cwiseSqrt();
        auto vj = v[j].middleRows(filled, kBlock);
        vj.leftCols(pb).noalias() = root.asDiagonal() * s;
        vj.col(pb) = root;
        vj.middleCols(pb + 1, d).noalias() = root.asDiagonal() * xc;
        vj.col(pb + d + 1) = root.cwiseProduct(e);
      }
      filled += kBlock;
      if (filled == kGather) flush();
    };
    mine.loglik = detail::for_each_block(x, y.data(), kernel, false, visit, first, last);
    flush();
  });
  for (int t = 1; t < parts; ++t) sums[0].add(sums[t]);
  InformationSums& all = sums[0];

  Information out;
  out.loglik = all.loglik;
  out.score = all.score;
  out.counts.resize(k);
  Eigen::MatrixXd& h = out.hessian;
  h = all.outer.selfadjointView<Eigen::Lower>();
  h = -h;

  // Weights: sum_j r_ij (grad^2 log pi_j + s s') in the alpha block, and the
  // alpha-block cross terms sum_i r_ij (e_j - pi~) S_ij'.
  Eigen::VectorXd count(k);
  for (int j = 0; j < k; ++j) count(j) = out.counts(j) = all.own[j](pb, pb);
  double free_count = 0.0;
  for (int j = 0; j < k; ++j) {
    if (layout.weight_free(j)) free_count += count(j);
  }
  for (int j = 0; j < k; ++j) {
    const int aj = layout.alpha(j);
    if (aj < 0) continue;
    for (int m = 0; m < k; ++m) {
      const int am = layout.alpha(m);
      if (am < 0) continue;
      // -N (diag(pi~) - pi~ pi~') + sum_l N_l (e_l - pi~)(e_l - pi~)', N
      // the count of the free components
      double v = 2.0 * free_count * share(j) * share(m) - count(j) * share(m) - count(m) * share(j);
      if (j == m) v += count(j) - free_count * share(j);
      h(aj, am) += v;
    }
  }
  for (int j = 0; j < k; ++j) {
    if (!layout.weight_free(j)) continue;
    const Eigen::VectorXd gj = all.score.segment(layout.block(j), pb);
    for (int m = 0; m < k; ++m) {
      const int am = layout.alpha(m);
      if (am < 0) continue;
      const double coef = (m == j ? 1.0 : 0.0) - share(m);
      h.row(am).segment(layout.block(j), pb) += coef * gj.transpose();
      h.col(am).segment(layout.block(j), pb) += coef * gj;
    }
  }

  // Each component's block: sum_i r_ij (grad^2 l_ij + S_ij S_ij').
  for (int j = 0; j < k; ++j) {
    const int at = layout.block(j);
    auto blk = h.block(at, at, pb, pb);
    const Eigen::MatrixXd own = all.own[j].selfadjointView<Eigen::Lower>();
    blk += own.topLeftCorner(pb, pb);
    const Eigen::MatrixXd gm = own.bottomRightCorner(d + 2, d + 2);
    const double nk = gm(0, 0), nu = p.nu(j);
    const Eigen::VectorXd m1 = gm.col(0).segment(1, d);           // sum r (x - c)
    const Eigen::MatrixXd m2 = gm.block(1, 1, d, d);              // sum r (x - c)(x - c)'
    const double se = gm(d + 1, 0), see = gm(d + 1, d + 1);      // sum r e, sum r e^2
    const Eigen::VectorXd sexc = gm.col(d + 1).segment(1, d);     // sum r e (x - c)
    const Eigen::RowVectorXd c = p.c.row(j);
    const Eigen::VectorXd sx = m1 + nk * c.transpose();           // sum r x
    const Eigen::MatrixXd sxx = m2 + m1 * c + c.transpose() * m1.transpose() + nk * c.transpose() * c;
    const Eigen::VectorXd sex = sexc + se * c.transpose();         // sum r e x
    const Eigen::MatrixXd& rj = r[j];
    const Eigen::VectorXd rm1 = rj * m1;                           // sum r u
    const Eigen::MatrixXd rm2 = rj * m2;
    blk.block(0, 0, d, d) -= nk * rj.transpose() * rj;
    for (int m = 0; m < d; ++m) {
      for (int l = m; l < d; ++l) {
        const int q = layout.r_at(l, m);
        const double scale = l == m ? rj(l, l) : 1.0;
        for (int pp = 0; pp < d; ++pp) {
          const double v = scale * ((pp == m ? rm1(l) : 0.0) + rj(l, pp) * m1(m));
          blk(q, pp) += v;
          blk(pp, q) += v;
        }
        for (int m2i = 0; m2i < d; ++m2i) {
          for (int l2 = m2i; l2 < d; ++l2) {
            if (l2 != l) continue;
            const int q2 = layout.r_at(l2, m2i);
            const double scale2 = l2 == m2i ? rj(l2, l2) : 1.0;
            double v;
            if (q2 == q && l == m) {
              v = -rj(l, l) * rj(l, l) * m2(l, l) - rj(l, l) * rm2(l, l);
            } else {
              v = -scale * scale2 * m2(m, m2i);
            }
            blk(q, q2) += v;
          }
        }
      }
    }
    const int ia = layout.a_at(0), ib = layout.b_at(), ie = layout.log_nu_at();
    blk.block(ia, ia, d, d) -= sxx / nu;
    blk.block(ia, ib, d, 1) -= sx / nu;
    blk.block(ib, ia, 1, d) -= sx.transpose() / nu;
    blk(ib, ib) -= nk / nu;
    blk.block(ia, ie, d, 1) -= sex / nu;
    blk.block(ie, ia, 1, d) -= sex.transpose() / nu;
    blk(ib, ie) -= se / nu;
    blk(ie, ib) -= se / nu;
    blk(ie, ie) -= see / (2.0 * nu);
  }
  return out;
}

Eigen::VectorXd score_from_stats(const ComponentStats& stats, const GmoeParams& p,
                                 const ThetaLayout& layout) {
  const int k = p.k(), d = p.d(), q = d + 1;
  Eigen::VectorXd g(layout.size());
  double free_count = 0.0, free_weight = 0.0;
  for (int j = 0; j < k; ++j) {
    if (layout.weight_free(j)) free_count += stats.s0(j), free_weight += p.pi(j);
  }
  for (int j = 0; j < k; ++j) {
    if (layout.alpha(j) >= 0) g(layout.alpha(j)) = stats.s0(j) - p.pi(j) / free_weight * free_count;
  }
  Eigen::MatrixXd m2(d, d);
  Eigen::VectorXd m_yx(d);
  for (int j = 0; j < k; ++j) {
    const int at = layout.block(j);
    const double nk = stats.s0(j), nu = p.nu(j);
    // moments of (x - c_j, y~), y~ = y - a_j'c_j - b_j; e = y~ - a_j'(x - c_j)
    const Eigen::VectorXd m1 = stats.s1.col(j).head(d);
    for (int b = 0; b < d; ++b) {
      for (int a = 0; a <= b; ++a) m2(a, b) = m2(b, a) = stats.s2(b * q + a, j);
      m_yx(b) = stats.s2(d * q + b, j);
    }
    const Eigen::VectorXd aj = p.a.row(j).transpose();
    const double sum_e = stats.s1(d, j) - aj.dot(m1);
    const Eigen::VectorXd sum_exc = m_yx - m2 * aj;
    const double sum_ee = stats.s2(d * q + d, j) - 2.0 * aj.dot(m_yx) + aj.dot(m2 * aj);
    const Eigen::MatrixXd r = precision_factor(p.gamma(j));
    g.segment(at, d) = r.transpose() * (r * m1);
    const Eigen::MatrixXd rm2 = r * m2;
    for (int m = 0; m < d; ++m) {
      for (int l = m; l < d; ++l) {
        g(at + layout.r_at(l, m)) = l == m ? nk - r(l, l) * rm2(l, l) : -rm2(l, m);
      }
    }
    g.segment(at + layout.a_at(0), d) = (sum_exc + sum_e * p.c.row(j).transpose()) / nu;
    g(at + layout.b_at()) = sum_e / nu;
    g(at + layout.log_nu_at()) = 0.5 * (sum_ee / nu - nk);
  }
  return g;
}

QuadraticModel::QuadraticModel(const Eigen::MatrixXd& A, const Eigen::VectorXd& g)
    : A_(A), g_(g) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(A);
  lambda_ = eig.eigenvalues();
  vectors_ = eig.eigenvectors();
  coef_ = vectors_.transpose() * g;
  decrement_ = std::numeric_limits<double>::infinity();
  if (lambda_.size() == 0) {
    decrement_ = 0.0;
  } else if (lambda_(0) > 0) {
    decrement_ = 0.5 * (coef_.array().square() / lambda_.array()).sum();
  }
}

Eigen::VectorXd QuadraticModel::step(double radius) const {
  const int m = static_cast<int>(lambda_.size());
  if (m == 0) return Eigen::VectorXd();
  auto at = [&](double mu) {
    return Eigen::VectorXd(vectors_ * (coef_.array() / (lambda_.array() + mu)).matrix());
  };
  const double low = lambda_(0);
  if (low > 0) {
    const Eigen::VectorXd newton = at(0.0);
    if (newton.norm() <= radius) return newton;
  }
  // |s(mu)| decreases in mu > -low: bracket and bisect |s(mu)| = radius.
  double lo = std::max(0.0, -low);
  const double tiny = 1e-12 * std::max(1.0, lambda_.cwiseAbs().maxCoeff());
  double probe = lo + tiny;
  if (at(probe).norm() <= radius) {
    // the hard case: the model's maximiser within the ball has a component
    // along the eigenvector of the smallest eigenvalue
    Eigen::VectorXd s = at(probe);
    const double room = radius * radius - s.squaredNorm();
    if (room > 0) s += std::sqrt(room) * vectors_.col(0);
    return s;
  }
  double hi = probe + g_.norm() / radius + std::fabs(low);
  while (at(hi).norm() > radius) hi *= 2.0;
  lo = probe;
  for (int it = 0; it < 100 && hi - lo > 1e-14 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    if (at(mid).norm() > radius) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return at(hi);
}

double QuadraticModel::gain(const Eigen::VectorXd& s) const {
  return g_.dot(s) - 0.5 * s.dot(A_ * s);
}

}  // namespace moerates
