#include "gmoe_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

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

// What holds at a point for the Newton steps: the parametrisation (a
// weight on its floor leaves the weights' log-ratios and stays as it is),
// the box on theta, the parameters held by bounds other than a box, and
// whether there are any.
struct Frame {
  ThetaLayout layout;
  Eigen::VectorXd lo, hi;  // box on theta, +-inf where none
  std::vector<bool> held;  // held whatever the gradient
  bool held_other = false;
};

Frame frame_at(const GmoeParams& p, const Bounds& bounds) {
  const int k = p.k(), d = p.d();
  const BoundActivity act = bound_activity(p, bounds);
  std::vector<bool> weight_free(k);
  bool any_free = false;
  for (int j = 0; j < k; ++j) {
    weight_free[j] = !act.weight(j);
    any_free = any_free || weight_free[j];
  }
  if (!any_free) weight_free.assign(k, true);  // k * floor < 1 forbids it; be safe
  const ThetaLayout layout(k, d, weight_free);
  const int size = layout.size();
  const double inf = std::numeric_limits<double>::infinity();
  Frame frame{layout, Eigen::VectorXd::Constant(size, -inf), Eigen::VectorXd::Constant(size, inf),
              std::vector<bool>(size, false), false};
  for (int j = 0; j < k; ++j) {
    const int at = layout.block(j);
    frame.lo(at + layout.log_nu_at()) = std::log(bounds.nu);
    for (int l = 0; l < d; ++l) {
      frame.lo(at + layout.a_at(l)) = -bounds.a_max(l);
      frame.hi(at + layout.a_at(l)) = bounds.a_max(l);
    }
    // with one covariate the Gamma bound is a box on log R = -log(Gamma) / 2
    if (d == 1) frame.hi(at + layout.r_at(0, 0)) = -0.5 * std::log(bounds.gamma(0));
    if (d > 1 && act.gamma(j)) {
      for (int m = 0; m < d; ++m) {
        for (int l = m; l < d; ++l) frame.held[at + layout.r_at(l, m)] = true;
      }
    }
    if (act.b(j)) {
      for (int l = 0; l < d; ++l) frame.held[at + layout.a_at(l)] = true;
      frame.held[at + layout.b_at()] = true;
    }
    frame.held_other = frame.held_other || !weight_free[j] || (d > 1 && act.gamma(j)) || act.b(j);
  }
  return frame;
}

bool same_frame(const Frame& a, const Frame& b) {
  if (a.held != b.held || a.layout.size() != b.layout.size()) return false;
  for (int j = 0; j < a.layout.k(); ++j) {
    if (a.layout.weight_free(j) != b.layout.weight_free(j)) return false;
  }
  return true;
}

// Whether theta_i sits on its box bound.
bool on_bound(double v, double bound) {
  return std::isfinite(bound) && std::fabs(v - bound) <= 1e-9 * std::max(1.0, std::fabs(bound));
}

// The indices of theta free at a point: not held by the frame or for want
// of information (`idle`: the atoms of collapsed components), and not on a
// box bound beyond which the log-likelihood rises.
std::vector<int> free_indices(const Frame& frame, const std::vector<bool>& idle,
                              const Eigen::VectorXd& theta, const Eigen::VectorXd& g) {
  std::vector<int> free;
  for (int i = 0; i < theta.size(); ++i) {
    const bool pinned = (on_bound(theta(i), frame.lo(i)) && g(i) <= 0) ||
                        (on_bound(theta(i), frame.hi(i)) && g(i) >= 0);
    if (!frame.held[i] && !idle[i] && !pinned) free.push_back(i);
  }
  return free;
}

Eigen::VectorXd gather(const Eigen::VectorXd& v, const std::vector<int>& at) {
  Eigen::VectorXd out(at.size());
  for (size_t a = 0; a < at.size(); ++a) out(a) = v(at[a]);
  return out;
}

