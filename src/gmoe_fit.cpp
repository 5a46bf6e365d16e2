#include "gmoe_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>
#include <cstdio>
#include <cstdlib>

#include "gmoe_newton.h"
#include "squarem.h"

namespace moerates {

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// The GMoE EM map for squarem_cycle(). Free parametrisation: log weights
// (normalised on the way back), c, a, b, log nu, and each Gamma_j by the
// log-Cholesky factor (log of the diagonal, then the strict lower
// triangle), so that every jump has weights on the simplex, positive
// definite covariances and positive variances; the EM step from a jump
// brings it back within the bounds.
class GmoeMap {
 public:
  GmoeMap(const ConstMat& x, const ConstVec& y, const Bounds& bounds, int threads,
          ComponentStats& stats, EmDiagnostics& diag)
      : x_(x), y_(y), bounds_(bounds), threads_(threads), stats_(stats), diag_(diag),
        n_(static_cast<int>(x.rows())) {}

  void set_iteration(int iteration) { iteration_ = iteration; }
  // A jump can land where the kernel refuses the parameters (a weight that
  // underflowed, a covariance that is numerically singular): that is a
  // failed jump, not an error.
  double evaluate(const GmoeParams& p) {
    ++diag_.passes;
    try {
      return e_step(x_, y_, p, stats_, threads_);
    } catch (const std::domain_error&) {
      return kNaN;
    }
  }
  double em_step(GmoeParams& p) {
    m_step(stats_, n_, bounds_, iteration_, p, diag_);
    ++diag_.passes;
    return e_step(x_, y_, p, stats_, threads_);
  }

  Eigen::VectorXd to_free(const GmoeParams& p) const {
    const int k = p.k(), d = p.d(), tri = d * (d + 1) / 2;
    Eigen::VectorXd phi(k * (2 * d + 3 + tri));
    int at = 0;
    phi.segment(at, k) = p.pi.array().log().matrix();
    at += k;
    phi.segment(at, k * d) = Eigen::Map<const Eigen::VectorXd>(p.c.data(), k * d);
    at += k * d;
    phi.segment(at, k * d) = Eigen::Map<const Eigen::VectorXd>(p.a.data(), k * d);
    at += k * d;
    phi.segment(at, k) = p.b;
    at += k;
    phi.segment(at, k) = p.nu.array().log().matrix();
    at += k;
    for (int j = 0; j < k; ++j) {
      const Eigen::MatrixXd l = p.gamma(j).llt().matrixL();
      for (int r = 0; r < d; ++r) phi[at++] = std::log(l(r, r));
      for (int c = 0; c < d; ++c) {
        for (int r = c + 1; r < d; ++r) phi[at++] = l(r, c);
      }
    }
    return phi;
  }

  GmoeParams from_free(const Eigen::VectorXd& phi) const {
    const int k = static_cast<int>(stats_.s0.size()), d = static_cast<int>(x_.cols());
    GmoeParams p(k, d);
    int at = 0;
    const Eigen::ArrayXd logw = phi.segment(at, k).array();
    p.pi = (logw - logw.maxCoeff()).exp().matrix();
    p.pi /= p.pi.sum();
    at += k;
    p.c = Eigen::Map<const Eigen::MatrixXd>(phi.data() + at, k, d);
    at += k * d;
    p.a = Eigen::Map<const Eigen::MatrixXd>(phi.data() + at, k, d);
    at += k * d;
    p.b = phi.segment(at, k);
    at += k;
    p.nu = phi.segment(at, k).array().exp().matrix();
    at += k;
    Eigen::MatrixXd l(d, d);
    for (int j = 0; j < k; ++j) {
      l.setZero();
      for (int r = 0; r < d; ++r) l(r, r) = std::exp(phi[at++]);
      for (int c = 0; c < d; ++c) {
        for (int r = c + 1; r < d; ++r) l(r, c) = phi[at++];
      }
      p.gamma(j) = l * l.transpose();
    }
    return p;
  }

