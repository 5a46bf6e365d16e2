#include "cmoe_core.h"

#include "fast_exp.h"
#include "squarem.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

namespace moerates {

namespace {

constexpr double kLog2Pi = 1.8378770664093454836;

// Rows per chunk of the E-step and of the nonlinear experts: a product of
// 64 factors in [1, 2] cannot overflow, and the scratch stays on the stack.
constexpr int kChunk = 64;

// Below this summed prompt weight the weighted least squares has no data to
// speak of; the prompt's (eta, nu) are then kept rather than divided by ~0.
constexpr double kEmptyWeight = 1e-250;

// EM converges linearly, so a small last gain can hide a large remaining
// one. Aitken's extrapolation estimates what is left from the ratio of the
// last two gains, a = gain / last_gain: gain * a / (1 - a). Converged when
// the last gain and the estimated remainder are both within `bound`; a gain
// at or below zero (rounding) means the likelihood no longer moves.
bool converged(double gain, double last_gain, double bound) {
  if (gain <= 0) return gain > -bound;
  if (gain > bound || !(last_gain > 0)) return false;
  const double a = gain / last_gain;
  return a < 1 && gain * a / (1 - a) <= bound;
}

// log(1 + exp(t)) without overflow, for the sigmoid gate's log weights.
double softplus(double t) { return std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))); }

// Holds the data and every n-sized buffer of a fit, allocated once. The
// invariant between calls: z_ and r_ are the linear predictor x'a (+ b) and
// the residual y - h(z) at the current eta, and, for the sigmoid gate, g_
// is beta'x + tau at the current gate. Case weights cw_ are all 1 when none
// are given: multiplying by 1 is exact, so an unweighted fit is the same bit
// for bit whichever way it is computed.
class Fitter {
 public:
  Fitter(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y,
         const Eigen::Ref<const Eigen::VectorXd>& logf0, const CmoeStructure& model,
         int mstep_iter, const CmoeBounds& bounds, const CmoeWeighting& weighting, bool avx2)
      : x_(x), y_(y), logf0_(logf0), expert_(model.expert), intercept_(model.intercept),
        gated_(model.gated), mstep_iter_(mstep_iter),
        bounds_(bounds), avx2_(avx2), n_(static_cast<int>(x.rows())), d_(static_cast<int>(x.cols())),
        q_eta_(d_ + (model.intercept ? 1 : 0)),
        weighted_(weighting.case_weights.size() > 0), fixed_lambda_(weighting.fixed_lambda),
        z_(n_), r_(n_), w_(n_), z_try_(n_), r_try_(n_), v_(n_), q_(n_),
        g_(model.gated ? n_ : 0), g_try_(model.gated ? n_ : 0),
        cw_(weighted_ ? Eigen::VectorXd(weighting.case_weights) : Eigen::VectorXd::Ones(n_)),
        A_(q_eta_, q_eta_), c_(q_eta_), G_(d_ + 1, d_ + 1), gc_(d_ + 1) {
    case_total_ = weighted_ ? cw_.sum() : static_cast<double>(n_);
  }

  void set_eta(const Eigen::VectorXd& eta) { predict(eta, z_, r_); }
  void set_gate(const Eigen::VectorXd& gate) {
    if (gated_) gate_predict(gate, g_);
  }

  // Posterior prompt weights into w_ and the (case-weighted) log-likelihood;
  // per-row log-densities into logdens when it is given. With t = la - lb
  // the log terms of f0 and of the prompt, everything follows from
  // e = exp(-|t|) in (0, 1]: one vectorised exp per row, and, unweighted,
  // one log per chunk for the sum of log(1 + e), whose product over a chunk
  // cannot overflow.
  double e_step(const CmoeParams& p, double* logdens) {
    const double log_lambda = gated_ ? 0.0 : std::log(p.lambda);
    const double log_rest = gated_ ? 0.0 : std::log1p(-p.lambda);
    const double constant = log_lambda - 0.5 * (kLog2Pi + std::log(p.nu));
    const double half_inv_nu = 0.5 / p.nu;
    double total = 0.0, weight = 0.0, wsse = 0.0;
    for (int start = 0; start < n_; start += kChunk) {
      const int len = std::min(kChunk, n_ - start);
      const auto r = r_.segment(start, len).array();
      la_ = log_rest + logf0_.segment(start, len).array();
      lb_ = constant - r.square() * half_inv_nu;
      if (gated_) {
        // log s = -softplus(-g) and log(1 - s) = -softplus(g), from one exp
        const auto g = g_.segment(start, len).array();
        e_ = -g.abs();
        detail::exp_nonpositive(e_.data(), len, avx2_);
        top_ = e_.log1p();
        la_ -= g.max(0.0) + top_;
        lb_ -= (-g).max(0.0) + top_;
      }
      top_ = la_.max(lb_);
      e_ = -(la_ - lb_).abs();
      detail::exp_nonpositive(e_.data(), len, avx2_);
      w_chunk_ = (la_ > lb_).select(e_, 1.0) / (1.0 + e_);
      w_.segment(start, len) = w_chunk_.matrix();
      const auto cw = cw_.segment(start, len).array();
      weight += (w_chunk_ * cw).sum();
      wsse += (w_chunk_ * cw * r.square()).sum();
      if (weighted_) {
        total += (cw * (top_ + e_.log1p())).sum();
      } else {
        total += top_.sum() + std::log((1.0 + e_).prod());
      }
      if (logdens) {
        Eigen::Map<Eigen::ArrayXd>(logdens + start, len) = top_ + e_.log1p();
      }
    }
    weight_ = weight;
    wsse_ = wsse;
    return total;
  }

