// The GMoE fit: EM, SQUAREM and Newton steps on the analytic observed
// information, within the bounds of a compact parameter space, stopped by a
// test that means the same at every sample size.
#ifndef MOERATES_GMOE_FIT_H
#define MOERATES_GMOE_FIT_H

#include <limits>
#include <vector>

#include "gmoe_core.h"

namespace moerates {

enum class Scheme {
  kEm,       // plain EM steps
  kSquarem,  // SQUAREM cycles (squarem.h)
  kNewton    // SQUAREM cycles, then trust-region Newton steps with EM as safeguard
};

struct FitOptions {
  int max_iter = 2000;
  // Stop where the estimated remaining gain in log-likelihood (the Newton
  // decrement over the parameters not held at a bound) is below tol; 0:
  // never.
  double tol = 1e-6;
  Scheme scheme = Scheme::kNewton;
  int threads = 1;
  bool avx2 = false;
  // kNewton leaves SQUAREM once a cycle's first EM step gains less than this.
  double newton_switch = 1.0;
};

struct EmResult {
  GmoeParams params;
  std::vector<double> loglik;  // at the start and after every iteration
  int iterations = 0;
  bool converged = false;
  // The Newton decrement at the returned parameters where the stopping
  // test computed it there; NaN otherwise.
  double remaining = std::numeric_limits<double>::quiet_NaN();
  EmDiagnostics diag;
  BoundActivity active;  // bounds active at the returned parameters
};

// Fits from `start` (which lies within `bounds`). Each iteration is a plain
// EM step (kEm, and whatever the scheme when max_iter = 1: the published
// one-step procedure), a SQUAREM cycle, or in kNewton, once SQUAREM has
// come near a maximum, a Newton iteration: the observed information at the
// current point (one pass), then steps of a trust region on the
// parameters not held at a bound, each judged by one E-step pass; if none
// raises the log-likelihood, a SQUAREM cycle is made instead. So the
// log-likelihood never decreases. The fit stops at a point where the Newton
// decrement is below tol (when a bound other than a box on single
// parameters holds there, also a plain EM step must gain less than tol);
// kEm and kSquarem test this where one EM step gains less than tol, at
// iterations spaced geometrically so that the tests cost a few passes. A
// start whose log-likelihood is not finite is returned at once, with
// diag.nonfinite set and no iteration.
EmResult gmoe_fit(const ConstMat& x, const ConstVec& y, const GmoeParams& start,
                  const FitOptions& options, const Bounds& bounds);

}  // namespace moerates

#endif