 private:
  ConstMat x_;
  ConstVec y_;
  const Bounds& bounds_;
  int threads_;
  ComponentStats& stats_;
  EmDiagnostics& diag_;
  int n_;
  int iteration_ = 0;
};

// The Newton decrement at p over the parameters that are free there, with
// what the Newton iteration needs to step from p.
struct NewtonPoint {
  ThetaLayout layout;
  Eigen::VectorXd theta, lo, hi;  // theta and its box (+-inf where none)
  std::vector<int> free;          // indices of theta not held
  bool held_other = false;        // a bound other than a box holds somewhere
  Information info;
  Eigen::VectorXd score;  // on the free indices
  Eigen::MatrixXd minus_hessian;
};

// Slack within which a parameter counts as on its box bound.
bool on_bound(double v, double bound) {
  return std::isfinite(bound) && std::fabs(v - bound) <= 1e-9 * std::max(1.0, std::fabs(bound));
}

NewtonPoint newton_point(const ConstMat& x, const ConstVec& y, const GmoeParams& p,
                         const Bounds& bounds, const FitOptions& options, EmDiagnostics& diag) {
  const int k = p.k(), d = p.d();
  const BoundActivity act = bound_activity(p, bounds);
  std::vector<bool> weight_free(k);
  bool any_free = false;
  for (int j = 0; j < k; ++j) {
    weight_free[j] = !act.weight(j);
    any_free = any_free || weight_free[j];
  }
  // every weight at its floor cannot happen (k * floor < 1); be safe
  if (!any_free) weight_free.assign(k, true);
  NewtonPoint point{ThetaLayout(k, d, weight_free), {}, {}, {}, {}, false, {}, {}, {}};
  const ThetaLayout& layout = point.layout;
  ++diag.passes;
  ++diag.information_passes;
  point.info = information(x, y, p, layout, options.threads, options.avx2);
  point.theta = layout.pack(p);
  const int size = layout.size();
  const double inf = std::numeric_limits<double>::infinity();
  point.lo = Eigen::VectorXd::Constant(size, -inf);
  point.hi = Eigen::VectorXd::Constant(size, inf);
  std::vector<bool> held(size, false);
  for (int j = 0; j < k; ++j) {
    const int at = layout.block(j);
    point.lo(at + layout.log_nu_at()) = std::log(bounds.nu);
    for (int l = 0; l < d; ++l) {
      point.lo(at + layout.a_at(l)) = -bounds.a_max(l);
      point.hi(at + layout.a_at(l)) = bounds.a_max(l);
    }
    // with one covariate the Gamma bound is a box on log R = -log(Gamma) / 2
    if (d == 1) point.hi(at + layout.r_at(0, 0)) = -0.5 * std::log(bounds.gamma(0));
    const bool whole = !weight_free[j];  // a collapsed component is held
    for (int q = 0; q < layout.block_size(); ++q) held[at + q] = whole;
    if (d > 1 && act.gamma(j)) {
      for (int m = 0; m < d; ++m) {
        for (int l = m; l < d; ++l) held[at + layout.r_at(l, m)] = true;
      }
    }
    if (act.b(j)) {
      for (int l = 0; l < d; ++l) held[at + layout.a_at(l)] = true;
      held[at + layout.b_at()] = true;
    }
    point.held_other = point.held_other || whole || (d > 1 && act.gamma(j)) || act.b(j);
  }
  // a box bound holds a parameter when the log-likelihood rises beyond it
  const Eigen::VectorXd& g = point.info.score;
  for (int i = 0; i < size; ++i) {
    if ((on_bound(point.theta(i), point.lo(i)) && g(i) <= 0) ||
        (on_bound(point.theta(i), point.hi(i)) && g(i) >= 0)) {
      held[i] = true;
    }
    if (!held[i]) point.free.push_back(i);
  }
  const int nf = static_cast<int>(point.free.size());
  point.score.resize(nf);
  point.minus_hessian.resize(nf, nf);
  for (int a = 0; a < nf; ++a) {
    point.score(a) = g(point.free[a]);
    for (int b = 0; b < nf; ++b) point.minus_hessian(a, b) = -point.info.hessian(point.free[a], point.free[b]);
  }
  return point;
}

// The fit's state between iterations.
class Fitter {
 public:
  Fitter(const ConstMat& x, const ConstVec& y, const FitOptions& options, const Bounds& bounds,
         GmoeMap& map, EmDiagnostics& diag)
      : x_(x), y_(y), options_(options), bounds_(bounds), map_(map), diag_(diag) {}