  void set_weights(const Eigen::Ref<const Eigen::VectorXd>& w) {
    w_ = w;
    weight_ = (w_.array() * cw_.array()).sum();
    wsse_ = (w_.array() * cw_.array() * r_.array().square()).sum();
  }
  const Eigen::VectorXd& weights() const { return w_; }
  // Length of the gate (beta, tau): 0 for a constant weight.
  int gate_size() const { return gated_ ? d_ + 1 : 0; }

  // lambda = the case-weighted mean of w within bounds (or held fixed); eta
  // by weighted least squares (one exact step for a linear expert,
  // Levenberg-Marquardt steps otherwise, each accepted only if it lowers the
  // weighted residual sum of squares); nu the weighted mean squared
  // residual, floored. The weights are w times the case weights.
  void m_step(CmoeParams& p, CmoeDiagnostics& diag) {
    const double total = weight_;
    if (gated_) {
      gate_m_step(p.gate, diag);
    } else {
      double lambda = fixed_lambda_ > 0 ? fixed_lambda_ : total / case_total_;
      if (lambda < bounds_.lambda || lambda > 1.0 - bounds_.lambda) {
        lambda = std::min(std::max(lambda, bounds_.lambda), 1.0 - bounds_.lambda);
        ++diag.lambda_bound_hits;
      }
      p.lambda = lambda;
    }
    if (!(total > kEmptyWeight)) {
      ++diag.prompt_empty;
      return;
    }
    const double inv_total = 1.0 / total;
    double sse = wsse_ * inv_total;
    const int steps = expert_ == Expert::Linear ? 1 : mstep_iter_;
    for (int step = 0; step < steps; ++step) {
      expert_equations(inv_total);
      const double before = sse;
      if (!improve(p.eta, inv_total, sse)) break;
      if (before - sse <= 1e-12 * before) break;
    }
    double nu = sse;
    if (!(nu >= bounds_.nu)) {
      nu = bounds_.nu;
      ++diag.nu_floor_hits;
    }
    p.nu = nu;
  }

 private:
  // z = x'a + b and r = y - h(z). The nonlinear experts go through
  // e = exp(-|z|) (or exp(-2|z|)) in chunks, so they share the vectorised exp;
  // tanh near 0, where 1 - e loses digits, is left to std::tanh.
  void predict(const Eigen::VectorXd& eta, Eigen::VectorXd& z, Eigen::VectorXd& r) {
    z.noalias() = x_ * eta.head(d_);
    if (intercept_) z.array() += eta[d_];
    if (expert_ == Expert::Linear) {
      r = y_ - z;
      return;
    }
    const double factor = expert_ == Expert::Tanh ? 2.0 : 1.0;
    for (int start = 0; start < n_; start += kChunk) {
      const int len = std::min(kChunk, n_ - start);
      e_ = -factor * z.segment(start, len).array().abs();
      detail::exp_nonpositive(e_.data(), len, avx2_);
      for (int j = 0; j < len; ++j) {
        const double zi = z[start + j], e = e_[j];
        double h;
        if (expert_ == Expert::Sigmoid) {
          h = (zi >= 0 ? 1.0 : e) / (1.0 + e);
        } else if (std::abs(zi) < 0.3) {
          h = std::tanh(zi);
        } else {
          h = std::copysign((1.0 - e) / (1.0 + e), zi);
        }
        r[start + j] = y_[start + j] - h;
      }
    }
  }

