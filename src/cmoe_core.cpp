#include "cmoe_core.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace moerates {

namespace {

constexpr double kLog2Pi = 1.8378770664093454836;

// Below this summed prompt weight the weighted least squares has no data to
// speak of; the prompt's (eta, nu) are then kept rather than divided by ~0.
constexpr double kEmptyWeight = 1e-250;

inline double expert_value(Expert e, double z) {
  switch (e) {
    case Expert::Sigmoid:
      return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
    case Expert::Tanh:
      return std::tanh(z);
    case Expert::Linear:
      break;
  }
  return z;
}

// dh/dz written in terms of h, which is already at hand.
inline double expert_slope(Expert e, double h) {
  switch (e) {
    case Expert::Sigmoid:
      return h * (1.0 - h);
    case Expert::Tanh:
      return 1.0 - h * h;
    case Expert::Linear:
      break;
  }
  return 1.0;
}

// Holds the data and every n-sized buffer of a fit, allocated once. The
// invariant between calls: z_ and r_ are the linear predictor x'a + b and the
// residual y - h(z) at the current eta.
class Fitter {
 public:
  Fitter(const Eigen::Ref<const Eigen::MatrixXd>& x, const Eigen::Ref<const Eigen::VectorXd>& y,
         const Eigen::Ref<const Eigen::VectorXd>& logf0, Expert expert, int mstep_iter,
         const CmoeBounds& bounds)
      : x_(x), y_(y), logf0_(logf0), expert_(expert), mstep_iter_(mstep_iter),
        bounds_(bounds), n_(static_cast<int>(x.rows())), d_(static_cast<int>(x.cols())),
        z_(n_), r_(n_), w_(n_), z_try_(n_), r_try_(n_), jacobian_(n_, d_ + 1), scaled_slope_(n_), scaled_resid_(n_),
        A_(d_ + 1, d_ + 1), c_(d_ + 1) {}

  void set_eta(const Eigen::VectorXd& eta) { predict(eta, z_, r_); }

  // Posterior prompt weights into w_ and the log-likelihood; per-row
  // log-densities into logdens when it is given.
  double e_step(const CmoeParams& p, double* logdens) {
    const double log_lambda = std::log(p.lambda), log_rest = std::log1p(-p.lambda);
    const double constant = log_lambda - 0.5 * (kLog2Pi + std::log(p.nu));
    const double half_inv_nu = 0.5 / p.nu;
    double total = 0.0;
    for (int i = 0; i < n_; ++i) {
      const double lb = constant - r_[i] * r_[i] * half_inv_nu;
      const double la = log_rest + logf0_[i];
      const double ll = std::max(la, lb) + std::log1p(std::exp(-std::abs(la - lb)));
      w_[i] = std::exp(lb - ll);
      if (logdens) logdens[i] = ll;
      total += ll;
    }
    return total;
  }

  void set_weights(const Eigen::Ref<const Eigen::VectorXd>& w) { w_ = w; }
  const Eigen::VectorXd& weights() const { return w_; }