  // The Newton decrement at p, with one information pass.
  double decrement(const GmoeParams& p) {
    const NewtonPoint point = newton_point(x_, y_, p, bounds_, options_, diag_);
    return QuadraticModel(point.minus_hessian, point.score).decrement();
  }

  // One Newton iteration from p, whose log-likelihood is ll. Returns the new log-likelihood; sets converged and remaining when the
  // stopping test passes at the returned p.
  double newton_iteration(GmoeParams& p, double ll, bool& converged, double& remaining) {
    const NewtonPoint point = newton_point(x_, y_, p, bounds_, options_, diag_);
    const QuadraticModel model(point.minus_hessian, point.score);
    const double dec = model.decrement();
    if (options_.tol > 0 && dec < options_.tol) {
      if (!point.held_other) {
        converged = true;
        remaining = dec;
        return ll;
      }
      // the held blocks answer to EM, which handles every bound exactly
      map_.evaluate(p);
      GmoeParams next = p;
      const double ll_next = map_.em_step(next);
      converged = !(ll_next - ll >= options_.tol);
      if (converged) remaining = dec;
      if (std::isfinite(ll_next) && ll_next >= ll) {
        p = next;
        return ll_next;
      }
      return ll;
    }
    const int nf = static_cast<int>(point.free.size());
    for (int attempt = 0; attempt < 3 && nf > 0; ++attempt) {
      Eigen::VectorXd s = model.step(radius_);
      Eigen::VectorXd theta = point.theta;
      for (int a = 0; a < nf; ++a) {
        const int i = point.free[a];
        theta(i) = std::min(std::max(theta(i) + s(a), point.lo(i)), point.hi(i));
        s(a) = theta(i) - point.theta(i);
      }
      GmoeParams trial = point.layout.unpack(theta, p);
      for (int shrink = 0; shrink < 30 && !within_bounds(trial, bounds_); ++shrink) {
        s *= 0.5;
        for (int a = 0; a < nf; ++a) theta(point.free[a]) = point.theta(point.free[a]) + s(a);
        trial = point.layout.unpack(theta, p);
      }
      const double step_norm = s.norm();
      if (!within_bounds(trial, bounds_) || !(step_norm > 0)) {
        radius_ = std::max(step_norm, radius_) / 4;
        continue;
      }
      const double predicted = model.gain(s);
      const double ll_trial = map_.evaluate(trial);
      if (!std::isfinite(ll_trial)) {
        radius_ = step_norm / 4;
        continue;
      }
      const double ratio = (ll_trial - ll) / predicted;
      if (std::getenv("MLE_DEBUG")) std::fprintf(stderr, "nf %d dec %.3g lmin %.3g radius %.3g step %.3g pred %.3g gain %.3g ratio %.3f\n", nf, dec, model.min_eigenvalue(), radius_, step_norm, predicted, ll_trial - ll, ratio);
      if (ratio > 0.75 && step_norm > 0.9 * radius_) {
        radius_ = 2 * radius_;
      } else if (ratio < 0.25) {
        radius_ = step_norm / 4;
      }
      if (ll_trial > ll) {
        ++diag_.newton_steps;
        double best = ll_trial;
        p = trial;
        // Where the log-likelihood rose more than the model predicted, the
        // model's maximiser falls short (a curved ridge): double the step
        // while the log-likelihood keeps rising, one E-step pass each.
        double mult = 2.0;
        for (int e = 0; e < 10 && ratio > extrapolate_ratio(); ++e, mult *= 2.0) {
          Eigen::VectorXd far = point.theta;
          for (int a = 0; a < nf; ++a) {
            const int i = point.free[a];
            far(i) = std::min(std::max(far(i) + mult * s(a), point.lo(i)), point.hi(i));
          }
          const GmoeParams next = point.layout.unpack(far, p);
          if (!within_bounds(next, bounds_)) break;
          const double ll_next = map_.evaluate(next);
          if (!(ll_next > best)) break;
          best = ll_next;
          p = next;
        }
        return best;
      }
    }
    // no step rose: a SQUAREM cycle instead (the safeguard)
    const double ll_now = map_.evaluate(p);
    double em_gain = 0;
    return squarem_cycle(map_, p, ll_now, diag_.squarem_fallbacks, em_gain);
  }