  double weighted_sse(const Eigen::VectorXd& r, double inv_total) const {
    double s = 0.0;
    for (int i = 0; i < n_; ++i) s += w_[i] * cw_[i] * r[i] * r[i];
    return s * inv_total;
  }

  // A = sum v_i xt_i xt_i' and c = sum q_i xt_i with xt = (x, 1), or xt = x
  // without the intercept: the system of the expert's Gauss-Newton step and
  // of the gate's Newton step. Every entry is one vectorised sum, which for
  // the few columns of a prompt beats a general matrix product.
  void gram(bool intercept, Eigen::MatrixXd& A, Eigen::VectorXd& c) {
    for (int j = 0; j < d_; ++j) {
      const auto vx = v_.array() * x_.col(j).array();
      for (int i = j; i < d_; ++i) A(i, j) = (vx * x_.col(i).array()).sum();
      if (intercept) A(d_, j) = vx.sum();
      c[j] = (q_.array() * x_.col(j).array()).sum();
    }
    if (intercept) {
      A(d_, d_) = v_.sum();
      c[d_] = q_.sum();
    }
    A.triangularView<Eigen::StrictlyUpper>() = A.transpose();
  }

  // The Gauss-Newton system of the expert at the current eta: v = u g^2 and
  // q = u g r with g = dh/dz and u = w / sum(w).
  void expert_equations(double inv_total) {
    const auto u = w_.array() * cw_.array() * inv_total;
    const auto h = y_.array() - r_.array();
    switch (expert_) {
      case Expert::Linear:
        v_.array() = u;
        q_.array() = u * r_.array();
        break;
      case Expert::Sigmoid:
        q_.array() = u * h * (1.0 - h);
        v_.array() = q_.array() * h * (1.0 - h);
        q_.array() *= r_.array();
        break;
      case Expert::Tanh:
        q_.array() = u * (1.0 - h.square());
        v_.array() = q_.array() * (1.0 - h.square());
        q_.array() *= r_.array();
        break;
    }
    gram(intercept_, A_, c_);
  }

  // g = beta'x + tau.
  void gate_predict(const Eigen::VectorXd& gate, Eigen::VectorXd& g) const {
    g.noalias() = x_ * gate.head(d_);
    g.array() += gate[d_];
  }

  // The gate's M-step objective sum c_i (w_i g_i - log(1 + exp(g_i))), the
  // expected complete-data log-likelihood of the gate.
  double gate_objective(const Eigen::VectorXd& g) const {
    double total = 0.0;
    for (int i = 0; i < n_; ++i) total += cw_[i] * (w_[i] * g[i] - softplus(g[i]));
    return total;
  }

  // Newton steps of the weighted logistic regression of the soft labels w on
  // (x, 1): each step halved until the concave objective does not drop, and
  // none taken when even the full step promises no gain worth the name.
  void gate_m_step(Eigen::VectorXd& gate, CmoeDiagnostics& diag) {
    double current = gate_objective(g_);
    for (int step = 0; step < mstep_iter_; ++step) {
      for (int i = 0; i < n_; ++i) {
        const double s = 1.0 / (1.0 + std::exp(-g_[i]));
        v_[i] = cw_[i] * s * (1.0 - s);
        q_[i] = cw_[i] * (w_[i] - s);
      }
      gram(true, G_, gc_);
      const Eigen::VectorXd newton = G_.completeOrthogonalDecomposition().solve(gc_);
      const double promise = gc_.dot(newton);
      if (!newton.allFinite() || !(promise > 1e-13 * (1.0 + std::abs(current)))) return;
      double length = 1.0;
      bool moved = false;
      for (int attempt = 0; attempt < 40; ++attempt, length *= 0.5) {
        // projected onto the box: still accepted only if the objective does not drop
        const Eigen::VectorXd trial =
            (gate + length * newton).cwiseMax(-bounds_.gate).cwiseMin(bounds_.gate);
        gate_predict(trial, g_try_);
        const double value = gate_objective(g_try_);
        if (value >= current) {
          gate = trial;
          std::swap(g_, g_try_);
          moved = value > current;
          current = value;
          break;
        }
      }
      if (!moved) {
        ++diag.gate_stalls;
        return;
      }
      if (gate.cwiseAbs().maxCoeff() >= bounds_.gate) ++diag.gate_bound_hits;
      if (promise < 1e-10 * (1.0 + std::abs(current))) return;
    }
  }