// The Newton phase of a fit. Its model of the log-likelihood at the current
// point is the score and either the exact observed information there (one
// information pass, about 16 times an E-step's cost) or that of an
// earlier point carried along the steps by BFGS updates from the scores of
// the E-steps (Fisher's identity gives them without a pass of their own);
// the information is computed afresh every kMaxAge steps, where the free
// parameters change, after a failed step, and where the updated model's
// decrement falls below kExactBelow. The stopping test is made with the
// exact information only.
class NewtonPhase {
 public:
  NewtonPhase(const ConstMat& x, const ConstVec& y, const FitOptions& options,
              const Bounds& bounds, GmoeMap& map, ComponentStats& stats, EmDiagnostics& diag)
      : x_(x), y_(y), options_(options), bounds_(bounds), map_(map), stats_(stats),
        best_stats_(stats), diag_(diag) {}

  // The Newton decrement at p, with one information pass.
  double decrement(const GmoeParams& p) {
    refresh(p);
    return QuadraticModel(minus_h_, gather(g_, free_)).decrement();
  }

  // One Newton iteration from p, whose log-likelihood is ll. Returns the new
  // log-likelihood; sets converged and remaining when the stopping test
  // passes at the returned p.
  double iterate(GmoeParams& p, double ll, bool& converged, double& remaining) {
    if (!valid_) refresh(p);
    for (int attempt = 0;; ++attempt) {
      const QuadraticModel model(minus_h_, gather(g_, free_));
      const double dec = model.decrement();
      // Near a maximum the model is the exact one, so that the path (and
      // the point of every stopping test) does not depend on tol: a fit
      // with a smaller tol runs on along the same path.
      if (!exact_ && dec < kExactBelow) {
        refresh(p);
        continue;
      }
      if (options_.tol > 0 && exact_ && dec < options_.tol) {
        return stop_test(p, ll, dec, converged, remaining);
      }
      if (attempt >= 3 || free_.empty()) break;
      double gained = ll;
      if (try_step(model, p, ll, gained)) return gained;
      // a failed step of an updated model is retried with the exact one
      if (!exact_) refresh(p);
    }
    // no step rose: a SQUAREM cycle instead (the safeguard)
    valid_ = false;
    const double ll_now = map_.evaluate(p);
    double em_gain = 0;
    return squarem_cycle(map_, p, ll_now, diag_.squarem_fallbacks, em_gain);
  }

 private:
  void refresh(const GmoeParams& p) {
    frame_ = std::make_unique<Frame>(frame_at(p, bounds_));
    ++diag_.passes;
    ++diag_.information_passes;
    const Information info = information(x_, y_, p, frame_->layout, options_.threads, options_.avx2);
    theta_ = frame_->layout.pack(p);
    g_ = info.score;
    const ThetaLayout& layout = frame_->layout;
    idle_.assign(layout.size(), false);
    for (int j = 0; j < layout.k(); ++j) {
      if (info.counts(j) >= kCollapsedFraction * x_.rows()) continue;
      for (int q = 0; q < layout.block_size(); ++q) idle_[layout.block(j) + q] = true;
      frame_->held_other = true;
    }
    free_ = free_indices(*frame_, idle_, theta_, g_);
    const int nf = static_cast<int>(free_.size());
    minus_h_.resize(nf, nf);
    for (int a = 0; a < nf; ++a) {
      for (int b = 0; b < nf; ++b) minus_h_(a, b) = -info.hessian(free_[a], free_[b]);
    }
    valid_ = exact_ = true;
    age_ = 0;
  }