  // lambda = mean(w) within bounds; eta by weighted least squares (one exact
  // step for a linear expert, Levenberg-Marquardt steps otherwise, each
  // accepted only if it lowers the weighted residual sum of squares); nu the
  // weighted mean squared residual, floored.
  void m_step(CmoeParams& p, CmoeDiagnostics& diag) {
    const double total = w_.sum();
    double lambda = total / n_;
    if (lambda < bounds_.lambda || lambda > 1.0 - bounds_.lambda) {
      lambda = std::min(std::max(lambda, bounds_.lambda), 1.0 - bounds_.lambda);
      ++diag.lambda_bound_hits;
    }
    p.lambda = lambda;
    if (!(total > kEmptyWeight)) {
      ++diag.prompt_empty;
      return;
    }
    const double inv_total = 1.0 / total;
    double sse = weighted_sse(r_, inv_total);
    const int steps = expert_ == Expert::Linear ? 1 : mstep_iter_;
    for (int step = 0; step < steps; ++step) {
      normal_equations(inv_total);
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
  void predict(const Eigen::VectorXd& eta, Eigen::VectorXd& z, Eigen::VectorXd& r) const {
    z.noalias() = x_ * eta.head(d_);
    for (int i = 0; i < n_; ++i) {
      z[i] += eta[d_];
      r[i] = y_[i] - expert_value(expert_, z[i]);
    }
  }

  double weighted_sse(const Eigen::VectorXd& r, double inv_total) const {
    double s = 0.0;
    for (int i = 0; i < n_; ++i) s += w_[i] * r[i] * r[i];
    return s * inv_total;
  }

  // A = sum u_i g_i^2 xt_i xt_i', c = sum u_i g_i r_i xt_i with xt = (x, 1),
  // g = dh/dz and u = w / sum(w): the Gauss-Newton system at the current eta,
  // as J'J and J's with J = diag(sqrt(u) g) [x, 1] and s = sqrt(u) r.
  void normal_equations(double inv_total) {
    for (int i = 0; i < n_; ++i) {
      const double root_u = std::sqrt(w_[i] * inv_total);
      scaled_slope_[i] = root_u * expert_slope(expert_, y_[i] - r_[i]);
      scaled_resid_[i] = root_u * r_[i];
    }
    jacobian_.leftCols(d_) = x_.array().colwise() * scaled_slope_.array();
    jacobian_.col(d_) = scaled_slope_;
    A_.setZero();
    A_.selfadjointView<Eigen::Lower>().rankUpdate(jacobian_.transpose());
    A_.triangularView<Eigen::StrictlyUpper>() = A_.transpose();
    c_.noalias() = jacobian_.transpose() * scaled_resid_;
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
  int mstep_iter_;
  CmoeBounds bounds_;
  int n_, d_;
  Eigen::VectorXd z_, r_, w_, z_try_, r_try_;
  Eigen::MatrixXd jacobian_;
  Eigen::VectorXd scaled_slope_, scaled_resid_;
  Eigen::MatrixXd A_;
  Eigen::VectorXd c_;
  double mu_ = 1e-3;
};

}  // namespace

CmoeResult cmoe_em(const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const Eigen::Ref<const Eigen::VectorXd>& y,
                   const Eigen::Ref<const Eigen::VectorXd>& logf0, Expert expert,
                   const CmoeParams& start, int max_iter, double tol, int mstep_iter,
                   const CmoeBounds& bounds) {
  Fitter fitter(x, y, logf0, expert, mstep_iter, bounds);
  CmoeResult res{start, {}, Eigen::VectorXd(), 0, false, CmoeDiagnostics()};
  CmoeParams& p = res.params;
  fitter.set_eta(p.eta);
  double ll = fitter.e_step(p, nullptr);
  res.loglik.push_back(ll);
  if (!std::isfinite(ll)) {
    res.diag.nonfinite = true;
    res.posterior = fitter.weights();
    return res;
  }
  for (int it = 1; it <= max_iter; ++it) {
    const CmoeParams previous = p;
    fitter.m_step(p, res.diag);
    const double next = fitter.e_step(p, nullptr);
    if (!std::isfinite(next)) {
      res.diag.nonfinite = true;
      p = previous;
      fitter.set_eta(p.eta);
      fitter.e_step(p, nullptr);
      break;
    }
    res.loglik.push_back(next);
    res.iterations = it;
    if (next < ll - 1e-10 * (1.0 + std::abs(ll))) ++res.diag.decreases;
    const bool done = tol > 0 && std::abs(next - ll) <= tol * (1.0 + std::abs(next));
    ll = next;
    if (done) {
      res.converged = true;
      break;
    }
  }
  res.posterior = fitter.weights();
  return res;
}

double cmoe_log_density(const Eigen::Ref<const Eigen::MatrixXd>& x,
                        const Eigen::Ref<const Eigen::VectorXd>& y,
                        const Eigen::Ref<const Eigen::VectorXd>& logf0, Expert expert,
                        const CmoeParams& p, Eigen::Ref<Eigen::VectorXd> logdens,
                        Eigen::Ref<Eigen::VectorXd> posterior) {
  Fitter fitter(x, y, logf0, expert, 0, CmoeBounds{0.0, 0.0});
  fitter.set_eta(p.eta);
  const double total = fitter.e_step(p, logdens.data());
  posterior = fitter.weights();
  return total;
}

CmoeParams cmoe_m_step(const Eigen::Ref<const Eigen::MatrixXd>& x,
                       const Eigen::Ref<const Eigen::VectorXd>& y,
                       const Eigen::Ref<const Eigen::VectorXd>& w, Expert expert,
                       const CmoeParams& start, int mstep_iter, const CmoeBounds& bounds) {
  const Eigen::VectorXd no_f0 = Eigen::VectorXd::Zero(x.rows());
  Fitter fitter(x, y, no_f0, expert, mstep_iter, bounds);
  fitter.set_eta(start.eta);
  fitter.set_weights(w);
  CmoeParams p = start;
  CmoeDiagnostics diag;
  fitter.m_step(p, diag);
  return p;
}

}  // namespace moerates