  // Tries steps from eta, damped more after each failure; true if one lowered
  // the weighted sum of squares (then eta, z_, r_ and sse are updated). False
  // without trying when even the undamped step promises no decrease worth
  // the name: eta is then a stationary point of the weighted sum of squares.
  bool improve(Eigen::VectorXd& eta, double inv_total, double& sse) {
    const bool linear = expert_ == Expert::Linear;
    const Eigen::VectorXd newton = A_.completeOrthogonalDecomposition().solve(c_);
    if (!(c_.dot(newton) > 1e-15 * sse)) return false;
    const Eigen::VectorXd scale =
        A_.diagonal().cwiseMax(1e-12 * A_.diagonal().maxCoeff() + 1e-300);
    double mu = linear ? 0.0 : mu_;
    for (int attempt = 0; attempt < 30; ++attempt) {
      Eigen::MatrixXd m = A_;
      m.diagonal() += mu * scale;
      const Eigen::VectorXd delta =
          mu == 0.0 ? newton : Eigen::VectorXd(m.completeOrthogonalDecomposition().solve(c_));
      if (delta.allFinite()) {
        const Eigen::VectorXd trial = eta + delta;
        predict(trial, z_try_, r_try_);
        const double s = weighted_sse(r_try_, inv_total);
        if (s < sse) {
          eta = trial;
          std::swap(z_, z_try_);
          std::swap(r_, r_try_);
          sse = s;
          if (!linear) mu_ = std::max(mu * 0.1, 1e-12);
          return true;
        }
      }
      if (linear) return false;
      mu = mu == 0.0 ? 1e-8 : mu * 10.0;
    }
    return false;
  }

  Eigen::Ref<const Eigen::MatrixXd> x_;
  Eigen::Ref<const Eigen::VectorXd> y_;
  Eigen::Ref<const Eigen::VectorXd> logf0_;
  Expert expert_;
  bool intercept_, gated_;
  int mstep_iter_;
  CmoeBounds bounds_;
  bool avx2_;  // the exponentials through AVX2 (only where supported)
  int n_, d_, q_eta_;
  bool weighted_;
  double fixed_lambda_;
  Eigen::VectorXd z_, r_, w_, z_try_, r_try_;
  Eigen::VectorXd v_, q_;
  Eigen::VectorXd g_, g_try_;
  Eigen::VectorXd cw_;
  double case_total_;
  Eigen::MatrixXd A_;
  Eigen::VectorXd c_;
  Eigen::MatrixXd G_;
  Eigen::VectorXd gc_;
  double mu_ = 1e-3;
  // Summed weights and weighted squared residuals at w_ and r_, kept by the
  // E-step so that the M-step needs no pass of its own for them.
  double weight_ = 0.0, wsse_ = 0.0;
  using ChunkArray = Eigen::Array<double, Eigen::Dynamic, 1, Eigen::ColMajor, kChunk, 1>;
  ChunkArray la_, lb_, top_, e_, w_chunk_;
};

}  // namespace

namespace {

// The contaminated-MoE EM map for squarem_cycle(), in the free
// parametrisation (logit lambda or the gate (beta, tau), eta, log nu).
class CmoeMap {
 public:
  CmoeMap(Fitter& fitter, const CmoeBounds& bounds, CmoeDiagnostics& diag)
      : gate_size_(fitter.gate_size()), fitter_(fitter), bounds_(bounds), diag_(diag) {}

  // A jump whose variance or expert overflowed is a failed jump.
  double evaluate(const CmoeParams& p) {
    if (!std::isfinite(p.nu) || !p.eta.allFinite() || !p.gate.allFinite()) {
      return std::numeric_limits<double>::quiet_NaN();
    }
    fitter_.set_eta(p.eta);
    fitter_.set_gate(p.gate);
    return fitter_.e_step(p, nullptr);
  }

  double em_step(CmoeParams& p) {
    fitter_.m_step(p, diag_);
    return fitter_.e_step(p, nullptr);
  }

  Eigen::VectorXd to_free(const CmoeParams& p) const {
    const int q = static_cast<int>(p.eta.size());
    const int k = gate_size_;
    const int head = k > 0 ? k : 1;
    Eigen::VectorXd phi(head + q + 1);
    if (k > 0) {
      phi.head(k) = p.gate;
    } else {
      phi[0] = std::log(p.lambda) - std::log1p(-p.lambda);
    }
    phi.segment(head, q) = p.eta;
    phi[head + q] = std::log(p.nu);
    return phi;
  }