 private:
  ConstMat x_;
  ConstVec y_;
  const FitOptions& options_;
  const Bounds& bounds_;
  GmoeMap& map_;
  EmDiagnostics& diag_;
  double radius_ = 1.0;
  static double extrapolate_ratio() {
    const char* v = std::getenv("MLE_EXTRA");
    return v ? std::atof(v) : 1.0;
  }
};

}  // namespace

EmResult gmoe_fit(const ConstMat& x, const ConstVec& y, const GmoeParams& start,
                  const FitOptions& options, const Bounds& bounds) {
  EmResult res{start, {}, 0, false, kNaN, EmDiagnostics(start.k()), BoundActivity(start.k())};
  ComponentStats stats(start, options.avx2);
  GmoeMap map(x, y, bounds, options.threads, stats, res.diag);
  Fitter fitter(x, y, options, bounds, map, res.diag);
  const int max_iter = options.max_iter;
  const double tol = options.tol;
  res.loglik.reserve(static_cast<size_t>(std::min(max_iter, 100000)) + 1);
  // max_iter = 1 is the published one-step procedure: one plain EM step.
  const bool one_step = max_iter == 1;
  const bool squarem = options.scheme != Scheme::kEm && !one_step;
  bool newton = false;

  // Not map.evaluate(): an invalid start is the caller's error, reported as such.
  double ll = e_step(x, y, res.params, stats, options.threads);
  res.diag.passes = 1;
  res.loglik.push_back(ll);
  if (!std::isfinite(ll)) {
    res.diag.nonfinite = true;
    res.active = bound_activity(res.params, bounds);
    return res;
  }
  int next_test = 1;
  GmoeParams previous = start;
  for (int it = 1; it <= max_iter; ++it) {
    previous = res.params;
    map.set_iteration(it);
    double em_gain = kNaN, next;
    bool converged = false;
    double remaining = kNaN;
    if (newton) {
      next = fitter.newton_iteration(res.params, ll, converged, remaining);
    } else if (squarem) {
      next = squarem_cycle(map, res.params, ll, res.diag.squarem_fallbacks, em_gain);
    } else {
      next = map.em_step(res.params);
      em_gain = next - ll;
    }
    if (!std::isfinite(next)) {
      res.diag.nonfinite = true;
      res.params = previous;
      break;
    }
    res.loglik.push_back(next);
    res.iterations = it;
    if (next < ll - 1e-10 * (1.0 + std::fabs(ll))) ++res.diag.decreases;
    if (converged) {
      res.converged = true;
      res.remaining = remaining;
      break;
    }
    if (!newton && !one_step) {
      if (options.scheme == Scheme::kNewton) {
        newton = em_gain < options.newton_switch;
      } else if (tol > 0 && em_gain < tol && it >= next_test) {
        const double dec = fitter.decrement(res.params);
        if (dec < tol) {
          res.converged = true;
          res.remaining = dec;
          break;
        }
        next_test = std::max(it + 1, static_cast<int>(std::ceil(1.25 * it)));
      }
    }
    ll = next;
  }
  res.active = bound_activity(res.params, bounds);
  return res;
}

}  // namespace moerates