  // The decrement is below tol at p with the exact information. Where a
  // bound other than a box holds, the held blocks answer to EM, which
  // handles every bound exactly: a plain EM step must gain less than tol.
  double stop_test(GmoeParams& p, double ll, double dec, bool& converged, double& remaining) {
    if (!frame_->held_other) {
      converged = true;
      remaining = dec;
      return ll;
    }
    valid_ = false;
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

  // A trust-region step from p; on success p and the model move to the new
  // point and `gained` holds its log-likelihood.
  bool try_step(const QuadraticModel& model, GmoeParams& p, double ll, double& gained) {
    const Frame& frame = *frame_;
    const int nf = static_cast<int>(free_.size());
    Eigen::VectorXd s = model.step(radius_);
    Eigen::VectorXd theta = theta_;
    auto place = [&](double mult) {
      for (int a = 0; a < nf; ++a) {
        const int i = free_[a];
        theta(i) = std::min(std::max(theta_(i) + mult * s(a), frame.lo(i)), frame.hi(i));
      }
    };
    place(1.0);
    for (int a = 0; a < nf; ++a) s(a) = theta(free_[a]) - theta_(free_[a]);
    GmoeParams trial = frame.layout.unpack(theta, p);
    for (int shrink = 0; shrink < 30 && !within_bounds(trial, bounds_); ++shrink) {
      s *= 0.5;
      place(1.0);
      trial = frame.layout.unpack(theta, p);
    }
    const double step_norm = s.norm();
    if (!within_bounds(trial, bounds_) || !(step_norm > 0)) {
      radius_ = std::max(step_norm, radius_) / 4;
      return false;
    }
    const double predicted = model.gain(s);
    const double ll_trial = map_.evaluate(trial);
    if (!std::isfinite(ll_trial)) {
      radius_ = step_norm / 4;
      return false;
    }
    const double ratio = (ll_trial - ll) / predicted;
    if (ratio > 0.75 && step_norm > 0.9 * radius_) {
      radius_ = 2 * radius_;
    } else if (ratio < 0.25) {
      radius_ = step_norm / 4;
    }
    if (!(ll_trial > ll)) return false;
    ++diag_.newton_steps;
    gained = ll_trial;
    p = trial;
    best_stats_ = stats_;
    // Where the log-likelihood rose more than the model predicted, the
    // model's maximiser falls short (a curved ridge): double the step while
    // the log-likelihood keeps rising, one E-step pass each.
    double mult = 1.0;
    for (int e = 0; e < 10 && ratio > 1.0; ++e) {
      place(2.0 * mult);
      const GmoeParams next = frame.layout.unpack(theta, p);
      if (!within_bounds(next, bounds_)) break;
      const double ll_next = map_.evaluate(next);
      if (!(ll_next > gained)) break;
      mult *= 2.0;
      gained = ll_next;
      p = next;
      best_stats_ = stats_;
    }
    // the model at the new point: the score from its E-step, the
    // information carried by a symmetric rank-one update
    const Frame next_frame = frame_at(p, bounds_);
    const Eigen::VectorXd theta_next = frame.layout.pack(p);
    const Eigen::VectorXd g_next = score_from_stats(best_stats_, p, frame.layout);
    if (!same_frame(frame, next_frame) || free_indices(frame, idle_, theta_next, g_next) != free_ ||
        ++age_ >= kMaxAge) {
      valid_ = false;
      return true;
    }
    const Eigen::VectorXd step = mult * s;
    const Eigen::VectorXd change = gather(g_, free_) - gather(g_next, free_);
    const Eigen::VectorXd bs = minus_h_ * step;
    const double ys = change.dot(step), sbs = step.dot(bs);
    if (ys > 1e-10 * change.norm() * step.norm() && sbs > 0) {
      minus_h_ += change * change.transpose() / ys - bs * bs.transpose() / sbs;
    }
    theta_ = theta_next;
    g_ = g_next;
    exact_ = false;
    return true;
  }

  // Steps after which the information is computed afresh.
  static constexpr int kMaxAge = 10;
  // A decrement of the updated model below which the exact one is computed.
  static constexpr double kExactBelow = 1e-4;

  ConstMat x_;
  ConstVec y_;
  const FitOptions& options_;
  const Bounds& bounds_;
  GmoeMap& map_;
  ComponentStats& stats_;   // the map's: the E-step statistics of its last evaluation
  ComponentStats best_stats_;
  EmDiagnostics& diag_;
  std::unique_ptr<Frame> frame_;
  Eigen::VectorXd theta_, g_;
  std::vector<int> free_;
  std::vector<bool> idle_;
  Eigen::MatrixXd minus_h_;  // the model's -H on the free indices
  bool valid_ = false, exact_ = false;
  int age_ = 0;
  double radius_ = 1.0;
};

}  // namespace

EmResult gmoe_fit(const ConstMat& x, const ConstVec& y, const GmoeParams& start,
                  const FitOptions& options, const Bounds& bounds) {
  EmResult res{start, {}, 0, false, kNaN, EmDiagnostics(start.k()), BoundActivity(start.k())};
  ComponentStats stats(start, options.avx2);
  GmoeMap map(x, y, bounds, options.threads, stats, res.diag);
  NewtonPhase newton_phase(x, y, options, bounds, map, stats, res.diag);
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
      next = newton_phase.iterate(res.params, ll, converged, remaining);
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
        const double dec = newton_phase.decrement(res.params);
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