  CmoeParams from_free(const Eigen::VectorXd& phi) const {
    const int k = gate_size_;
    const int head = k > 0 ? k : 1;
    const int q = static_cast<int>(phi.size()) - head - 1;
    const double nu = std::max(std::exp(phi[head + q]), bounds_.nu);
    if (k > 0) {
      return CmoeParams{0.5, phi.segment(head, q), nu,
                        phi.head(k).cwiseMax(-bounds_.gate).cwiseMin(bounds_.gate)};
    }
    const double lambda = 1.0 / (1.0 + std::exp(-phi[0]));
    return CmoeParams{std::min(std::max(lambda, bounds_.lambda), 1.0 - bounds_.lambda),
                      phi.segment(head, q), nu, Eigen::VectorXd()};
  }

 private:
  const int gate_size_;
  Fitter& fitter_;
  CmoeBounds bounds_;
  CmoeDiagnostics& diag_;
};

}  // namespace

CmoeResult cmoe_em(const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const Eigen::Ref<const Eigen::VectorXd>& y,
                   const Eigen::Ref<const Eigen::VectorXd>& logf0, const CmoeStructure& model,
                   const CmoeParams& start, int max_iter, double tol, int mstep_iter,
                   bool accelerate, const CmoeBounds& bounds, const CmoeWeighting& weighting,
                   bool avx2) {
  Fitter fitter(x, y, logf0, model, mstep_iter, bounds, weighting, avx2);
  CmoeResult res{start, {}, Eigen::VectorXd(), 0, false, CmoeDiagnostics()};
  CmoeParams& p = res.params;
  // a start outside the gate's box begins on its boundary
  p.gate = p.gate.cwiseMax(-bounds.gate).cwiseMin(bounds.gate);
  CmoeMap map(fitter, bounds, res.diag);
  double ll = map.evaluate(p);
  res.loglik.push_back(ll);
  if (!std::isfinite(ll)) {
    res.diag.nonfinite = true;
    res.posterior = fitter.weights();
    return res;
  }
  double last_gain = std::numeric_limits<double>::quiet_NaN();
  for (int it = 1; it <= max_iter; ++it) {
    const CmoeParams previous = p;
    double em_gain = 0;
    const double next = accelerate ? squarem_cycle(map, p, ll, res.diag.squarem_fallbacks, em_gain)
                                   : map.em_step(p);
    if (!std::isfinite(next)) {
      res.diag.nonfinite = true;
      p = previous;
      map.evaluate(p);
      break;
    }
    res.loglik.push_back(next);
    res.iterations = it;
    const double gain = next - ll;
    if (gain < -1e-10 * (1.0 + std::abs(ll))) ++res.diag.decreases;
    ll = next;
    if (tol > 0 && converged(gain, last_gain, tol * (1.0 + std::abs(next)))) {
      res.converged = true;
      break;
    }
    last_gain = gain;
  }
  res.posterior = fitter.weights();
  return res;
}

double cmoe_log_density(const Eigen::Ref<const Eigen::MatrixXd>& x,
                        const Eigen::Ref<const Eigen::VectorXd>& y,
                        const Eigen::Ref<const Eigen::VectorXd>& logf0, const CmoeStructure& model,
                        const CmoeParams& p, Eigen::Ref<Eigen::VectorXd> logdens,
                        Eigen::Ref<Eigen::VectorXd> posterior, bool avx2) {
  const Eigen::VectorXd unweighted;
  Fitter fitter(x, y, logf0, model, 0, CmoeBounds{0.0, 0.0, 0.0}, CmoeWeighting{unweighted, 0.0},
                avx2);
  fitter.set_eta(p.eta);
  fitter.set_gate(p.gate);
  const double total = fitter.e_step(p, logdens.data());
  posterior = fitter.weights();
  return total;
}

CmoeParams cmoe_m_step(const Eigen::Ref<const Eigen::MatrixXd>& x,
                       const Eigen::Ref<const Eigen::VectorXd>& y,
                       const Eigen::Ref<const Eigen::VectorXd>& w, const CmoeStructure& model,
                       const CmoeParams& start, int mstep_iter, const CmoeBounds& bounds,
                       const Eigen::Ref<const Eigen::VectorXd>& case_weights, bool avx2) {
  const Eigen::VectorXd no_f0 = Eigen::VectorXd::Zero(x.rows());
  Fitter fitter(x, y, no_f0, model, mstep_iter, bounds, CmoeWeighting{case_weights, 0.0}, avx2);
  fitter.set_eta(start.eta);
  fitter.set_gate(start.gate);
  fitter.set_weights(w);
  CmoeParams p = start;
  CmoeDiagnostics diag;
  fitter.m_step(p, diag);
  return p;
}

}  // namespace moerates
